"""Books: insert-only list indexes, read by `_id` with a bounded walk.

A sorted list query reads and decodes every document on FerretDB's SQLite
back end (16 s for one page at 100,000 customers). So each list a user
pages through (a rep's customers, the pool, a queue, a status) is a book: a
chain (crm_kit.persistence.chain) of arrivals `{<item field>, since}`,
appended when an item comes to the list, before the item itself changes (a
crash leaves at most a stale entry, never a lost one). Entries are never
removed: whether an entry still stands (the item is still there, and came
there at `since`) is the owning service's rule, applied on every read.
A page walks at most `scan_limit` entries from its position: a rare filter
may return a short page with a token to go on, never a long stall.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

from pymongo.collection import Collection

from crm_kit.persistence.chain import Chain

T = TypeVar("T")

SCAN_LIMIT = 2000


class Books:
    def __init__(self, links: Collection, hints: Collection, item_field: str = "item_id",
                 on_new_book: Callable[[list[str]], None] | None = None):
        # on_new_book(books) runs before the first entry of each new book (a Presence's mark_books)
        self.chain = Chain(links, hints, on_new_book)
        self.item_field = item_field

    def add(self, arrivals: list[tuple[str, str, datetime]]) -> None:
        """Note (book, item id, since) arrivals: one bulk insert for all books."""
        by_book: dict[str, list[dict]] = {}
        for book, item_id, since in arrivals:
            by_book.setdefault(book, []).append({self.item_field: item_id, "since": since})
        self.chain.append_to_many(by_book)

    def entry(self, book: str, n: int) -> tuple[str, datetime] | None:
        link = self.chain.link(book, n)
        return (link[self.item_field], link["since"]) if link else None

    def started(self) -> bool:
        return self.chain.hints.find_one({}) is not None

    def walk(self, book: str, resolve: Callable[[str, datetime], T | None], start: int = 1,
             limit: int | None = None) -> Iterator[tuple[int, T | None]]:
        """(number, resolve(item, since)) of each entry from `start` to the end
        of the book, at most `limit` entries; resolve returns None where the
        entry no longer stands."""
        n = start
        while limit is None or n < start + limit:
            entry = self.entry(book, n)
            if entry is None:
                return
            yield n, resolve(*entry)
            n += 1

    def page(self, book: str, resolve: Callable[[str, datetime], T | None], size: int, start: int = 1,
             scan_limit: int = SCAN_LIMIT) -> tuple[list[T], int | None]:
        """Up to `size` standing items from entry `start` on, in the order
        they came, and the entry to go on from (None at the end of the book).
        Arrivals during paging come at the end: nothing skipped or repeated."""
        found: list[tuple[int, T]] = []
        last = start - 1
        for last, item in self.walk(book, resolve, start, scan_limit):
            if item is not None:
                found.append((last, item))
                if len(found) > size:
                    return [i for _n, i in found[:size]], found[size][0]
        if last < start + scan_limit - 1:
            return [i for _n, i in found], None  # the end of the book
        return [i for _n, i in found], last + 1
