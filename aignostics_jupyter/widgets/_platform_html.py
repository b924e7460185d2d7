"""Small HTML pieces shared by the widgets and the magics: tables, badges, a spinner, times."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["OK_ICON", "SPINNER", "WARN_ICON", "badge", "esc", "html_table", "utc_text"]

# Icons from Font Awesome, which ships with the widget front end (emoji need fonts a server may lack).
#: A small spinning indicator.
SPINNER = '<i class="fa fa-spinner fa-spin" aria-label="working"></i>'
#: A green check mark.
OK_ICON = '<i class="fa fa-check-circle" style="color:#198754" aria-label="ok"></i>'
#: A red warning sign.
WARN_ICON = '<i class="fa fa-exclamation-triangle" style="color:#dc3545" aria-label="problem"></i>'

_COLORS = {
    "PENDING": "#6c757d",
    "PROCESSING": "#0d6efd",
    "TERMINATED": "#198754",
    "SUCCEEDED": "#198754",
    "USER_ERROR": "#dc3545",
    "SYSTEM_ERROR": "#dc3545",
    "CANCELED_BY_USER": "#fd7e14",
    "CANCELED_BY_SYSTEM": "#fd7e14",
    "SKIPPED": "#6c757d",
    "ok": "#198754",
    "error": "#dc3545",
    "unreachable": "#dc3545",
    "not logged in": "#fd7e14",
    "not found": "#fd7e14",
}


def esc(value: Any) -> str:
    """Escape any value for HTML (None becomes an empty string)."""
    return "" if value is None else html.escape(str(value))


def badge(text: str | None) -> str:
    """A coloured state badge, e.g. ``badge("TERMINATED")``."""
    if not text:
        return ""
    color = _COLORS.get(text, "#6c757d")
    style = f"background:{color};color:white;border-radius:4px;padding:0 6px;font-size:90%"
    return f'<span class="aignostics-badge" style="{style}">{esc(text)}</span>'


def utc_text(when: datetime | float | int | None) -> str:
    """Format a time (datetime or Unix seconds) as ``YYYY-MM-DD HH:MM UTC``."""
    if when is None:
        return ""
    moment = datetime.fromtimestamp(when, UTC) if isinstance(when, int | float) else when.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def html_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, raw: Iterable[int] = ()) -> str:
    """Render rows as an HTML table; cells are escaped except in the ``raw`` column indexes.

    Example:
        >>> html_table(["a"], [["<b>"]])
        '<table class="aignostics-table"><thead><tr><th>a</th></tr></thead><tbody><tr><td>&lt;b&gt;</td></tr></tbody></table>'
    """  # noqa: E501
    keep = set(raw)
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if i in keep else esc(cell)}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<table class="aignostics-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
