"""Helpers the test modules share: `from tests.helpers.cli import run`. Fixtures stay in
the conftest.py files, where pytest finds them."""
