"""Sorting, pagination and 422 errors shared by the list endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from fastapi.exceptions import RequestValidationError

from aignostics_jupyter.emulator.jsonpath import JsonPathError, compile_jsonpath

__all__ = ["check_jsonpath", "order_by", "raise_422"]


def raise_422(loc: tuple[str, ...], message: str, value: Any) -> NoReturn:
    """Raise a FastAPI-style validation error (422 with a ``detail`` list)."""
    raise RequestValidationError(
        [
            {
                "type": "value_error",
                "loc": loc,
                "msg": f"Value error, {message}",
                "input": value,
                "ctx": {"error": message},
            }
        ]
    )


def order_by(sort: list[str] | None, fields: Mapping[str, str], default: str, tiebreak: str) -> str:
    """Build an ORDER BY clause from repeatable ``sort`` values (``-`` descending, ``+`` or nothing ascending).

    Args:
        sort: The query values, e.g. ``["state", "-submitted_at"]``.
        fields: Allowed field name → SQL expression.
        default: The clause used when no sort is given.
        tiebreak: Appended to every clause so that pages are stable.

    Returns:
        The clause, without the ``ORDER BY`` keywords.
    """
    if not sort:
        return f"{default}, {tiebreak}"
    terms = []
    for value in sort:
        direction = "DESC" if value.startswith("-") else "ASC"
        name = value.lstrip("+-").strip()
        if name not in fields:
            allowed = ", ".join(sorted(fields))
            raise_422(("query", "sort"), f"cannot sort by {name!r}; sortable fields are {allowed}", value)
        terms.append(f"{fields[name]} {direction}")
    return ", ".join([*terms, tiebreak])


def check_jsonpath(expression: str | None) -> str | None:
    """Validate a ``custom_metadata`` JSONPath filter (422 naming the problem)."""
    if expression is None:
        return None
    try:
        compile_jsonpath(expression)
    except JsonPathError as exc:
        raise_422(("query", "custom_metadata"), f"invalid JSONPath expression: {exc}", expression)
    return expression
