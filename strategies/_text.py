"""Text strategies biased to the edges PostgreSQL and Pydantic disagree on.

Lengths are in code points, which is how PostgreSQL counts characters in a UTF8 database
(`char_length`). Text never contains NUL or lone surrogates: PostgreSQL cannot store them.
"""

from __future__ import annotations

from hypothesis import strategies as st

# The alphabet: every Unicode scalar value except NUL (the utf-8 codec excludes surrogates).
CHARACTERS = st.characters(codec="utf-8", exclude_characters="\x00")

MULTI_BYTE = ("é", "ß", "€", "中", "ж", "\u0628")
ASTRAL = ("😀", "\U0001d538", "\U0001f9d1", "\U00020000", "\U0010fffd")
COMBINING = ("\u0301", "\u0308", "\u20dd", "\u200d", "\ufe0f")
WHITESPACE = (" ", "\t", "\n", "\r", "\u00a0", "\u2028", "\u3000", "\u200b", "\ufeff")
ASCII_EDGE = ("'", '"', "\\", "%", "_", ";", "\x01", "\x7f")
SPECIALS: tuple[str, ...] = MULTI_BYTE + ASTRAL + COMBINING + WHITESPACE + ASCII_EDGE
# PostgreSQL's btrim/trim remove only the space character.
SQL_BLANK = " "
# Soft cap on generated lengths when the column is unbounded.
UNBOUNDED_SOFT_MAX = 64


def lengths(min_len: int, max_len: int | None) -> st.SearchStrategy[int]:
    """Lengths in [min_len, max_len], with min, min+1, max-1 and max drawn often."""
    hi = max_len if max_len is not None else min_len + UNBOUNDED_SOFT_MAX
    edges = sorted({n for n in (min_len, min_len + 1, hi - 1, hi) if min_len <= n <= hi})
    middle = st.integers(min_len, min(hi, min_len + UNBOUNDED_SOFT_MAX))
    return st.one_of(st.sampled_from(edges), middle)


@st.composite
def texts(
    draw: st.DrawFn,
    min_len: int = 0,
    max_len: int | None = None,
    *,
    not_blank: bool = False,
) -> str:
    """Strings of min_len..max_len code points, edges emphasised (see module docstring).

    With `not_blank`, the result is not blank for Python's ``str.strip()`` (hence also not
    blank for PostgreSQL's ``btrim``, which only removes spaces).
    """
    n = draw(lengths(min_len, max_len))
    mode = draw(st.sampled_from(("mixed", "mixed", "ascii", "astral", "whitespace")))
    if mode == "ascii":
        chars = list(draw(st.text(st.characters(min_codepoint=1, max_codepoint=127),
                                  min_size=n, max_size=n)))
    elif mode == "astral":
        chars = list(draw(st.text(st.characters(min_codepoint=0x10000, codec="utf-8"),
                                  min_size=n, max_size=n)))
    elif mode == "whitespace":
        chars = [draw(st.sampled_from(WHITESPACE)) for _ in range(min(n, 8))]
        chars += [SQL_BLANK] * (n - len(chars))
    else:
        chars = list(draw(st.text(CHARACTERS, min_size=n, max_size=n)))
        # Splice a few special characters in; each is one code point, so n is kept.
        for _ in range(draw(st.integers(0, min(n, 4)))):
            chars[draw(st.integers(0, n - 1))] = draw(st.sampled_from(SPECIALS))
    if not_blank and n > 0 and "".join(chars).strip() == "":
        chars[draw(st.integers(0, n - 1))] = draw(st.sampled_from(("a", "é", "😀", "0")))
    return "".join(chars)


def blank(min_len: int, max_len: int | None) -> st.SearchStrategy[str]:
    """Strings made only of spaces (blank for btrim), length within [max(1,min), max]."""
    return lengths(max(1, min_len), max_len).map(lambda n: SQL_BLANK * n)
