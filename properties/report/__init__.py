"""The findings report: constraint coverage collected during a run, merged across xdist
workers, written as Markdown and JSON under ``.schemafuzz/`` and summarised in the terminal."""

from .ledger import Entry, Ledger, Measurement
from .render import summary_lines, write_reports

__all__ = ["Entry", "Ledger", "Measurement", "summary_lines", "write_reports"]
