"""A lending library: authors, books, loans (integers, decimals, unique, SET NULL / RESTRICT)."""
