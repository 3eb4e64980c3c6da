"""The folders beside test_adoption.py are other people's projects, run by it in a virtualenv of
their own; they are not tests of this suite."""

collect_ignore = ["own_backend", "plain_hypothesis"]
