"""Shared fixtures live in tests/fixtures/, one module per boundary."""

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.central",
    "tests.fixtures.redis",
    "tests.fixtures.forms",
]
