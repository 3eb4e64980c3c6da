"""The fix of a finding, in both places it could go: the Alembic operation that makes the
database agree with the model, and the model change that makes the model agree with the
database. Each finding names both; which one is right is the project's call.

Written here because no library turns a constraint into an Alembic call: Alembic's
autogenerate compares a MetaData with a database, while a finding is about one rule.
"""

from __future__ import annotations

from typing import Any

from .strategies import Constraint, Kind

__all__ = ["database_rule_fix", "model_rule_fix", "on_delete_fix"]


def _name(constraint: Constraint, suffix: str) -> str:
    return "_".join(("ck", constraint.table, *constraint.columns, suffix))[:63]


def _check(constraint: Constraint, suffix: str, sql: str) -> str:
    return (f"op.create_check_constraint({_name(constraint, suffix)!r}, "
            f"{constraint.table!r}, {sql!r})")


def _sql_literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'" if isinstance(value, str) else str(value)


def _migration_for(constraint: Constraint) -> str:
    """The Alembic call that adds ``constraint`` (a rule of the model or its metadata) to the
    database, or '' when there is no single call for it."""
    table, columns, params = constraint.table, constraint.columns, constraint.params
    column = columns[0] if columns else ""
    kind = constraint.kind
    if kind == Kind.NOT_NULL:
        return f"op.alter_column({table!r}, {column!r}, nullable=False)"
    if kind == Kind.MAX_LENGTH and "max" in params:
        return f"op.alter_column({table!r}, {column!r}, type_=sa.String({params['max']}))"
    if kind == Kind.MIN_LENGTH and "min" in params:
        return _check(constraint, "min_length", f"char_length({column}) >= {params['min']}")
    if kind == Kind.RANGE and params:
        (keyword, bound), = params.items()
        sql = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}[keyword]
        return _check(constraint, keyword, f"{column} {sql} {bound}")
    if kind == Kind.PATTERN and "pattern" in params:
        return _check(constraint, "pattern", f"{column} ~ {_sql_literal(params['pattern'])}")
    if kind == Kind.ENUM and params.get("labels"):
        labels = ", ".join(_sql_literal(label) for label in params["labels"])
        return _check(constraint, "enum", f"{column} IN ({labels})")
    if kind == Kind.UNIQUE:
        return f"op.create_unique_constraint({constraint.rule!r}, {table!r}, {list(columns)!r})"
    if kind == Kind.PRIMARY_KEY:
        return f"op.create_primary_key({constraint.rule!r}, {table!r}, {list(columns)!r})"
    if kind == Kind.FOREIGN_KEY and "ref_table" in params:
        ondelete = params.get("ondelete")
        return (f"op.create_foreign_key({constraint.rule!r}, {table!r}, "
                f"{params['ref_table']!r}, {list(columns)!r}, {list(params['ref_columns'])!r}"
                + (f", ondelete={ondelete!r})" if ondelete else ")"))
    if kind == Kind.CHECK and constraint.sql:
        return (f"op.create_check_constraint({constraint.rule!r}, {table!r}, "
                f"{constraint.sql!r})")
    return ""


def database_rule_fix(constraint: Constraint) -> str:
    """The fix of a rule the model declares and the database does not enforce: the migration
    that adds it, or else dropping the rule from the model. Returns '' when neither can be
    said for this kind of rule."""
    migration = _migration_for(constraint)
    model = f"drop {constraint.rule} from the model" if "model" in {
        str(layer) for layer in constraint.layers} else "drop the rule from the metadata"
    if not migration:
        return ""
    return f"in a migration, {migration}; or, if the database is right, {model}"


def _model_declaration(constraint: Constraint) -> str:
    """What the model would declare to refuse what the database's CHECK refuses."""
    hints = constraint.params.get("hints")
    column = constraint.columns[0] if constraint.columns else ""
    keywords = []
    if hints is not None:
        if column in hints.min_length:
            keywords.append(f"min_length={hints.min_length[column]}")
        if column in hints.max_length:
            keywords.append(f"max_length={hints.max_length[column]}")
        for bounds, inclusive_name, exclusive_name in ((hints.lower, "ge", "gt"),
                                                       (hints.upper, "le", "lt")):
            if column in bounds:
                bound, inclusive = bounds[column]
                keywords.append(f"{inclusive_name if inclusive else exclusive_name}={bound!r}")
    if keywords and len(constraint.columns) == 1:
        return f"Field({', '.join(keywords)}) on {constraint.table}.{column}"
    sql = f" CHECK ({constraint.sql})" if constraint.sql else ""
    return f"a validator on the model that refuses what{sql} refuses"


def model_rule_fix(constraint: Constraint) -> str:
    """The fix of a rule the database enforces and the model does not (a CHECK a migration
    added, a varchar limit, NOT NULL, a column type's range): declare it on the model, or else
    relax the database. Returns '' when neither can be said for this kind of rule."""
    table, params = constraint.table, constraint.params
    column = constraint.columns[0] if constraint.columns else ""
    where = f"{table}.{column}"
    if constraint.kind == Kind.CHECK:
        model = _model_declaration(constraint)
        database = f"op.drop_constraint({constraint.rule!r}, {table!r}, type_='check')"
    elif constraint.kind == Kind.MAX_LENGTH and "max" in params:
        model = f"Field(max_length={params['max']}) on {where}"
        database = f"op.alter_column({table!r}, {column!r}, type_=sa.Text())"
    elif constraint.kind == Kind.NOT_NULL:
        model = f"a required (not Optional) field {where}"
        database = f"op.alter_column({table!r}, {column!r}, nullable=True)"
    elif constraint.kind == Kind.TYPE and "min" in params:
        model = f"Field(ge={params['min']}, le={params['max']}) on {where}"
        database = f"op.alter_column({table!r}, {column!r}, type_=<a wider type>)"
    else:
        return ""
    return f"in the model, {model}; or, if the model is right, in a migration, {database}"


def on_delete_fix(table: str, name: str, ref_table: str, columns: list[str],
                  ref_columns: list[str], declared: str, found: str) -> str:
    """The fix of a foreign key whose ON DELETE in the database (``found``) is not the one
    the model declares (``declared``): recreate it in a migration, or declare what the
    database does on the model's field."""
    ondelete = "" if declared == "NO ACTION" else f", ondelete={declared!r}"
    field_ondelete = "" if found == "NO ACTION" else f", ondelete={found!r}"
    return (f"in a migration, op.drop_constraint({name!r}, {table!r}, type_='foreignkey') then "
            f"op.create_foreign_key({name!r}, {table!r}, {ref_table!r}, {columns!r}, "
            f"{ref_columns!r}{ondelete}); or, if the database is right, in the model, "
            f"Field(foreign_key='{ref_table}.{ref_columns[0]}'{field_ondelete}) on "
            f"{table}.{columns[0]}")
