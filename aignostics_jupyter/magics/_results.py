"""What the magics return: the underlying objects, rendered as rich tables in the notebook.

``ResultList`` is a list (of models) and ``ResultDict`` a dict, each with an HTML table as its notebook
representation; ``Record`` wraps one object, shows it as a two-column table and passes attribute access through,
so ``me = %aignostics whoami`` then ``me.user.email`` works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from aignostics_jupyter.widgets._platform_html import esc, html_table

__all__ = ["Record", "ResultDict", "ResultList"]

T = TypeVar("T")


class ResultList(list[T], Generic[T]):
    """A list of objects that renders as a table.

    Args:
        items: The objects.
        columns: The column titles.
        row: Turns one object into its cells.
        title: A caption.
        raw: Indexes of columns holding HTML.
    """

    def __init__(
        self,
        items: Iterable[T],
        columns: Sequence[str],
        row: Callable[[T], Sequence[Any]],
        *,
        title: str = "",
        raw: Iterable[int] = (),
    ) -> None:
        super().__init__(items)
        self._columns = list(columns)
        self._row = row
        self._title = title
        self._raw = tuple(raw)

    def rows(self) -> list[Sequence[Any]]:
        """The table's cells."""
        return [self._row(item) for item in self]

    def _repr_html_(self) -> str:
        caption = f"<p><b>{esc(self._title)}</b> ({len(self)})</p>" if self._title else ""
        if not self:
            return f"{caption}<p><em>Nothing to show.</em></p>"
        return caption + html_table(self._columns, self.rows(), raw=self._raw)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        lines = [f"{self._title} ({len(self)})"] if self._title else []
        lines += ["  ".join(str(c) for c in self._columns)]
        lines += ["  ".join("" if c is None else str(c) for c in row) for row in self.rows()]
        printer.text("\n".join(lines))


class ResultDict(dict[str, Any]):
    """A dict that renders as a two-column table."""

    def __init__(self, values: dict[str, Any], *, title: str = "") -> None:
        super().__init__(values)
        self._title = title

    def _repr_html_(self) -> str:
        caption = f"<p><b>{esc(self._title)}</b></p>" if self._title else ""
        return caption + html_table(["name", "value"], [(k, _cell(v)) for k, v in self.items()])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        width = max((len(k) for k in self), default=0)
        lines = [self._title] if self._title else []
        lines += [f"{k.ljust(width)}  {_cell(v)}" for k, v in self.items()]
        printer.text("\n".join(lines))


class Record(Generic[T]):
    """One object shown as a table of fields; attribute access goes to the object (``record.value``).

    Example:
        >>> r = Record(3 + 4j, {"real": 3.0}, title="a number")
        >>> r.imag, r.value
        (4.0, (3+4j))
    """

    def __init__(self, value: T, fields: dict[str, Any], *, title: str = "") -> None:
        self.value = value
        self.fields = ResultDict(fields, title=title)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["value"], name)

    def _repr_html_(self) -> str:
        return self.fields._repr_html_()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        self.fields._repr_pretty_(printer, cycle)

    def __repr__(self) -> str:
        return f"Record({self.fields!r})"


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)
