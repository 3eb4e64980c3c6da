"""A small async issue tracker."""
