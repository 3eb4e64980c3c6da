"""Values of the string formats Pydantic validates (``EmailStr``, ``HttpUrl``/``AnyUrl``),
built valid by construction within a column's length bounds.

Hypothesis' ``st.emails()`` and hypothesis-jsonschema's ``format: email`` draw addresses that
email-validator (what ``EmailStr`` runs) refuses, such as special-use domains or quoted local
parts; filtering them through the model made every table with an ``EmailStr`` column end in
``Unsatisfiable``. These strategies draw only forms every validator accepts and that Pydantic
returns unchanged (lower-case ASCII, a path on every URL), so a value reads back equal.
"""

from __future__ import annotations

from hypothesis import strategies as st

from ._errors import UnsupportedColumnError

__all__ = ["FORMATS", "emails", "urls"]

_LABEL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_TLDS = ("io", "com", "org", "net", "dev")  # the shortest first: it fits every bound
EMAIL_MAX = 254  # RFC 5321 path limit, which email-validator enforces
LOCAL_MAX = 64
LABEL_MAX = 63


def _filled(draw: st.DrawFn, size: int) -> str:
    """``size`` characters of a DNS label / local part (a short drawn prefix, repeated)."""
    if size <= 0:
        return ""
    head = draw(st.text(_LABEL_CHARS, min_size=1, max_size=min(size, 8)))
    return (head * (size // len(head) + 1))[:size]


@st.composite
def _email(draw: st.DrawFn, low: int, high: int) -> str:
    total = draw(st.integers(low, high) | st.sampled_from(sorted({low, high})))
    tld = draw(st.sampled_from([t for t in _TLDS if len(t) + 4 <= total]))
    fixed = 2 + len(tld)  # "@" and "."
    room = total - fixed
    local = draw(st.integers(max(1, room - LABEL_MAX), min(LOCAL_MAX, room - 1)))
    return f"{_filled(draw, local)}@{_filled(draw, room - local)}.{tld}"


def emails(min_length: int = 0, max_length: int | None = None, *, table: str = "",
           column: str = "") -> st.SearchStrategy[str]:
    """Addresses ``EmailStr`` accepts unchanged, of ``min_length..max_length`` characters;
    raises UnsupportedColumnError when no address fits the bounds."""
    low = max(min_length, 6)  # a@b.io
    high = min(max_length if max_length is not None else 40, EMAIL_MAX, LOCAL_MAX + LABEL_MAX + 4)
    if low > high:
        raise UnsupportedColumnError(table, column, f"no e-mail address has {min_length}.."
                                     f"{max_length} characters")
    return _email(low, high)


@st.composite
def _url(draw: st.DrawFn, low: int, high: int) -> str:
    prefix = "https://"
    total = draw(st.integers(low, high) | st.sampled_from(sorted({low, high})))
    tld = draw(st.sampled_from([t for t in _TLDS if len(prefix) + len(t) + 3 <= total]))
    room = total - len(prefix) - len(tld) - 2  # "." and the first "/" of the path
    host = draw(st.integers(1, max(1, min(LABEL_MAX, room))))
    return f"{prefix}{_filled(draw, host)}.{tld}/{_filled(draw, room - host)}"


def urls(min_length: int = 0, max_length: int | None = None, *, table: str = "",
         column: str = "") -> st.SearchStrategy[str]:
    """``https://`` URLs ``HttpUrl`` and ``AnyUrl`` accept unchanged (a path is always present,
    so Pydantic adds no trailing slash) of ``min_length..max_length`` characters; raises
    UnsupportedColumnError when none fits."""
    low = max(min_length, len("https://a.io/"))
    high = min(max_length if max_length is not None else 60, LABEL_MAX * 2 + 16)
    if low > high:
        raise UnsupportedColumnError(table, column, f"no URL has {min_length}..{max_length} "
                                     "characters")
    return _url(low, high)


# JSON-schema ``format`` of the field (as Pydantic publishes it) -> its strategy.
FORMATS = {"email": emails, "uri": urls}
