"""Text rules shared by the models and their CHECK constraints.

Two rules, each enforced on both sides:

* *storable*: PostgreSQL ``text``/``varchar`` cannot hold NUL (U+0000) and UTF-8 cannot encode a
  lone surrogate (U+D800..U+DFFF); the models reject both (the database or the driver would).
* *not blank*: "not blank after trim" means what Python's ``str.strip()`` means, i.e. the value
  holds at least one character that is not ``str.isspace()``.  PostgreSQL's ``btrim`` strips only
  U+0020 and its regex class ``[[:space:]]`` depends on the locale, so the CHECK constraint lists
  Python's whitespace set explicitly (hand-written because no library exposes it as SQL).
  ``tests/backend`` asserts that :data:`PY_WHITESPACE` equals Python's own set.
"""

from __future__ import annotations

__all__ = [
    "PY_WHITESPACE",
    "check_not_blank",
    "check_storable",
    "not_blank_sql",
]

#: Every code point for which ``str.isspace()`` is true (Unicode 15, CPython 3.11).
PY_WHITESPACE: str = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def _regex_class(chars: str) -> str:
    r"""Return a PostgreSQL ARE bracket-expression body matching exactly ``chars``.

    Runs of consecutive code points become ranges; every character is a ``\uXXXX`` escape
    (exactly four hex digits, so no escape swallows the next character), which keeps the stored
    constraint definition ASCII and readable.
    """
    points = sorted({ord(c) for c in chars})
    runs: list[tuple[int, int]] = []
    for point in points:
        if runs and runs[-1][1] == point - 1:
            runs[-1] = (runs[-1][0], point)
        else:
            runs.append((point, point))
    parts = []
    for first, last in runs:
        if first == last:
            parts.append(f"\\u{first:04x}")
        else:
            parts.append(f"\\u{first:04x}-\\u{last:04x}")
    return "".join(parts)


def not_blank_sql(column: str) -> str:
    """Return the SQL boolean expression "``column`` holds a non-whitespace character".

    The regex needs ``standard_conforming_strings`` (the default since PostgreSQL 9.1).
    """
    return f"{column} ~ '[^{_regex_class(PY_WHITESPACE)}]'"


def check_storable(value: str) -> str:
    """Return ``value`` unchanged; raise ``ValueError`` if it holds NUL or a lone surrogate."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\x00): PostgreSQL cannot store it")
    for index, char in enumerate(value):
        if "\ud800" <= char <= "\udfff":
            raise ValueError(
                f"must not contain a lone surrogate (U+{ord(char):04X} at index {index}): "
                "it cannot be encoded as UTF-8"
            )
    return value


def check_not_blank(value: str) -> str:
    """Return ``value`` unchanged; raise ``ValueError`` if it is empty or only whitespace."""
    if not value.strip():
        raise ValueError("must not be blank (empty or whitespace only)")
    return value
