"""Fixtures shared by the tests under tests/ (the harness itself lives in the root conftest.py)."""
