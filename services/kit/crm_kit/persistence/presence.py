"""Presence: which ids have anything in a group of books, so that a reader
skips the books of an id with nothing in them (the 360 card of a customer
without orders, plans or contracts: one read, not one per book).

- A mark `_id: <id>` is inserted before the id's first book entry: the
  books' `on_new_book` hook runs before a new chain's hint, so before any
  link. Marks are never removed (book entries are not either).
- A process trusts a missing mark (nothing to read) only after a backfill
  of its own has finished: `backfill` marks every id that has a book
  already, from the books' hints and, in a process's first run, from their
  first links too (a writer of an older version wrote the link before the
  hint and may have died in between). Until then `may_have` is True.
- Writers of an older version write books without marks. Every replica runs
  the backfill at start and once more an interval later (RUNS), so a book an
  older replica begins while this one rolls out (an upgrade, or one after a
  rollback) is marked by that second run; until then the card does not show
  it. That bounded window is the price of the skipped reads; `enabled=False`
  never skips.
- A run scans (FerretDB decodes every document it reads), so it reads in
  small batches and pauses as long as each took: it never takes more than
  about half of the store's time from the requests around it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable

from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from crm_kit.mongo import duplicate_positions
from crm_kit.persistence.chain import link_id

log = logging.getLogger(__name__)

BATCH = 1000
PACED_BATCH = 500  # documents a scan reads before it pauses
RUNS = 2  # at start, and once more an interval later
FIRST_LINK = link_id("", 1)  # "#0000000001"


class Presence:
    def __init__(self, marks: Collection, prefix: str, enabled: bool = True):
        self.marks = marks
        self.prefix = prefix  # the books of an id are "<prefix><id>"
        self.enabled = enabled
        self.runs = 0  # finished backfills of this process: it trusts missing marks after the first

    def mark_books(self, books: list[str]) -> None:
        """The Books hook: mark the ids of the new books that have the prefix."""
        self._mark([book[len(self.prefix):] for book in books if book.startswith(self.prefix)])

    def may_have(self, id_: str) -> bool:
        """False only when `id_` certainly has no entry in the books."""
        if not self.runs:
            return True
        return self.marks.find_one({"_id": id_}) is not None

    def backfill(self, hints: Iterable[Collection], links: Iterable[Collection] = ()) -> int:
        """Mark every id with a book that has no mark yet (a scan of each
        hints collection, of the marks, and in the first run of the links'
        first links); returns how many were marked."""
        if not self.enabled or self.runs >= RUNS:
            return 0
        ids: set[str] = set()
        for collection in hints:
            ids.update(self._ids(_paced(collection.find({}, {"_id": 1})), ""))
        if not self.runs:
            first_links = {"_id": {"$regex": f"^{re.escape(self.prefix)}.*{re.escape(FIRST_LINK)}$"}}
            for collection in links:
                ids.update(self._ids(_paced(collection.find(first_links, {"_id": 1})), FIRST_LINK))
        marked = {doc["_id"] for doc in _paced(self.marks.find({}, {"_id": 1}))}
        missing = sorted(ids - marked)
        for start in range(0, len(missing), BATCH):
            self._mark(missing[start:start + BATCH])
        self.runs += 1
        log.info("presence marks backfilled",
                 extra={"fields": {"marks": self.marks.name, "ids": len(ids), "marked": len(missing)}})
        return len(missing)

    def _ids(self, docs, suffix: str) -> Iterable[str]:
        for doc in docs:
            key = doc["_id"]
            if isinstance(key, str) and key.startswith(self.prefix) and key.endswith(suffix):
                yield key[len(self.prefix):len(key) - len(suffix)]

    def _mark(self, ids: list[str]) -> None:
        if not ids:
            return
        try:
            self.marks.insert_many([{"_id": id_} for id_ in ids], ordered=False)
        except BulkWriteError as err:
            duplicate_positions(err)  # marked already is fine; anything else is raised


def _paced(cursor):
    """The cursor's documents, read PACED_BATCH at a time with a pause as long as each batch took."""
    started, n = time.monotonic(), 0
    for doc in cursor.batch_size(PACED_BATCH):
        yield doc
        n += 1
        if n % PACED_BATCH == 0:
            time.sleep(time.monotonic() - started)
            started = time.monotonic()
