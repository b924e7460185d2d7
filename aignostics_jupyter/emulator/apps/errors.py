"""Errors of the local applications, split by who must act: the user (bad input) or the platform (a fault).

The runner turns :class:`ItemUserError` into an item that ends with ``USER_ERROR`` and
:class:`ItemSystemError` into ``SYSTEM_ERROR``; ``code`` and ``message`` become the item's error code and
message.
"""

from __future__ import annotations

__all__ = ["ItemSystemError", "ItemUserError"]


class _ItemError(Exception):
    """An item failed; ``code`` is a short upper-case identifier, ``message`` one sentence for the user."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class ItemUserError(_ItemError):
    """The input cannot be analysed: not a readable slide, empty or truncated file, bad or missing metadata."""


class ItemSystemError(_ItemError):
    """The analysis itself failed (unknown application version, internal fault)."""
