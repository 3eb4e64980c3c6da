"""Read the Pydantic layer: field annotations and `Field(...)` metadata of a SQLModel."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

_NUMERIC = ("ge", "gt", "le", "lt")


@dataclass
class FieldFacts:
    """What Pydantic itself says about one field."""

    key: str
    annotation: Any
    accepts_none: bool
    has_default: bool
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    ge: Any = None
    gt: Any = None
    le: Any = None
    lt: Any = None
    max_digits: int | None = None
    decimal_places: int | None = None
    string_format: str | None = None  # JSON-schema format of a str field: "email", "uri", ...


def _accepts_none(annotation: Any) -> bool:
    if annotation is None or annotation is type(None) or annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _accepts_none(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_accepts_none(arg) for arg in typing.get_args(annotation))
    return False


def _metadata_items(info: FieldInfo) -> list[Any]:
    items = list(info.metadata)
    # Annotated[str, StringConstraints(...)] inside Optional[...] keeps its metadata inside.
    stack = [info.annotation]
    while stack:
        ann = stack.pop()
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            args = typing.get_args(ann)
            items.extend(args[1:])
            stack.append(args[0])
        elif origin in (typing.Union, types.UnionType):
            stack.extend(typing.get_args(ann))
    return items


def _string_format(annotation: Any) -> str | None:
    """The JSON-schema ``format`` Pydantic publishes for a string annotation (``EmailStr`` is
    "email", ``HttpUrl`` "uri"), through Optional; None for plain ``str`` and non-strings."""
    if annotation is str or annotation is None:
        return None
    try:
        schema = TypeAdapter(annotation).json_schema()
    except Exception:  # an annotation Pydantic cannot describe: nothing to learn from it
        return None
    for option in [schema, *schema.get("anyOf", ())]:
        if option.get("type") == "string" and isinstance(option.get("format"), str):
            return str(option["format"])
    return None


def field_facts(key: str, info: FieldInfo) -> FieldFacts:
    """Return the constraints Pydantic enforces for field `key` (never raises)."""
    facts = FieldFacts(
        key=key,
        annotation=info.annotation,
        accepts_none=_accepts_none(info.annotation),
        has_default=not info.is_required(),
        string_format=_string_format(info.annotation),
    )
    for item in _metadata_items(info):
        for name in ("max_length", "min_length", "pattern", *_NUMERIC, "max_digits",
                     "decimal_places"):
            value = getattr(item, name, None)
            if value is None or value is PydanticUndefined:
                continue
            if name == "pattern" and not isinstance(value, str):
                value = getattr(value, "pattern", str(value))
            current = getattr(facts, name)
            if current is None:
                setattr(facts, name, value)
            elif name in ("max_length", "le", "lt", "max_digits", "decimal_places"):
                setattr(facts, name, min(current, value))
            elif name in ("min_length", "ge", "gt"):
                setattr(facts, name, max(current, value))
    return facts


def enum_class_of(annotation: Any) -> type | None:
    """Return the `enum.Enum` subclass inside `annotation` (through Optional/Annotated)."""
    import enum

    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation
    for arg in typing.get_args(annotation):
        found = enum_class_of(arg)
        if found is not None:
            return found
    return None
