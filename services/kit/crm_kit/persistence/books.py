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

from crm_kit.mongo import find_by_ids
from crm_kit.persistence.chain import Chain

T = TypeVar("T")
# Resolves a batch of (item id, since) entries: one result per entry, None where it no longer stands.
ResolveMany = Callable[[list[tuple[str, datetime]]], list]

SCAN_LIMIT = 2000
# Entries read at once by a walk (one `find_by_ids`).
WALK_BATCH = 50


class Books:
    def __init__(self, links: Collection, hints: Collection, item_field: str = "item_id",
                 on_new_book: Callable[[list[str]], None] | None = None):
        # on_new_book(books) runs before the first entry of each new book (a Presence's marker)
        self.chain = Chain(links, hints, on_new_book)
        self.item_field = item_field

    def add(self, arrivals: list[tuple[str, str, datetime]]) -> None:
        """Note (book, item id, since) arrivals: one bulk insert for all books."""
        by_book: dict[str, list[dict]] = {}
        for book, item_id, since in arrivals:
            by_book.setdefault(book, []).append({self.item_field: item_id, "since": since})
        self.chain.append_to_many(by_book)

    def entries(self, book: str, numbers: range) -> list[tuple[int, str, datetime]]:
        """(number, item id, since) of the entries with these numbers that
        exist, in the order of `numbers`, in one read."""
        links = self.chain.links_of(book, numbers)
        return [(n, links[n][self.item_field], links[n]["since"]) for n in numbers if n in links]

    def started(self) -> bool:
        return self.chain.hints.find_one({}) is not None

    def walk(self, book: str, resolve: Callable[[str, datetime], T | None], start: int = 1,
             limit: int | None = None) -> Iterator[tuple[int, T | None]]:
        """(number, resolve(item, since)) of each entry from `start` to the end
        of the book, at most `limit` entries; resolve returns None where the
        entry no longer stands. Entries are read WALK_BATCH at once, each
        resolved only when the walk reaches it."""
        for batch in self._batches(book, start, limit):
            for n, item_id, since in batch:
                yield n, resolve(item_id, since)

    def walk_many(self, book: str, resolve_many: ResolveMany, start: int = 1,
                  limit: int | None = None) -> Iterator[tuple[int, T | None]]:
        """As `walk`, each batch of entries resolved by one call (so its items
        can be read at once): resolve_many([(item, since), ...]) answers one
        result (None where the entry no longer stands) per entry, in order."""
        for batch in self._batches(book, start, limit):
            yield from _resolved(batch, resolve_many)

    def newest_first(self, book: str, resolve_many: ResolveMany) -> Iterator[tuple[int, T | None]]:
        """As `walk_many`, from the book's last entry back to its first. The
        first read takes the entry after the hint too: only when that one
        exists (the hint lags) is the real end looked for."""
        n = self.chain.hinted(book)
        if n is None:
            return
        batch = self.entries(book, range(n + 1, _back_from(n).stop, -1))  # one batch and the number after it
        if batch and batch[0][0] == n + 1:
            n, _doc = self.chain.top(book)
            batch = self.entries(book, _back_from(n))
        while n > 0:
            yield from _resolved(batch, resolve_many)
            n -= WALK_BATCH
            batch = self.entries(book, _back_from(n)) if n > 0 else []

    def _batches(self, book: str, start: int, limit: int | None) -> Iterator[list[tuple[int, str, datetime]]]:
        """Consecutive entries from `start`, WALK_BATCH a read, up to the end
        of the book (its first missing number: a chain has no gaps) or `limit`."""
        n, end = start, None if limit is None else start + limit
        while end is None or n < end:
            count = WALK_BATCH if end is None else min(WALK_BATCH, end - n)
            # Up to the first missing number (one being written right now ends the walk, as before).
            batch = [entry for i, entry in enumerate(self.entries(book, range(n, n + count))) if entry[0] == n + i]
            if batch:
                yield batch
            if len(batch) < count:
                return
            n += count

    def page(self, book: str, resolve: Callable[[str, datetime], T | None], size: int, start: int = 1,
             scan_limit: int = SCAN_LIMIT) -> tuple[list[T], int | None]:
        """Up to `size` standing items from entry `start` on, in the order
        they came, and the entry to go on from (None at the end of the book).
        Arrivals during paging come at the end: nothing skipped or repeated."""
        return _page(self.walk(book, resolve, start, scan_limit), size, start, scan_limit)

    def page_many(self, book: str, resolve_many: ResolveMany, size: int, start: int = 1,
                  scan_limit: int = SCAN_LIMIT) -> tuple[list[T], int | None]:
        """As `page`, with the entries resolved a batch at once (see walk_many)."""
        return _page(self.walk_many(book, resolve_many, start, scan_limit), size, start, scan_limit)


def read_by_ids(collection: Collection, from_doc: Callable[[dict], T]) -> ResolveMany:
    """A `resolve_many` for books whose entries name documents of
    `collection` by `_id`: the batch's items read at once (find_by_ids),
    None where one is gone."""
    def resolve(entries: list[tuple[str, datetime]]) -> list[T | None]:
        docs = find_by_ids(collection, [item for item, _since in entries])
        return [from_doc(docs[item]) if item in docs else None for item, _since in entries]

    return resolve


def _back_from(n: int) -> range:
    """Entry numbers n, n - 1, ... down to one batch's worth (or to 1)."""
    return range(n, max(n - WALK_BATCH, 0), -1)


def _resolved(batch: list[tuple[int, str, datetime]], resolve_many: ResolveMany) -> Iterator[tuple[int, T | None]]:
    return zip((n for n, _item, _since in batch), resolve_many([(item, since) for _n, item, since in batch]),
               strict=True)


def _page(walked: Iterator[tuple[int, T | None]], size: int, start: int, scan_limit: int
          ) -> tuple[list[T], int | None]:
    found: list[tuple[int, T]] = []
    last = start - 1
    for last, item in walked:
        if item is not None:
            found.append((last, item))
            if len(found) > size:
                return [i for _n, i in found[:size]], found[size][0]
    if last < start + scan_limit - 1:
        return [i for _n, i in found], None  # the end of the book
    return [i for _n, i in found], last + 1
