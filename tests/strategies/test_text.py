"""The text alphabet: what PostgreSQL can store, and cheap to set up in a fresh checkout."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from schemafuzz.strategies._text import _ASTRAL, CHARACTERS, texts

from .conftest import examples


@examples(300)
@given(st.text(CHARACTERS, min_size=1, max_size=50) | st.text(_ASTRAL, min_size=1) | texts(1, 50))
def test_the_alphabet_has_no_nul_and_no_lone_surrogate(text: str) -> None:
    assert "\x00" not in text
    text.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate


def test_a_fresh_checkout_builds_no_codec_table(tmp_path: Path) -> None:
    """Hypothesis builds a table per codec by encoding every code point (1.6 s, once per
    storage directory); the alphabet is defined by category so that it never needs one."""
    script = textwrap.dedent("""
        from hypothesis import given, settings
        from hypothesis import strategies as st
        from schemafuzz.strategies._text import _ASTRAL, CHARACTERS, texts

        @settings(max_examples=30, database=None)
        @given(texts(0, 40) | st.text(CHARACTERS) | st.text(_ASTRAL))
        def draw(text):
            pass

        draw()
    """)
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True)
    tables = {p.name for p in (tmp_path / ".hypothesis").rglob("*.json.gz")}
    assert tables, "Hypothesis wrote no Unicode table: the check below would prove nothing"
    assert not [name for name in tables if name.startswith("codec-")], tables
