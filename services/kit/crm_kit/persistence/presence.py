"""Presence: which ids have anything in a group of books, so that a reader
skips the books of an id with nothing in them (the 360 card of a customer
without orders, plans or contracts: one read, not one per book).

- A mark `_id: <id>` is inserted before the id's first book entry: the
  books' `on_new_book` (a chain's `on_new`) hook, `marker(prefix)`, runs
  before a new chain's hint, so before any link. One marks collection can
  serve chains of several kinds, each naming its id after its own prefix
  ("customer:<id>", or the bare id). Marks are never removed.
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
from collections.abc import Callable, Iterable

from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from crm_kit.mongo import duplicate_positions
from crm_kit.persistence.chain import Chain, link_id

log = logging.getLogger(__name__)

BATCH = 1000
PACED_BATCH = 500  # documents a scan reads before it pauses
RUNS = 2  # at start, and once more an interval later
FIRST_LINK = link_id("", 1)  # "#0000000001"


class Presence:
    def __init__(self, marks: Collection, enabled: bool = True):
        self.marks = marks
        self.enabled = enabled
        self.runs = 0  # finished backfills of this process: it trusts missing marks after the first

    def marker(self, prefix: str) -> Callable[[list[str]], None]:
        """The hook of chains whose keys are "<prefix><id>": it marks the ids
        of the new ones that have the prefix (others, a rep's, are not an id's)."""
        def mark(keys: list[str]) -> None:
            self._mark([key[len(prefix):] for key in keys if key.startswith(prefix)])
        return mark

    def may_have(self, id_: str) -> bool:
        """False only when `id_` certainly has no entry in the books."""
        if not self.runs:
            return True
        return self.marks.find_one({"_id": id_}) is not None

    def backfill(self, chains: Iterable[tuple[Chain, str]], first_links: bool = True) -> int:
        """Mark every id with a chain that has no mark yet: for each (chain,
        its keys' prefix), a scan of its hints and, in the first run, of its
        first links (`first_links=False`: not, for chains only ever read
        through their hint, where such a link reads as empty anyway); then of
        the marks. Returns how many were marked."""
        if not self.enabled or self.runs >= RUNS:
            return 0
        ids: set[str] = set()
        for chain, prefix in chains:
            ids.update(_ids(_paced(chain.hints.find({}, {"_id": 1})), prefix, ""))
            if first_links and not self.runs:
                first_links = {"_id": {"$regex": f"^{re.escape(prefix)}.*{re.escape(FIRST_LINK)}$"}}
                ids.update(_ids(_paced(chain.links.find(first_links, {"_id": 1})), prefix, FIRST_LINK))
        marked = {doc["_id"] for doc in _paced(self.marks.find({}, {"_id": 1}))}
        missing = sorted(ids - marked)
        for start in range(0, len(missing), BATCH):
            self._mark(missing[start:start + BATCH])
        self.runs += 1
        log.info("presence marks backfilled",
                 extra={"fields": {"marks": self.marks.name, "ids": len(ids), "marked": len(missing)}})
        return len(missing)

    def _mark(self, ids: list[str]) -> None:
        if not ids:
            return
        try:
            self.marks.insert_many([{"_id": id_} for id_ in ids], ordered=False)
        except BulkWriteError as err:
            duplicate_positions(err)  # marked already is fine; anything else is raised


def _ids(docs, prefix: str, suffix: str) -> Iterable[str]:
    for doc in docs:
        key = doc["_id"]
        if isinstance(key, str) and key.startswith(prefix) and key.endswith(suffix):
            yield key[len(prefix):len(key) - len(suffix)]


def _paced(cursor):
    """The cursor's documents, read PACED_BATCH at a time with a pause as long as each batch took."""
    started, n = time.monotonic(), 0
    for doc in cursor.batch_size(PACED_BATCH):
        yield doc
        n += 1
        if n % PACED_BATCH == 0:
            time.sleep(time.monotonic() - started)
            started = time.monotonic()
