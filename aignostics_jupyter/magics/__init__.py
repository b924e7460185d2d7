"""The ``%aignostics`` line and cell magics (``%load_ext aignostics_jupyter``).

Each magic is a thin adapter: it parses its arguments, calls the client, storage or widgets, and returns the
natural object (a widget, a table, a run) so it can be used in further code. Errors print one line.
"""

from __future__ import annotations

from aignostics_jupyter.magics.core import AignosticsMagics, register

__all__ = ["AignosticsMagics", "register"]
