"""Presence: which ids have anything in a group of books, so that a reader
skips the books of an id with nothing in them (the 360 card of a customer
without orders, plans or contracts: one read, not one per book).

- A mark `_id: <id>` is inserted before the id's first book entry: the
  books' `on_new_book` hook runs before a new chain's hint, so before any
  link. A missing mark therefore means nothing to read, once the backfill
  below has run. Marks are never removed (book entries are not either).
- `backfill(hints)` marks every id that has a book already (a scan of the
  books' hints), then records that it finished. Until a run has finished
  somewhere, `may_have` answers True: read the books, as before the marks.
  It is idempotent, so every replica may run it, and it runs again on each
  start and now and then: that also marks books a replica of an older
  version started during a rolling upgrade, after the first run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from crm_kit.mongo import duplicate_positions

log = logging.getLogger(__name__)

# The backfill's "finished" record, among the marks: no id a book names has parentheses.
FINISHED = "(backfilled)"
BATCH = 1000


class Presence:
    def __init__(self, marks: Collection, prefix: str):
        self.marks = marks
        self.prefix = prefix  # the books of an id are "<prefix><id>"
        self._trusted = False  # True once a backfill has finished (it never becomes False again)

    def mark_books(self, books: list[str]) -> None:
        """The Books hook: mark the ids of the new books that have the prefix."""
        self._mark([book[len(self.prefix):] for book in books if book.startswith(self.prefix)])

    def may_have(self, id_: str) -> bool:
        """False only when `id_` certainly has no entry in the books."""
        if not self.trusted():
            return True
        return self.marks.find_one({"_id": id_}) is not None

    def trusted(self) -> bool:
        if not self._trusted:
            self._trusted = self.marks.find_one({"_id": FINISHED}) is not None
        return self._trusted

    def backfill(self, hints: Iterable[Collection]) -> int:
        """Mark every id with a book (one scan of each hints collection);
        returns how many ids the books name."""
        ids: set[str] = set()
        for collection in hints:
            ids.update(doc["_id"][len(self.prefix):] for doc in collection.find({}, {"_id": 1})
                       if isinstance(doc["_id"], str) and doc["_id"].startswith(self.prefix))
        ordered = sorted(ids)
        for start in range(0, len(ordered), BATCH):
            self._mark(ordered[start:start + BATCH])
        self._mark([FINISHED])
        self._trusted = True
        log.info("presence marks backfilled", extra={"fields": {"marks": self.marks.name, "ids": len(ordered)}})
        return len(ordered)

    def _mark(self, ids: list[str]) -> None:
        if not ids:
            return
        try:
            self.marks.insert_many([{"_id": id_} for id_ in ids], ordered=False)
        except BulkWriteError as err:
            duplicate_positions(err)  # marked already is fine; anything else is raised
