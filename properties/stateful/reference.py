"""A state machine written for the reference backend's domain: users sign up, add tasks and
complete, reopen or rename them, start conversations and post messages; users, tasks and
conversations are deleted. Every action runs through the ORM or through raw SQL (``via``), with
valid and violating data (a taken email, a blank title, an unknown role, a reference to a row a
cascade removed).

After every step the database equals a plain-Python model of the domain. Deleting a user
leaves nothing of theirs; deleting a conversation leaves none of its messages. ``created_at``
never changes; ``updated_at`` moves strictly forward on every UPDATE of a task or conversation
and never otherwise.
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, consumes, invariant, multiple, rule
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from schemafuzz.findings import Finding, describe_value
from schemafuzz.harness import diagnostics_of
from schemafuzz.outcomes import Outcome, attempt
from schemafuzz.strategies import valid

from ._base import ORM_ERRORS, MachineContext, SandboxMachine, orm_refusal
from ._base import a_via as _a
from ._state import Ref

__all__ = ["reference_machine"]

VIA = st.sampled_from(["orm", "sql"])
# Python's whitespace (what "blank after trim" means for the models), as blank values.
BLANKS = st.text(alphabet=" \t\n\u00a0\u2003\u3000", min_size=1, max_size=5)


@dataclass
class TaskState:
    user: uuid.UUID
    title: str
    completed: bool


# The machine runs only when the configuration says the reference backend is under test.
REFERENCE_MODELS = "backend.app.models"


def _reference() -> ModuleType:
    """The reference backend's models, imported when first needed (only this machine
    needs them, and only when they are the models under test)."""
    return importlib.import_module(REFERENCE_MODELS)


def _texts_of(model: type[Any], attribute: str) -> st.SearchStrategy[str]:
    """Values of one text field that the model accepts (drawn from ``valid(model)``)."""
    return valid(model).map(lambda instance: getattr(instance, attribute))


class ReferenceMachine(SandboxMachine):
    """The domain machine; ``reference_machine`` binds it to a sandbox and the models."""

    users = Bundle("users")
    tasks = Bundle("tasks")
    conversations = Bundle("conversations")
    messages = Bundle("messages")

    def __init__(self) -> None:
        super().__init__()
        self.user_emails: dict[uuid.UUID, str] = {}
        self.task_states: dict[uuid.UUID, TaskState] = {}
        self.conversation_owners: dict[uuid.UUID, uuid.UUID] = {}
        self.message_states: dict[uuid.UUID, tuple[uuid.UUID, str, str]] = {}
        self.created: dict[tuple[str, uuid.UUID], dt.datetime] = {}
        self.updated: dict[tuple[str, uuid.UUID], dt.datetime] = {}
        self._refused_by: str | None = None  # the constraint named by the last refusal

    # ------------------------------------------------------------------ plumbing
    def _sql(self, statement: str, **params: Any) -> Outcome:
        outcome = attempt(self.db, sa.text(statement).bindparams(**params))
        self._refused_by = outcome.constraint_name
        return outcome

    def _orm(self, work: Callable[[Session], Any]) -> tuple[str | None, Any]:
        """Run ``work`` in a session and commit; the refusal (SQLSTATE) or None, and what
        ``work`` returned."""
        with self.orm() as session:
            try:
                result = work(session)
                session.commit()
            except ORM_ERRORS as error:
                session.rollback()
                self._refused_by, _ = diagnostics_of(error)
                return orm_refusal(error), None
        return None, result

    def _stamps(self, table: str, key: uuid.UUID) -> sa.Row[Any] | None:
        columns = "created_at" if table == "messages" else "created_at, updated_at"
        return self.db.connection.execute(
            sa.text(f"SELECT {columns} FROM {table} WHERE id = :id"), {"id": key}).first()

    def _remember(self, table: str, key: uuid.UUID) -> None:
        row = self._stamps(table, key)
        assert row is not None
        self.created[(table, key)] = row.created_at
        if table != "messages":
            self.updated[(table, key)] = row.updated_at

    def _expect(self, kind: str, action: str, table: str, column: str, rule_name: str,
                expected: str | None, got: str | None, value: Any = None) -> None:
        """Fail unless the step ended as expected (None: carried out; else the SQLSTATE);
        ``kind`` names the step for the run's counts, ``action`` describes it in full."""
        self.count(f"{kind}: {got or 'done'}")
        note(f"{action}: {got or 'done'} (expected {expected or 'done'})")
        if got == expected:
            return
        fk = _foreign_key_named(self._refused_by) if got == "23503" else None
        if rule_name == "delete" and fk is not None:
            # A delete refused by a child's FK: the cascade the models declare is missing.
            self.fail(Finding(str(fk.table.name), ",".join(c.name for c in fk.columns),
                              f"{fk.name} ON DELETE {fk.ondelete or 'NO ACTION'}",
                              ["metadata", "database"],
                              f"{action} was refused with 23503 by {fk.name}: everything of "
                              f"theirs should go with it (the models declare ON DELETE "
                              f"{fk.ondelete or 'NO ACTION'})", value), "on_delete",
                      self.context.cascades)
        self.fail(Finding(table, column, rule_name, ["metadata", "database"],
                          f"{action} gave {got or 'success'}, expected "
                          f"{expected or 'success'}", value))

    def _check_update(self, table: str, key: uuid.UUID, reached: bool, via: str) -> None:
        row = self._stamps(table, key)
        assert row is not None
        before_created, before_updated = self.created[(table, key)], self.updated[(table, key)]
        if row.created_at != before_created:
            self.fail(Finding(table, "created_at", "created_at is immutable", ["database"],
                              f"{_a(via)} update changed created_at from {before_created} to "
                              f"{row.created_at}"))
        if reached and not row.updated_at > before_updated:
            self.fail(Finding(table, "updated_at", "updated_at advances on update",
                              ["database"],
                              f"{_a(via)} update left updated_at at {row.updated_at} (was "
                              f"{before_updated}): it must move forward on every update"))
        self.updated[(table, key)] = row.updated_at

    # ------------------------------------------------------------------ users
    @rule(target=users, email=st.deferred(lambda: _texts_of(_reference().User, "email")),
          via=VIA)
    def sign_up(self, email: str, via: str) -> Any:
        taken = email in self.user_emails.values()
        key = uuid.uuid4()
        if via == "sql":
            got = self._sql("INSERT INTO users (id, email) VALUES (:id, :email)",
                            id=key, email=email).sqlstate
        else:
            user = _reference().User.model_validate({"id": key, "email": email})
            got, _ = self._orm(lambda s: s.add(user))
        self._expect(f"sign up via {via}", f"sign up {describe_value(email, 20)} via {via}",
                     "users", "email", "uq_users_email", "23505" if taken else None, got, email)
        if got:
            return multiple()
        self.user_emails[key] = email
        self._remember("users", key)
        return Ref("users", (key,))

    @rule(user=users, via=VIA)
    def sign_up_with_a_taken_email(self, user: Ref, via: str) -> None:
        email = self.user_emails.get(user.key[0])
        if email is None:
            return  # the account is gone, so is its email
        if via == "sql":
            got = self._sql("INSERT INTO users (email) VALUES (:email)", email=email).sqlstate
        else:
            duplicate = _reference().User.model_validate({"email": email})
            got, _ = self._orm(lambda s: s.add(duplicate))
        self._expect(f"sign up with a taken email via {via}",
                     f"sign up again as {user!r} via {via}", "users", "email",
                     "uq_users_email", "23505", got, email)

    @rule(user=consumes(users), via=VIA)
    def delete_user(self, user: Ref, via: str) -> None:
        key = user.key[0]
        if via == "sql":
            got = self._sql("DELETE FROM users WHERE id = :id", id=key).sqlstate
        else:
            got, _ = self._orm(lambda s: _delete(s, _reference().User, key))
        self._expect(f"delete user via {via}", f"delete {user!r} via {via}", "users", "id",
                     "delete", None, got, key)
        if key not in self.user_emails:
            return
        conversations = [c for c, owner in self.conversation_owners.items() if owner == key]
        leftovers = self.db.connection.execute(sa.text(
            "SELECT (SELECT count(*) FROM tasks WHERE user_id = :u) AS tasks,"
            " (SELECT count(*) FROM conversations WHERE user_id = :u) AS conversations,"
            " (SELECT count(*) FROM messages m JOIN conversations c"
            "   ON c.id = m.conversation_id WHERE c.user_id = :u) AS messages"), {"u": key}).one()
        owned = sum(t.user == key for t in self.task_states.values()) + len(conversations) + sum(
            m[0] in conversations for m in self.message_states.values())
        tally = self.context.cascades
        tally.add("users deleted with their rows")
        tally.add("rows removed with their user", owned)
        for table, fk in (("tasks", "fk_tasks_user_id_users"),
                          ("conversations", "fk_conversations_user_id_users")):
            if getattr(leftovers, table):
                self.fail(Finding(table, "user_id", f"{fk} ON DELETE CASCADE",
                                  ["metadata", "database"],
                                  f"after {_a(via)} delete of their user, "
                                  f"{getattr(leftovers, table)} {table} row(s) of theirs remain",
                                  key), "on_delete", tally)
        del self.user_emails[key]
        for task in [t for t, s in self.task_states.items() if s.user == key]:
            del self.task_states[task]
        for conversation in conversations:
            self._forget_conversation(conversation)

    # ------------------------------------------------------------------ tasks
    @rule(target=tasks, user=users,
          title=st.deferred(lambda: _texts_of(_reference().Task, "title")), via=VIA)
    def add_task(self, user: Ref, title: str, via: str) -> Any:
        owner, key = user.key[0], uuid.uuid4()
        if via == "sql":
            got = self._sql("INSERT INTO tasks (id, user_id, title) VALUES (:id, :u, :t)",
                            id=key, u=owner, t=title).sqlstate
        else:
            task = _reference().Task.model_validate({"id": key, "user_id": owner, "title": title})
            got, _ = self._orm(lambda s: s.add(task))
        expected = None if owner in self.user_emails else "23503"
        self._expect(f"add task via {via}", f"add a task for {user!r} via {via}", "tasks",
                     "user_id", "fk_tasks_user_id_users", expected, got, owner)
        if got:
            return multiple()
        self.task_states[key] = TaskState(owner, title, False)
        self._remember("tasks", key)
        return Ref("tasks", (key,))

    def _set_task(self, task: Ref, via: str, action: str, column: str, value: Any,
                  expected_when_present: str | None = None) -> None:
        key = task.key[0]
        state = self.task_states.get(key)
        if via == "sql":
            outcome = self._sql(f"UPDATE tasks SET {column} = :v WHERE id = :id RETURNING id",
                                v=value, id=key)
            got, reached = outcome.sqlstate, outcome.row is not None
        else:
            def work(session: Session) -> bool:
                obj = session.get(_reference().Task, key)
                if obj is None:
                    return False
                setattr(obj, column, value)
                return bool(sa.inspect(obj).attrs[column].history.has_changes())
            got, changed = self._orm(work)
            reached = bool(changed)
        expected = expected_when_present if state is not None else None
        self._expect(f"{action} task via {via}", f"{action} {task!r} via {via}", "tasks", column,
                     "ck_tasks_title_not_blank" if expected else "update", expected, got, value)
        if state is None:
            if reached:
                self.fail(Finding("tasks", "id", "fk_tasks_user_id_users ON DELETE CASCADE",
                                  ["database"], f"{_a(via)} update reached a task that the model "
                                  "says was deleted", key))
            return
        if got is None:
            setattr(state, column, value)
            self._check_update("tasks", key, reached, via)

    @rule(task=tasks, done=st.booleans(), via=VIA)
    def complete_or_reopen_task(self, task: Ref, done: bool, via: str) -> None:
        self._set_task(task, via, "complete" if done else "reopen", "completed", done)

    @rule(task=tasks, title=st.deferred(lambda: _texts_of(_reference().Task, "title")),
          via=VIA)
    def rename_task(self, task: Ref, title: str, via: str) -> None:
        self._set_task(task, via, "rename", "title", title)

    @rule(task=tasks, blank=BLANKS, via=VIA)
    def blank_out_task_title(self, task: Ref, blank: str, via: str) -> None:
        self._set_task(task, via, "blank out the title of", "title", blank, "23514")

    @rule(task=consumes(tasks), via=VIA)
    def delete_task(self, task: Ref, via: str) -> None:
        key = task.key[0]
        if via == "sql":
            got = self._sql("DELETE FROM tasks WHERE id = :id", id=key).sqlstate
        else:
            got, _ = self._orm(lambda s: _delete(s, _reference().Task, key))
        self._expect(f"delete task via {via}", f"delete {task!r} via {via}", "tasks", "id",
                     "delete", None, got, key)
        self.task_states.pop(key, None)

    # ------------------------------------------------------------------ conversations
    @rule(target=conversations, user=users,
          first_message=st.deferred(lambda: _texts_of(_reference().Message, "content")),
          via=VIA)
    def start_conversation(self, user: Ref, first_message: str, via: str) -> Any:
        """A conversation starts with the user's first message (one transaction)."""
        owner, key, message_key = user.key[0], uuid.uuid4(), uuid.uuid4()
        models = _reference()
        if via == "sql":
            run = self.db.connection.begin_nested()
            got = self._sql("INSERT INTO conversations (id, user_id) VALUES (:id, :u)",
                            id=key, u=owner).sqlstate
            if got is None:
                got = self._sql("INSERT INTO messages (id, conversation_id, role, content) "
                                "VALUES (:id, :c, 'user', :t)",
                                id=message_key, c=key, t=first_message).sqlstate
            (run.rollback if got else run.commit)()
        else:
            conversation = models.Conversation.model_validate({"id": key, "user_id": owner})
            message = models.Message.model_validate(
                {"id": message_key, "conversation_id": key, "role": models.MessageRole.USER,
                 "content": first_message})

            def work(session: Session) -> None:
                session.add(conversation)
                session.flush()
                session.add(message)
            got, _ = self._orm(work)
        expected = None if owner in self.user_emails else "23503"
        self._expect(f"start conversation via {via}",
                     f"start a conversation for {user!r} via {via}", "conversations",
                     "user_id", "fk_conversations_user_id_users", expected, got, owner)
        if got:
            return multiple()
        self.conversation_owners[key] = owner
        self._remember("conversations", key)
        self.message_states[message_key] = (key, "user", first_message)
        self._remember("messages", message_key)
        return Ref("conversations", (key,))

    @rule(conversation=conversations, via=VIA)
    def touch_conversation(self, conversation: Ref, via: str) -> None:
        """An update that changes no column (as an app does to bump a conversation): it is
        still an UPDATE, so updated_at must move."""
        key = conversation.key[0]
        if via == "sql":
            outcome = self._sql("UPDATE conversations SET user_id = user_id WHERE id = :id "
                                "RETURNING id", id=key)
            got, reached = outcome.sqlstate, outcome.row is not None
        else:
            def work(session: Session) -> bool:
                obj = session.get(_reference().Conversation, key)
                if obj is None:
                    return False
                flag_modified(obj, "user_id")
                return True
            got, touched = self._orm(work)
            reached = bool(touched)
        self._expect(f"touch conversation via {via}", f"touch {conversation!r} via {via}",
                     "conversations", "updated_at", "update", None, got)
        present = key in self.conversation_owners
        if reached != present:
            self.fail(Finding("conversations", "id", "rows equal the model", ["database"],
                              f"{_a(via)} update {'reached' if reached else 'missed'} a "
                              f"conversation the model says is {'gone' if present else 'there'}",
                              key))
        if present:
            self._check_update("conversations", key, reached, via)

    @rule(conversation=consumes(conversations), via=VIA)
    def delete_conversation(self, conversation: Ref, via: str) -> None:
        key = conversation.key[0]
        if via == "sql":
            got = self._sql("DELETE FROM conversations WHERE id = :id", id=key).sqlstate
        else:
            got, _ = self._orm(lambda s: _delete(s, _reference().Conversation, key))
        self._expect(f"delete conversation via {via}", f"delete {conversation!r} via {via}",
                     "conversations", "id", "delete", None, got, key)
        if key not in self.conversation_owners:
            return
        left = self.db.connection.execute(sa.text(
            "SELECT count(*) FROM messages WHERE conversation_id = :c"), {"c": key}).scalar_one()
        tally = self.context.cascades
        tally.add("conversations deleted with their messages")
        tally.add("messages removed with their conversation",
                  sum(m[0] == key for m in self.message_states.values()))
        if left:
            self.fail(Finding("messages", "conversation_id",
                              "fk_messages_conversation_id_conversations ON DELETE CASCADE",
                              ["metadata", "database"],
                              f"after {_a(via)} delete of their conversation, {left} message(s) "
                              "remain", key), "on_delete", tally)
        self._forget_conversation(key)

    def _forget_conversation(self, key: uuid.UUID) -> None:
        del self.conversation_owners[key]
        for message in [m for m, s in self.message_states.items() if s[0] == key]:
            del self.message_states[message]

    # ------------------------------------------------------------------ messages
    @rule(target=messages, conversation=conversations,
          role=st.deferred(lambda: st.sampled_from(list(_reference().MessageRole))),
          content=st.deferred(lambda: _texts_of(_reference().Message, "content")),
          via=VIA)
    def post_message(self, conversation: Ref, role: Any, content: str, via: str) -> Any:
        parent, key = conversation.key[0], uuid.uuid4()
        if via == "sql":
            got = self._sql("INSERT INTO messages (id, conversation_id, role, content) "
                            "VALUES (:id, :c, CAST(:r AS message_role), :t)",
                            id=key, c=parent, r=role.value, t=content).sqlstate
        else:
            message = _reference().Message.model_validate(
                {"id": key, "conversation_id": parent, "role": role, "content": content})
            got, _ = self._orm(lambda s: s.add(message))
        expected = None if parent in self.conversation_owners else "23503"
        self._expect(f"post message via {via}",
                     f"post a message to {conversation!r} via {via}", "messages",
                     "conversation_id", "fk_messages_conversation_id_conversations", expected,
                     got, parent)
        if got:
            return multiple()
        self.message_states[key] = (parent, role.value, content)
        self._remember("messages", key)
        return Ref("messages", (key,))

    @rule(conversation=conversations, role=st.sampled_from(["USER", "ASSISTANT", "system"]))
    def post_message_with_an_unknown_role(self, conversation: Ref, role: str) -> None:
        got = self._sql("INSERT INTO messages (conversation_id, role, content) "
                        "VALUES (:c, :r, 'hello')", c=conversation.key[0], r=role).sqlstate
        self._expect("post message with unknown role via sql",
                     f"post a message as {role!r} to {conversation!r} via sql", "messages",
                     "role", "message_role", "22P02", got, role)

    # ------------------------------------------------------------------ invariant
    @invariant()
    def database_matches_the_domain(self) -> None:
        """Rows equal the plain model; timestamps unchanged except by updates; no orphans."""
        conn = self.db.connection
        users = {r.id: r for r in conn.execute(sa.text(
            "SELECT id, email, created_at, updated_at FROM users"))}
        tasks = {r.id: r for r in conn.execute(sa.text(
            "SELECT id, user_id, title, completed, created_at, updated_at FROM tasks"))}
        conversations = {r.id: r for r in conn.execute(sa.text(
            "SELECT id, user_id, created_at, updated_at FROM conversations"))}
        messages = {r.id: r for r in conn.execute(sa.text(
            "SELECT id, conversation_id, role::text AS role, content, created_at "
            "FROM messages"))}
        self._same("users", "email", {k: r.email for k, r in users.items()}, self.user_emails)
        self._same("tasks", "user_id,title,completed",
                   {k: (r.user_id, r.title, r.completed) for k, r in tasks.items()},
                   {k: (s.user, s.title, s.completed) for k, s in self.task_states.items()})
        self._same("conversations", "user_id",
                   {k: r.user_id for k, r in conversations.items()}, self.conversation_owners)
        self._same("messages", "conversation_id,role,content",
                   {k: (r.conversation_id, r.role, r.content) for k, r in messages.items()},
                   self.message_states)
        for table, rows in (("users", users), ("tasks", tasks),
                            ("conversations", conversations), ("messages", messages)):
            for key, row in rows.items():
                for column in ("created_at", "updated_at"):
                    value = getattr(row, column, None)
                    if isinstance(value, dt.datetime) and value.tzinfo is None:
                        # The rule test_timestamps names: one root cause, not a crash when a
                        # naive value meets an aware one below.
                        self.fail(Finding(table, column, "timestamptz", ["database"],
                                          f"read back the naive datetime {value}: the column "
                                          "stores no offset", key))
                if row.created_at != self.created[(table, key)]:
                    self.fail(Finding(table, "created_at", "created_at is immutable",
                                      ["database"], f"created_at moved from "
                                      f"{self.created[(table, key)]} to {row.created_at}", key))
                if table == "messages":
                    continue
                if row.updated_at != self.updated[(table, key)]:
                    self.fail(Finding(table, "updated_at", "updated_at changes only on update",
                                      ["database"], f"updated_at moved from "
                                      f"{self.updated[(table, key)]} to {row.updated_at} "
                                      "without an update of the row", key))
                if row.updated_at < row.created_at:
                    self.fail(Finding(table, "created_at,updated_at",
                                      "created_at <= updated_at", ["database"],
                                      "updated_at is before created_at", key))

    def _same(self, table: str, columns: str, actual: dict[Any, Any],
              expected: dict[Any, Any]) -> None:
        if actual == expected:
            return
        extra, missing = actual.keys() - expected.keys(), expected.keys() - actual.keys()
        if extra or missing:
            what = (f"the database holds {len(actual)} {table} rows, the domain model "
                    f"{len(expected)} ({len(extra)} unexpected, {len(missing)} missing)")
            self.fail(Finding(table, "*", "rows equal the model", ["database"], what,
                              next(iter(extra or missing))))
        key = next(k for k in actual if actual[k] != expected[k])
        self.fail(Finding(table, columns, "rows equal the model", ["database"],
                          f"row holds {actual[key]!r}, the domain model {expected[key]!r}",
                          key))


def _foreign_key_named(name: str | None) -> sa.ForeignKeyConstraint | None:
    """The reference models' FK constraint called ``name``, if any."""
    metadata: sa.MetaData = _reference().metadata
    return next((fk for table in metadata.tables.values()
                 for fk in table.foreign_key_constraints if fk.name == name), None)


def _delete(session: Session, model: type[Any], key: uuid.UUID) -> None:
    obj = session.get(model, key)
    if obj is not None:
        session.delete(obj)


def reference_machine(context: MachineContext) -> type[ReferenceMachine]:
    """The domain machine bound to ``context`` (a sandbox on the reference backend's
    schema)."""
    return type("ReferenceMachine", (ReferenceMachine,), {"context": context})
