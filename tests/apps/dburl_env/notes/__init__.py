"""A small notes app: notebooks and their notes."""
