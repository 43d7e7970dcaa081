"""GUI tests of the template studio."""
