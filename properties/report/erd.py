"""An entity-relationship diagram of the models' MetaData: Mermaid text for the Markdown report,
and a PNG where Graphviz's ``dot`` is installed.

The drawing is paracelsus's (Mermaid and Graphviz transformers over a SQLAlchemy MetaData).
One thing is ours: paracelsus prints each column type with SQLAlchemy's generic dialect
(``CHAR(32)`` for a UUID, ``DATETIME`` for ``timestamptz``), which would misreport a PostgreSQL
schema, so the diagram is drawn from a copy of the MetaData whose column types print as
PostgreSQL spells them (enums are kept, so their labels are listed).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import UserDefinedType

__all__ = ["Diagram", "draw_erd"]


@dataclass(frozen=True)
class Diagram:
    """The diagram as drawn: Mermaid source (empty when it could not be drawn), the PNG path
    (None without Graphviz) and a note saying what was left out and why."""

    mermaid: str
    png: Path | None
    note: str


class _PostgresName(UserDefinedType[Any]):
    """A stand-in column type that prints as the given PostgreSQL type name."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


def _postgres_name(column_type: sa.types.TypeEngine[Any]) -> str:
    try:
        name = column_type.compile(dialect=postgresql.dialect())
    except sa.exc.CompileError:
        name = str(column_type)
    # Mermaid attribute types are one word.
    return name.replace(" WITH TIME ZONE", "TZ").replace(" ", "_")


def _with_postgres_types(metadata: sa.MetaData, *, keep_enums: bool) -> sa.MetaData:
    """A copy of ``metadata`` whose column types print as PostgreSQL names; ``keep_enums``
    leaves enum types as they are (paracelsus's Mermaid lists their labels)."""
    copy = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    for table in copy.tables.values():
        for column in table.columns:
            if not (keep_enums and isinstance(column.type, sa.Enum)):
                column.type = _PostgresName(_postgres_name(column.type))
    return copy


def _render_png(dot_source: str, path: Path) -> str:
    """Render Graphviz source to ``path``; return '' or the reason it was not rendered."""
    dot = shutil.which("dot")
    if dot is None:
        return "no PNG: Graphviz (`dot`) is not installed (apt-get install graphviz)"
    try:
        subprocess.run([dot, "-Tpng", "-o", str(path)], input=dot_source, text=True,
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        return f"no PNG: dot failed: {error}"
    return ""


def draw_erd(metadata: sa.MetaData, png_path: Path | None = None) -> Diagram:
    """Draw ``metadata`` as Mermaid, and as a PNG at ``png_path`` when given and Graphviz is
    installed. Returns a :class:`Diagram`; never raises for a missing optional tool (the
    note says what is missing)."""
    try:
        from paracelsus.transformers.dot import Dot
        from paracelsus.transformers.mermaid import Mermaid
    except ImportError:
        return Diagram("", None, "no diagram: paracelsus is not installed (pip install paracelsus)")
    mermaid = str(Mermaid(_with_postgres_types(metadata, keep_enums=True), "key-based",
                          max_enum_members=20))
    if png_path is None:
        return Diagram(mermaid, None, "")
    png_path.parent.mkdir(parents=True, exist_ok=True)
    dot_source = str(Dot(_with_postgres_types(metadata, keep_enums=False), "key-based"))
    reason = _render_png(dot_source, png_path)
    return Diagram(mermaid, None if reason else png_path, reason)
