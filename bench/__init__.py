"""Benchmarks that print figures (run as scripts from the repository root)."""
