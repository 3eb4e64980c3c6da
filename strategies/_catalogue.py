"""Merge the three layers (Pydantic, SQLAlchemy Table, live catalogue) into a `TableSpec`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from . import _check_expressions
from ._constraint import Constraint, Kind, Layer
from ._live_schema import LiveTable, read_live_schema
from ._model_layer import FieldFacts, enum_class_of, field_facts
from ._types import INT_LIMITS, NUMBER_KINDS, ValueKind, base_type, kind_of, sql_type_name

M, T, D = Layer.MODEL, Layer.METADATA, Layer.DATABASE
PG_NAME_MAX = 63


@dataclass
class EnumSpec:
    """Labels the database stores and the Python values that map to them (same order)."""

    labels: tuple[str, ...]
    python_values: tuple[Any, ...]
    names: tuple[str, ...]  # member names, when they differ from the stored labels
    native: bool
    type_name: str | None


@dataclass
class ColumnSpec:
    """Everything generation needs to know about one column (tightest bounds of all layers)."""

    table: str
    name: str
    key: str | None
    column: sa.Column[Any]
    kind: ValueKind | None
    unsupported: str = ""
    nullable: bool = True
    model_accepts_none: bool = True
    omittable: bool = False
    db_generated: bool = False
    primary_key: bool = False
    facts: FieldFacts | None = None
    min_length: int = 0
    max_length: int | None = None
    not_blank: bool = False
    pattern: str | None = None
    string_format: str | None = None  # "email", "uri": what Pydantic validates the text as
    lower: tuple[Any, bool] | None = None  # (bound, inclusive)
    upper: tuple[Any, bool] | None = None
    places: int | None = None
    int_digits: int | None = None
    enum: EnumSpec | None = None
    allowed: list[Any] | None = None
    as_uuid: bool = True


@dataclass
class TableSpec:
    """The merged catalogue of one table, with the model it belongs to."""

    model: type[Any] | None
    table: sa.Table
    columns: dict[str, ColumnSpec]
    constraints: list[Constraint] = field(default_factory=list)
    live: LiveTable | None = None

    @property
    def name(self) -> str:
        """The table name."""
        return str(self.table.name)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints the arguments of a strategy whenever a draw from it raises, which
        # includes every rejected example (assume): the whole catalogue took ~5 ms to print.
        printer.text(f"<TableSpec {self.name}>")

    def of_kind(self, *kinds: Kind) -> list[Constraint]:
        """Return the constraints of the given kinds."""
        return [c for c in self.constraints if c.kind in kinds]

    @property
    def fks(self) -> list[Constraint]:
        """Foreign keys (params: ref_table, ref_columns, ondelete)."""
        return self.of_kind(Kind.FOREIGN_KEY)

    @property
    def unique_sets(self) -> list[Constraint]:
        """Primary key and unique constraints/indexes."""
        return self.of_kind(Kind.PRIMARY_KEY, Kind.UNIQUE)

    @property
    def pk(self) -> tuple[str, ...]:
        """Primary-key column names."""
        return tuple(c.name for c in self.table.primary_key.columns)


def _pg_name(table: str, cols: tuple[str, ...], suffix: str) -> str:
    """PostgreSQL's default constraint name (ChooseConstraintName), truncated to 63 bytes."""
    name = "_".join((table, *cols, suffix)) if cols else f"{table}_{suffix}"
    return name.encode()[:PG_NAME_MAX].decode(errors="ignore")


_PREPARER = pg.dialect().identifier_preparer


def _name(constraint: Any) -> str | None:
    """The name DDL gives `constraint` (MetaData naming conventions applied), or None."""
    name = getattr(constraint, "name", None)
    table_metadata = getattr(getattr(constraint, "table", None), "metadata", None)
    unnamed = name is None or type(name).__name__ == "_NoneName"
    if unnamed and not (table_metadata is not None and table_metadata.naming_convention):
        return None
    rendered: str | None
    try:
        if isinstance(constraint, sa.Index):
            rendered = _PREPARER.format_index(constraint)
        else:
            rendered = _PREPARER.format_constraint(constraint)
    except Exception:  # a convention token that cannot be resolved: fall back to raw name
        rendered = None if name is None else str(name)
    if not rendered:
        return None
    return rendered[1:-1].replace('""', '"') if rendered.startswith('"') else rendered


def _sql_of(check: sa.CheckConstraint) -> str:
    return str(check.sqltext.compile(dialect=pg.dialect(), compile_kwargs={"literal_binds": True}))


def _enum_spec(sa_type: sa.Enum) -> EnumSpec:
    labels = tuple(sa_type.enums)
    cls = sa_type.enum_class
    if cls is not None:
        lookup = sa_type._object_lookup  # label -> member, as SQLAlchemy itself maps them
        values: tuple[Any, ...] = tuple(lookup[label] for label in labels)
        names = tuple(m.name for m in values)
    else:
        values, names = labels, labels
    native = bool(sa_type.native_enum)
    return EnumSpec(labels, values, names if names != labels else (), native, sa_type.name)


def _live_check_match(live: LiveTable | None, node: Any, name: str) -> str | None:
    if live is None:
        return None
    for lc in live.constraints:
        if lc.kind != "c":
            continue
        if lc.name == name:
            return lc.name
        try:
            if _check_expressions.parse(lc.definition) == node:
                return lc.name
        except _check_expressions.UnrecognisedCheck:
            continue
    return None


def build(model: Any, connection: sa.Connection | None = None) -> TableSpec:
    """Return the merged `TableSpec` of a SQLModel table model; raises TypeError otherwise."""
    mapper = sa.inspect(model, raiseerr=False)
    table = getattr(mapper, "local_table", None)
    if not isinstance(table, sa.Table):
        raise TypeError(f"{model!r} is not a mapped table model (declare it with table=True)")
    return build_table(table, model=model, connection=connection)


def build_table(table: sa.Table, *, model: Any = None,
                connection: sa.Connection | None = None) -> TableSpec:
    """Return the merged `TableSpec` of ``table``: with ``model`` (its mapped class) the model
    layer too, without it the metadata (and, with ``connection``, the live catalogue) alone,
    as for a table reflected at a revision no model describes."""
    live = (read_live_schema(connection, table.schema).table(str(table.name))
            if connection is not None else None)
    if live is not None and not live.exists:
        live = None  # the catalogue has no such table: nothing to add
    mapper = sa.inspect(model) if model is not None else None
    key_of = ({prop.columns[0].name: prop.key for prop in mapper.column_attrs}
              if mapper is not None else {})
    fields = getattr(model, "model_fields", {})
    spec = TableSpec(model=model, table=table, columns={}, live=live)
    tname = str(table.name)
    out = spec.constraints

    for col in table.columns:
        key = key_of.get(col.name)
        info = fields.get(key) if key else None
        facts = field_facts(key, info) if key and info is not None else None
        kind, reason = kind_of(col.type)
        lc = live.columns.get(col.name) if live else None
        cs = ColumnSpec(table=tname, name=col.name, key=key, column=col, kind=kind,
                        unsupported=reason, facts=facts)
        cs.primary_key = bool(col.primary_key)
        db_not_null = (not col.nullable) or (lc is not None and not lc.nullable)
        cs.nullable = not db_not_null
        cs.model_accepts_none = facts.accepts_none if facts else True
        identity = col.identity is not None or (lc is not None and bool(lc.identity))
        serial = col.primary_key and col is table.autoincrement_column
        cs.db_generated = col.computed is not None or (
            lc is not None and (lc.identity == "a" or lc.generated == "s")
        )
        db_fills = bool(col.default is not None or col.server_default is not None
                        or identity or serial or cs.db_generated
                        or (lc is not None and lc.default))
        # A default only Pydantic knows (default_factory with sa_column=) does not reach a
        # SQL insert: such a column is supplied, only what the database fills is omitted.
        cs.omittable = (info is None or not info.is_required()) and (col.nullable or db_fills)
        cs.string_format = facts.string_format if facts and kind == ValueKind.TEXT else None
        if isinstance(base_type(col.type), sa.Uuid):
            cs.as_uuid = bool(base_type(col.type).as_uuid)
        spec.columns[col.name] = cs
        cols = (col.name,)

        if kind is None:
            out.append(Constraint(tname, cols, Kind.UNSUPPORTED, sql_type_name(col.type),
                                  frozenset({T}), None, generated=False, note=reason))
            continue
        # NOT NULL
        layers = ({M} if facts and not facts.accepts_none else set()) | (
            {T} if not col.nullable else set()) | ({D} if lc is not None and not lc.nullable
                                                   else set())
        if layers:
            out.append(Constraint(tname, cols, Kind.NOT_NULL, "NOT NULL", frozenset(layers),
                                  "23502" if layers & {T, D} else None))
        # server defaults (reported; omitted values rely on them)
        if col.server_default is not None or (lc is not None and lc.default):
            text = lc.default if lc is not None and lc.default else str(
                getattr(col.server_default, "arg", col.server_default))
            out.append(Constraint(tname, cols, Kind.SERVER_DEFAULT, str(text),
                                  frozenset(({T} if col.server_default is not None else set())
                                            | ({D} if lc is not None and lc.default else set())),
                                  None, params={"default": str(text)}))
        _length_constraints(spec, cs, col, lc, facts, out)
        _number_constraints(spec, cs, col, lc, facts, kind, out)
        _enum_constraint(spec, cs, col, lc, facts, out)
        if facts and facts.pattern is not None:
            cs.pattern = facts.pattern
            out.append(Constraint(tname, cols, Kind.PATTERN, f"Field(pattern={facts.pattern!r})",
                                  frozenset({M}), None, params={"pattern": facts.pattern}))

    _table_constraints(spec, out)
    return spec


def _length_constraints(spec: TableSpec, cs: ColumnSpec, col: sa.Column[Any], lc: Any,
                        facts: FieldFacts | None, out: list[Constraint]) -> None:
    if cs.kind != ValueKind.TEXT:
        return
    by_limit: dict[int, set[Layer]] = {}
    typ = base_type(col.type)
    if getattr(typ, "length", None):
        by_limit.setdefault(int(typ.length), set()).add(T)
    if lc is not None and lc.char_max:
        by_limit.setdefault(int(lc.char_max), set()).add(D)
    if facts and facts.max_length is not None:
        by_limit.setdefault(int(facts.max_length), set()).add(M)
    for limit, layers in sorted(by_limit.items()):
        db = bool(layers & {T, D})
        rule = f"varchar({limit})" if db else f"Field(max_length={limit})"
        out.append(Constraint(spec.name, (cs.name,), Kind.MAX_LENGTH, rule, frozenset(layers),
                              "22001" if db else None, params={"max": limit}))
        cs.max_length = limit if cs.max_length is None else min(cs.max_length, limit)
    if facts and facts.min_length:
        cs.min_length = max(cs.min_length, int(facts.min_length))
        out.append(Constraint(spec.name, (cs.name,), Kind.MIN_LENGTH,
                              f"Field(min_length={facts.min_length})", frozenset({M}), None,
                              params={"min": int(facts.min_length)}))


def _narrow(cs: ColumnSpec, lower: tuple[Any, bool] | None, upper: tuple[Any, bool] | None) -> None:
    if lower is not None and (cs.lower is None or lower[0] > cs.lower[0]
                              or (lower[0] == cs.lower[0] and not lower[1])):
        cs.lower = lower
    if upper is not None and (cs.upper is None or upper[0] < cs.upper[0]
                              or (upper[0] == cs.upper[0] and not upper[1])):
        cs.upper = upper


def _number_constraints(spec: TableSpec, cs: ColumnSpec, col: sa.Column[Any], lc: Any,
                        facts: FieldFacts | None, kind: ValueKind, out: list[Constraint]) -> None:
    cols = (cs.name,)
    live = {D} if lc is not None else set()
    if kind in INT_LIMITS:
        lo, hi = INT_LIMITS[kind]
        _narrow(cs, (lo, True), (hi, True))
        out.append(Constraint(spec.name, cols, Kind.TYPE, kind, frozenset({T} | live), "22003",
                              params={"min": lo, "max": hi}))
    if kind == ValueKind.DECIMAL:
        typ = base_type(col.type)
        p = typ.precision if typ.precision is not None else (lc.numeric_precision if lc else None)
        s = typ.scale if typ.scale is not None else (lc.numeric_scale if lc else None)
        md = facts.max_digits if facts else None
        dp = facts.decimal_places if facts else None
        if p is not None:
            s = s or 0
            layers = {T} | live
            if md is not None and dp is not None and md - dp == p - s:
                layers.add(M)
            out.append(Constraint(spec.name, cols, Kind.TYPE, f"numeric({p},{s})",
                                  frozenset(layers), "22003", params={"int_digits": p - s,
                                                                     "scale": s}))
            cs.int_digits, cs.places = p - s, s
        if dp is not None:
            out.append(Constraint(spec.name, cols, Kind.DIGITS, f"Field(decimal_places={dp})",
                                  frozenset({M}), None, params={"places": dp},
                                  note="PostgreSQL rounds extra decimals instead of rejecting"))
            cs.places = dp if cs.places is None else min(cs.places, dp)
        if md is not None:
            whole = md - (cs.places or 0)
            out.append(Constraint(spec.name, cols, Kind.DIGITS, f"Field(max_digits={md})",
                                  frozenset({M}), None, params={"max_digits": md}))
            cs.int_digits = whole if cs.int_digits is None else min(cs.int_digits, whole)
    if facts is not None and kind in NUMBER_KINDS:
        for op in ("ge", "gt", "le", "lt"):
            bound = getattr(facts, op)
            if bound is None:
                continue
            out.append(Constraint(spec.name, cols, Kind.RANGE, f"Field({op}={bound})",
                                  frozenset({M}), None, params={op: bound}))
            if op in ("ge", "gt"):
                _narrow(cs, (bound, op == "ge"), None)
            else:
                _narrow(cs, None, (bound, op == "le"))


def _enum_constraint(spec: TableSpec, cs: ColumnSpec, col: sa.Column[Any], lc: Any,
                     facts: FieldFacts | None, out: list[Constraint]) -> None:
    typ = base_type(col.type)
    model_enum = enum_class_of(facts.annotation) if facts else None
    if not isinstance(typ, sa.Enum):
        if model_enum is not None and cs.kind == ValueKind.TEXT:
            members: tuple[Any, ...] = tuple(model_enum)  # type: ignore[arg-type]
            labels = tuple(str(m.value) for m in members)
            cs.enum = EnumSpec(labels, members, (), False, None)
            out.append(Constraint(spec.name, (cs.name,), Kind.ENUM,
                                  f"Field(enum={model_enum.__name__})", frozenset({M}), None,
                                  params={"labels": labels}))
        return
    es = _enum_spec(typ)
    layers = {T} if es.native or typ.create_constraint else set()
    if model_enum is not None or (facts and facts.annotation is not str):
        layers.add(M)
    note = ""
    if lc is not None and lc.enum_labels is not None:
        layers.add(D)
        if tuple(lc.enum_labels) != es.labels:
            # The labels drawn stay the metadata's: they are what SQLAlchemy sends, so a label
            # the database lacks is refused where a valid row carries it (drift), and labels
            # that do not meet at all (values stored, names sent) leave something to draw.
            note = f"live labels {lc.enum_labels} differ from metadata {es.labels}"
    cs.enum = es
    if isinstance(model_enum, type) and issubclass(model_enum, enum.Enum) and es.names == ():
        stores = "names" if tuple(m.name for m in model_enum) == es.labels else "values"
    else:
        stores = "values" if es.names else "names"
    if es.native:
        rule, sqlstate = es.type_name or sql_type_name(typ), "22P02"
    elif typ.create_constraint:
        rule, sqlstate = _name(typ) or _pg_name(spec.name, (cs.name,), "check"), "23514"
    else:
        rule, sqlstate = f"Field(enum={es.type_name})", None
    out.append(Constraint(spec.name, (cs.name,), Kind.ENUM, rule, frozenset(layers),
                          sqlstate if layers & {T, D} else None,
                          params={"labels": es.labels, "stores": stores, "native": es.native},
                          note=note))


def _table_constraints(spec: TableSpec, out: list[Constraint]) -> None:
    table, tname, live = spec.table, spec.name, spec.live
    live_by_kind: dict[str, dict[tuple[str, ...], str]] = {}
    if live is not None:
        for lc in live.constraints:
            live_by_kind.setdefault(lc.kind, {})[lc.columns] = lc.name
    pk_cols = tuple(c.name for c in table.primary_key.columns)
    if pk_cols:
        live_name = live_by_kind.get("p", {}).get(pk_cols)
        name = live_name or _name(table.primary_key) or _pg_name(tname, (), "pkey")
        out.append(Constraint(tname, pk_cols, Kind.PRIMARY_KEY, name,
                              frozenset({T} | ({D} if live_name else set())), "23505"))
    seen: set[tuple[str, ...]] = {pk_cols}
    for con in table.constraints:
        if isinstance(con, sa.UniqueConstraint) and not isinstance(con, sa.PrimaryKeyConstraint):
            cols = tuple(c.name for c in con.columns)
            live_name = live_by_kind.get("u", {}).get(cols)
            name = live_name or _name(con) or _pg_name(tname, cols, "key")
            seen.add(cols)
            out.append(Constraint(tname, cols, Kind.UNIQUE, name,
                                  frozenset({T} | ({D} if live_name else set())), "23505"))
    for idx in table.indexes:
        if not idx.unique or idx.dialect_options["postgresql"].get("where") is not None:
            continue
        cols = tuple(getattr(c, "name", "") for c in idx.expressions)
        if not all(isinstance(c, sa.Column) for c in idx.expressions) or cols in seen:
            continue
        seen.add(cols)
        live_name = live_by_kind.get("i", {}).get(cols) or live_by_kind.get("u", {}).get(cols)
        out.append(Constraint(tname, cols, Kind.UNIQUE, live_name or _name(idx) or str(idx.name),
                              frozenset({T} | ({D} if live_name else set())), "23505"))
    for fk in table.foreign_key_constraints:
        cols = tuple(c.name for c in fk.columns)
        ref_table = fk.elements[0].column.table.name
        ref_cols = tuple(e.column.name for e in fk.elements)
        live_name = live_by_kind.get("f", {}).get(cols)
        name = live_name or _name(fk) or _pg_name(tname, cols, "fkey")
        ondelete = (fk.ondelete or "NO ACTION").upper()
        out.append(Constraint(tname, cols, Kind.FOREIGN_KEY, name,
                              frozenset({T} | ({D} if live_name else set())), "23503",
                              params={"ref_table": ref_table, "ref_columns": ref_cols,
                                      "ondelete": ondelete}))
    # CHECK constraints: metadata first, then live ones the metadata does not know.
    matched: set[str] = set()
    for con in table.constraints:
        if isinstance(con, sa.CheckConstraint):
            sql = _sql_of(con)
            _add_check(spec, sql, _name(con), {T}, out, matched)
    if live is not None:
        for lc in live.constraints:
            if lc.kind == "c" and lc.name not in matched:
                _add_check(spec, lc.definition, lc.name, {D}, out, matched)
            elif lc.kind in {"u", "i"} and lc.columns not in seen:
                seen.add(lc.columns)
                out.append(Constraint(tname, lc.columns, Kind.UNIQUE, lc.name, frozenset({D}),
                                      "23505", note="only in the live database"))
            elif lc.kind == "f" and not any(c.rule == lc.name for c in out):
                out.append(Constraint(tname, lc.columns, Kind.FOREIGN_KEY, lc.name,
                                      frozenset({D}), "23503",
                                      params={"ref_table": lc.ref_table,
                                              "ref_columns": lc.ref_columns,
                                              "ondelete": lc.ondelete},
                                      note="only in the live database"))
            elif lc.kind == "x":
                out.append(Constraint(tname, lc.columns, Kind.UNSUPPORTED, lc.name,
                                      frozenset({D}), "23505", sql=lc.definition,
                                      generated=False,
                                      note="partial or expression unique index not generated"))


def _typecheck(spec: TableSpec, node: Any) -> None:
    """Reject CHECKs whose literals cannot be compared with the column in Python."""
    if not isinstance(node, tuple):
        return
    if node[0] in {"cmp", "in"}:
        left = node[2] if node[0] == "cmp" else node[1]
        rights = [node[3]] if node[0] == "cmp" else node[2]
        if left[0] == "lit" and node[0] == "cmp":
            left, rights = node[3], [node[2]]
        if left[0] == "col":
            cs = spec.columns.get(left[1])
            if cs is None:
                raise _check_expressions.UnrecognisedCheck(f"unknown column {left[1]!r}")
            numeric = cs.kind in NUMBER_KINDS
            for r in rights:
                if r[0] != "lit" or r[1] is None:
                    continue
                mismatch = numeric != isinstance(r[1], int | float | Decimal) or isinstance(
                    r[1], bool)
                textual = cs.kind in {ValueKind.TEXT, ValueKind.ENUM}
                if mismatch and not (textual and isinstance(r[1], str)):
                    raise _check_expressions.UnrecognisedCheck(
                        f"literal {r[1]!r} compared with {cs.kind} column {cs.name}")
    for part in node[1:]:
        if isinstance(part, tuple):
            _typecheck(spec, part)
        elif isinstance(part, list):
            for item in part:
                _typecheck(spec, item)


def _add_check(spec: TableSpec, sql: str, name: str | None, layers: set[Layer],
               out: list[Constraint], matched: set[str]) -> None:
    tname = spec.name
    try:
        node = _check_expressions.parse(sql)
        cols = tuple(sorted(_check_expressions.columns_of(node)))
        _typecheck(spec, node)
    except _check_expressions.UnrecognisedCheck as exc:
        rule = name or f"{tname}_check"
        if spec.live is not None and T in layers:
            for lc in spec.live.constraints:
                if lc.kind == "c" and lc.name == rule:
                    matched.add(lc.name)
                    layers = layers | {D}
        out.append(Constraint(tname, (), Kind.CHECK, rule, frozenset(layers), "23514", sql=sql,
                              generated=False, params={"node": None},
                              note=f"unrecognised CHECK ({exc})"))
        return
    rule = name or _pg_name(tname, cols[:1], "check")
    if T in layers:
        live_name = _live_check_match(spec.live, node, rule)
        if live_name is not None:
            matched.add(live_name)
            layers = layers | {D}
            rule = live_name
    hints = _check_expressions.hints(node)
    for col, n in hints.max_length.items():
        if col in spec.columns:
            cs = spec.columns[col]
            cs.max_length = n if cs.max_length is None else min(cs.max_length, n)
    for col, n in hints.min_length.items():
        if col in spec.columns:
            spec.columns[col].min_length = max(spec.columns[col].min_length, n)
    for col in {*hints.not_blank, *hints.blank_sets}:
        if col in spec.columns:
            spec.columns[col].not_blank = True
    for col, lo in hints.lower.items():
        if col in spec.columns:
            _narrow(spec.columns[col], lo, None)
    for col, hi in hints.upper.items():
        if col in spec.columns:
            _narrow(spec.columns[col], None, hi)
    for col, allowed in hints.allowed.items():
        if col in spec.columns:
            spec.columns[col].allowed = allowed
    out.append(Constraint(tname, cols, Kind.CHECK, rule, frozenset(layers), "23514", sql=sql,
                          params={"node": node, "hints": hints}))
