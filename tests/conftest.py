"""Fixtures shared by the unit tests (the notebook wiring is in the root conftest.py)."""

from tests.localserver import server  # noqa: F401 (a real HTTP server on 127.0.0.1)
