"""The hypothesis-jsonschema bridge: `Model.model_json_schema()` as an independent oracle."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning

from ._records import spec_of
from ._types import ValueKind
from ._values import MAX_DT, MIN_DT, OFFSETS, json_values

# Formats Pydantic emits that hypothesis-jsonschema does not know (or knows too loosely).
EXTRA_FORMATS: dict[str, st.SearchStrategy[str]] = {
    "uuid": st.uuids().map(str),
    "date-time": st.datetimes(MIN_DT, MAX_DT, timezones=OFFSETS).map(lambda d: d.isoformat()),
    "duration": st.integers(0, 10**6).map(lambda s: f"PT{s}S"),
}


def from_json_schema(
    model: type[Any],
    *,
    parents: Mapping[str, Sequence[Any]] | None = None,
    tighten: bool = True,
    connection: sa.Connection | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Return JSON-compatible dicts drawn from `model.model_json_schema()`.

    Independent of `valid()`: the values come from the JSON schema Pydantic publishes, so a
    dict the model then rejects, or the database refuses, is a disagreement between layers.
    Formats it lacks (uuid, a precise date-time with offsets) are supplied; strings never
    contain NUL (allow_x00=False) nor surrogates (codec utf-8). `parents` replaces FK
    fields by existing keys (as in `valid()`), since a JSON schema knows no foreign keys.
    With `tighten`, limits the schema cannot see but the table declares (varchar lengths)
    are written into it; CHECKs are not, so the oracle stays independent of them.

    Raises TypeError when `model` is not a table model.
    """
    spec = spec_of(model, connection)
    schema = copy.deepcopy(model.model_json_schema())
    props: dict[str, Any] = schema.get("properties", {})
    if tighten:
        for cs in spec.columns.values():
            if cs.key in props and cs.kind == ValueKind.TEXT:
                limit = getattr(cs.column.type, "length", None)
                if limit:
                    _tighten_strings(props[cs.key], int(limit))
    base = _object(schema)
    if not parents:
        return base
    overrides = {
        spec.columns[col].key: st.sampled_from(list(values))
        for col, values in parents.items() if spec.columns[col].key
    }
    return st.tuples(base, st.fixed_dictionaries(overrides)).map(
        lambda pair: {**pair[0], **{k: str(v) if not isinstance(v, int | str) else v
                                    for k, v in pair[1].items()}})


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The top-level object, property by property.

    Hand-written because hypothesis-jsonschema 0.23.1's object generation calls a
    Hypothesis internal (`cu.many(...).more()`) that Hypothesis 6.170 no longer has; each
    property's own schema still goes through `from_schema`.
    """
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    req: dict[str, st.SearchStrategy[Any]] = {}
    opt: dict[str, st.SearchStrategy[Any]] = {}
    for name, prop in schema.get("properties", {}).items():
        strat = _property(prop, defs)
        (req if name in required else opt)[name] = strat
    return st.fixed_dictionaries(req, optional=opt)


def _property(prop: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    branches = prop.get("anyOf", [prop])
    if any(b.get("type") == "object" for b in branches):
        # JSON object values (e.g. a JSONB column): same workaround as `_object`.
        options = [json_values().filter(lambda v: isinstance(v, dict))
                   if b.get("type") == "object" else _leaf(b, defs) for b in branches]
        return st.one_of(options)
    return _leaf(prop, defs)


def _leaf(prop: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    # Imported here, not at the top: importing hypothesis-jsonschema reads Hypothesis'
    # charmap from disk, and this module loads with the pytest plugin, where Hypothesis warns
    # (HypothesisSideeffectWarning) about slow code during plugin initialization.
    from hypothesis_jsonschema import from_schema
    from hypothesis_jsonschema._from_schema import STRING_FORMATS

    formats = {k: v for k, v in EXTRA_FORMATS.items()
               if k not in STRING_FORMATS or k == "date-time"}
    sub = {k: v for k, v in prop.items() if k not in ("default", "title", "description")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HypothesisWarning)  # we override date-time on purpose
        return from_schema({**sub, "$defs": defs}, custom_formats=formats, allow_x00=False,
                           codec="utf-8")


def _tighten_strings(node: dict[str, Any], limit: int) -> None:
    if node.get("type") == "string" and "format" not in node and "enum" not in node:
        node["maxLength"] = min(int(node.get("maxLength", limit)), limit)
    for sub in node.get("anyOf", []):
        _tighten_strings(sub, limit)
