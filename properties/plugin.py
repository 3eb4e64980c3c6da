"""Pytest plugin: placeholder until the harness lands."""
