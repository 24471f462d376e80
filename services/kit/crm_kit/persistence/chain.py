"""Append-only chains of documents, written by `_id` inserts alone.

FerretDB 1.x (SQLite back end) applies update operators as an unisolated
read-modify-write of the whole document: concurrent updates of one document
lose each other's changes. Measured: 8 threads × 50 `findAndModify $inc` on
one document returned 80 distinct values for 400 calls, and concurrent
`$addToSet` upserts kept 2 of 16 elements. Inserts are atomic (the unique
`_id`), so state that several writers change is kept as a chain:

- link n of key K is the document `_id: "K#<n, 10 digits>"`; inserting link
  n + 1 is the compare-and-swap: exactly one writer wins each number, a
  loser reads the winner's link and tries n + 2 from there;
- the newest link holds the state (or, for a log, the newest entry);
- a hint document `_id: "K"` says where the chain ends. It is moved with
  $max, which may itself lose a race, so it can lag: readers probe forward
  from it until a link is missing;
- the hint is written (at 0) before a chain's first link, so a chain
  without a hint is empty: reading it costs one read, not two (most
  customers have no interaction log, visit list or order book to read);
- `on_new(keys)`, when given, runs before new chains' hints are written, so
  whatever it records (a `presence.Presence` mark) precedes every link.

Every read and write goes by `_id` alone (a lone `_id`, or a list of them
read at once with `find_by_ids`), which FerretDB serves without a scan. On
MongoDB the same code is correct (and could use $inc; one code path for
both is worth the extra read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from pymongo import DeleteOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from crm_kit.errors import Aborted
from crm_kit.mongo import duplicate_positions, find_by_ids

MAX_ATTEMPTS = 100
# Hints read and moved a few at once when a bulk append touches this many chains or more.
PARALLEL_FROM, PARALLEL_CALLS = 16, 8


class ChainContention(Aborted):
    """More concurrent writers on one chain than MAX_ATTEMPTS rounds could beat."""

    def __init__(self):
        super().__init__("chain", message=f"could not append after {MAX_ATTEMPTS} attempts; retry")


def link_id(key: str, n: int) -> str:
    return f"{key}#{n:010d}"


class Chain:
    def __init__(self, links: Collection, hints: Collection,
                 on_new: Callable[[list[str]], None] | None = None):
        self.links = links
        self.hints = hints
        self.on_new = on_new

    def link(self, key: str, n: int) -> dict | None:
        return self.links.find_one({"_id": link_id(key, n)}) if n > 0 else None

    def links_of(self, key: str, numbers: Iterable[int]) -> dict[int, dict]:
        """The links with these numbers that exist, by number, in one read."""
        ids = {link_id(key, n): n for n in numbers if n > 0}
        return {ids[found]: doc for found, doc in find_by_ids(self.links, ids).items()} if ids else {}

    def top(self, key: str) -> tuple[int, dict | None]:
        """(number, document) of the newest link; (0, None) for an empty chain.
        The hinted link and the one after it are read at once (the hint is
        rarely behind), so a chain costs two reads, not three."""
        n = self.hinted(key)
        return (0, None) if n is None else self._from_hint(key, n)

    def _from_hint(self, key: str, n: int) -> tuple[int, dict | None]:
        if n == 0:
            return self._forward(key, 0, None)
        found = self.links_of(key, (n, n + 1))
        return self._forward(key, n + 1, found[n + 1]) if n + 1 in found else (n, found.get(n))

    def hinted(self, key: str) -> int | None:
        """Where the hint says the chain ends; None without a hint (an empty chain)."""
        hint = self.hints.find_one({"_id": key})
        return hint["top"] if hint else None

    def _top_for_writing(self, key: str) -> tuple[int, dict | None]:
        """top(), with the hint written first when there is none yet (see
        the module's docstring: no link before its chain's hint). A new
        chain is not probed: a writer that took link 1 meanwhile makes the
        insert fail as a duplicate, and the caller goes forward from there."""
        n = self.hinted(key)
        if n is None:
            self._start([key])
            return 0, None
        return self._from_hint(key, n)

    def _forward(self, key: str, n: int, doc: dict | None) -> tuple[int, dict | None]:
        while True:
            following = self.link(key, n + 1)
            if following is None:
                return n, doc
            n, doc = n + 1, following

    def append(self, key: str, make: Callable[[int, dict | None], dict | None]) -> tuple[int, dict | None]:
        """Insert link n + 1 = make(n + 1, link n) after the newest link n;
        `make` is called again (with the newer link) when another writer won.
        When `make` returns None nothing is written: (n, link n) comes back."""
        n, doc = self._top_for_writing(key)
        for _ in range(MAX_ATTEMPTS):
            new = make(n + 1, doc)
            if new is None:
                return n, doc
            try:
                self.links.insert_one({**new, "_id": link_id(key, n + 1)})
            except DuplicateKeyError:
                n, doc = self._forward(key, n, doc)
                continue
            self._advance_hint(key, n + 1)
            return n + 1, new
        raise ChainContention()

    def append_many(self, key: str, docs: list[dict]) -> int:
        """Append `docs` as consecutive links, in order, with one bulk insert
        per round (a round ends where another writer took a number first).
        Returns the number of the last link written."""
        return self._append_many(key, docs)[1]

    def _append_many(self, key: str, docs: list[dict]) -> tuple[list[int], int]:
        """(the number each doc got, in order; the number of the last link)."""
        remaining = list(docs)
        numbers: list[int] = []
        n, _doc = self._top_for_writing(key)
        for _ in range(MAX_ATTEMPTS):
            if not remaining:
                return numbers, n
            batch = [{**doc, "_id": link_id(key, n + 1 + i)} for i, doc in enumerate(remaining)]
            try:
                self.links.insert_many(batch, ordered=True)
            except BulkWriteError as err:
                duplicate_positions(err)  # anything but a duplicate number is re-raised
                done = err.details.get("nInserted", 0)
                numbers += range(n + 1, n + 1 + done)
                remaining = remaining[done:]
                n, _doc = self._forward(key, n + done, None)
                continue
            self._advance_hint(key, n + len(batch))
            return numbers + list(range(n + 1, n + 1 + len(batch))), n + len(batch)
        raise ChainContention()

    def append_to_many(self, docs_by_key: dict[str, list[dict]]) -> dict[str, list[int]]:
        """Append links to several chains with one bulk insert: numbers are
        taken from each hint (one read per chain, no probing; a new chain's
        hint is written first); a number some
        other writer holds already fails alone, and those links are appended
        again one chain at a time. Every doc ends up in exactly one link and
        the chains stay without gaps (each number tried is taken by someone).
        Returns the number each doc got, per chain, in the order given."""
        planned: list[tuple[str, int, dict]] = []
        tops: dict[str, int] = {}
        numbers: dict[str, list[int]] = {}
        starts = self._hint_tops(list(docs_by_key))
        unhinted = [key for key, start in starts.items() if start is None and docs_by_key[key]]
        self._start(unhinted)
        starts = {key: start or 0 for key, start in starts.items()}
        for key, docs in docs_by_key.items():
            start = starts[key]
            tops[key] = start + len(docs)
            numbers[key] = [start + 1 + i for i in range(len(docs))]
            planned += [(key, i, {**doc, "_id": link_id(key, start + 1 + i)}) for i, doc in enumerate(docs)]
        if not planned:
            return numbers
        retry: dict[str, list[tuple[int, dict]]] = {}
        try:
            self.links.insert_many([doc for _key, _i, doc in planned], ordered=False)
        except BulkWriteError as err:
            for index in sorted(duplicate_positions(err)):
                key, i, doc = planned[index]
                retry.setdefault(key, []).append((i, {k: v for k, v in doc.items() if k != "_id"}))
        # One update per book, a few at once when there are many: FerretDB
        # answers a bulk upsert that lost a race without `nModified`, which
        # pymongo cannot parse (a KeyError, found by the kit's racing-writers
        # test); and a bulk upsert of 250 hints once stalled it for minutes.
        self._in_parallel(lambda item: self._advance_hint(*item), list(tops.items()))
        for key, docs in retry.items():
            taken, _last = self._append_many(key, [doc for _i, doc in docs])
            for (i, _doc), n in zip(docs, taken):
                numbers[key][i] = n
        return numbers

    def _start(self, keys: list[str]) -> None:
        """Before new chains' first links: `on_new`, then their hints at 0."""
        if not keys:
            return
        if self.on_new is not None:
            self.on_new(keys)
        self._in_parallel(lambda key: self._advance_hint(key, 0), keys)

    def _hint_tops(self, keys: list[str]) -> dict[str, int | None]:
        return dict(zip(keys, self._in_parallel(self.hinted, keys)))

    @staticmethod
    def _in_parallel(fn, items: list) -> list:
        """fn over items, a few at once when there are many (an import's
        hundreds of books): one round trip after the other is most of its time."""
        if len(items) < PARALLEL_FROM:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(PARALLEL_CALLS) as pool:
            return list(pool.map(fn, items))

    def _advance_hint(self, key: str, n: int) -> None:
        try:
            self.hints.update_one({"_id": key}, {"$max": {"top": n}}, upsert=True)
        except DuplicateKeyError:  # two first writers upserted at once: the document exists now
            self.hints.update_one({"_id": key}, {"$max": {"top": n}})

    def forget(self, key: str, n: int) -> None:
        """Delete link n (a superseded state), by `_id`."""
        if n > 0:
            self.links.delete_one({"_id": link_id(key, n)})

    def delete(self, key: str, top: int) -> None:
        """Delete links 1..top (`top` as read by `top()`), then the hint;
        each by `_id`, the links in one unordered bulk write. The hint is
        moved up to `top` first and deleted last, so after a crash part-way
        `top()` still finds `top` and a second call finishes the job."""
        if top > 0:
            self._advance_hint(key, top)
            self.links.bulk_write([DeleteOne({"_id": link_id(key, n)}) for n in range(1, top + 1)], ordered=False)
        self.hints.delete_one({"_id": key})
