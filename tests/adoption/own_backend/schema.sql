-- pg_dump --schema-only of production, trimmed. notes.title was created as text.
CREATE TABLE notebooks (
    id uuid NOT NULL PRIMARY KEY,
    name varchar(60) NOT NULL,
    CONSTRAINT ck_notebooks_name CHECK (char_length(name) >= 1)
);
CREATE TABLE notes (
    id uuid NOT NULL PRIMARY KEY,
    notebook_id uuid NOT NULL REFERENCES notebooks (id) ON DELETE CASCADE,
    title text NOT NULL,
    CONSTRAINT ck_notes_title CHECK (char_length(title) >= 1)
);
CREATE INDEX ix_notes_notebook_id ON notes (notebook_id);
