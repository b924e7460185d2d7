"""Lazy iteration over the platform's page-numbered lists.

Lists are bare JSON arrays with no total; a client stops when a page is shorter than the page size, is empty,
or (past the first page) answers 404. Nothing is fetched until the iterator is consumed, and each ``iter()``
starts again at page one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from aignostics_jupyter.exceptions import NotFoundError

__all__ = ["Pages"]

T = TypeVar("T")


class Pages(Generic[T]):
    """A lazy, re-iterable sequence of list entries fetched page by page.

    Example:
        >>> pages = Pages(lambda page, size: [page] * (size if page < 3 else 1), lambda x: x, page_size=2)
        >>> list(pages)
        [1, 1, 2, 2, 3]
    """

    def __init__(
        self,
        fetch: Callable[[int, int], list[Any]],
        parse: Callable[[Any], T],
        *,
        page_size: int,
        limit: int | None = None,
        keep: Callable[[T], bool] | None = None,
    ) -> None:
        self._fetch = fetch
        self._parse = parse
        self._page_size = page_size
        self._limit = limit
        self._keep = keep

    def __iter__(self) -> Iterator[T]:
        page, seen = 1, 0
        while True:
            try:
                entries = self._fetch(page, self._page_size)
            except NotFoundError:
                if page == 1:
                    raise
                return
            for entry in entries:
                if self._limit is not None and seen >= self._limit:
                    return
                parsed = self._parse(entry)
                if self._keep is not None and not self._keep(parsed):
                    continue
                seen += 1
                yield parsed
            if len(entries) < self._page_size:
                return
            page += 1

    def page(self, number: int) -> list[T]:
        """Fetch one page (numbered from 1), e.g. for a paged table; past the end it is empty.

        Client-side filters (tags, note) apply within the page, so a page may hold fewer entries than its size.

        Raises:
            NotFoundError: When the first page answers 404 (the parent entity does not exist).
        """
        if number < 1:
            raise ValueError("pages are numbered from 1")
        try:
            entries = self._fetch(number, self._page_size)
        except NotFoundError:
            if number == 1:
                raise
            return []
        parsed = [self._parse(entry) for entry in entries]
        return [p for p in parsed if self._keep is None or self._keep(p)]

    def first(self) -> T | None:
        """Return the first entry, or None for an empty list (fetches one page at most)."""
        return next(iter(self), None)

    def to_list(self) -> list[T]:
        """Fetch every page and return all entries."""
        return list(self)
