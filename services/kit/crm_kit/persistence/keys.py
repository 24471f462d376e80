"""Natural keys: a key document whose `_id` is the key (`phone:+86…`,
`sku:A-100`) names the record holding it.

Inserting it is the uniqueness check (twenty concurrent creates of one
phone number yield one winner) and reading it is the lookup, both by `_id`,
fast on every back end and correct on a sharded MongoDB, which cannot
enforce a unique index on a non-shard key. A key can outlive its claim on
it: a create that crashed before writing its record, or a record that
changed or was erased without the key being deleted (a conditional delete
is a scan on FerretDB). `take_over_if_stale` frees such keys for the next
taker, asking the owning service whether the record still holds the key.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from crm_kit.mongo import duplicate_positions

# A key whose record is still missing after this long was left by a writer that crashed.
ABANDONED_AFTER = timedelta(seconds=30)
# A key seen without its record, younger than that: a concurrent write is mid-flight.
PENDING_WAIT_SECONDS = 0.5


@dataclass(frozen=True)
class KeyHolder:
    key: str
    holder_id: str
    created_at: datetime
    fields: dict = field(default_factory=dict)  # what the service notes on the key (an owner, say)


class Holding(enum.Enum):
    """What the owning service says of a key's holder record."""

    HOLDS = "holds"            # the live record lists the key: a real duplicate
    SUPERSEDED = "superseded"  # the record was written after the key without listing it (changed, erased)
    UNKNOWN = "unknown"        # no record yet, or not written since: a write may be in flight


class NaturalKeys:
    def __init__(self, collection: Collection, holder_field: str = "holder_id"):
        self.keys = collection
        self.holder_field = holder_field

    def reserve(self, keys: tuple[str, ...], holder_id: str, **fields) -> KeyHolder | None:
        """Insert every key for `holder_id`; on the first one taken, undo the
        ones inserted and return the holder of the taken key."""
        now = datetime.now(timezone.utc)
        inserted: list[str] = []
        for key in keys:
            try:
                self.keys.insert_one({"_id": key, self.holder_field: holder_id, **fields, "created_at": now})
                inserted.append(key)
            except DuplicateKeyError:
                self.release(tuple(inserted), holder_id)
                return self.holder(key) or KeyHolder(key, "", now)
        return None

    def reserve_many(self, wanted: dict[str, tuple[tuple[str, ...], dict]]) -> set[str]:
        """Reserve keys for many holders in one bulk insert
        ({holder_id: (keys, fields)}). Returns the holders whose keys were all
        reserved; the partial reservations of the others are undone."""
        now = datetime.now(timezone.utc)
        docs = [{"_id": key, self.holder_field: hid, **fields, "created_at": now}
                for hid, (keys, fields) in wanted.items() for key in keys]
        taken: set[str] = set()
        if docs:
            try:
                self.keys.insert_many(docs, ordered=False)
            except BulkWriteError as err:
                taken = {docs[i]["_id"] for i in duplicate_positions(err)}
        granted = set()
        for hid, (keys, _fields) in wanted.items():
            if taken.intersection(keys):
                self.release(tuple(k for k in keys if k not in taken), hid)
            else:
                granted.add(hid)
        return granted

    def release(self, keys: tuple[str, ...], holder_id: str) -> None:
        """Delete keys, but only those still held by `holder_id`: read, then
        delete by `_id` (a conditional delete is a scan on FerretDB; while
        `holder_id` holds a key nobody else can insert it)."""
        for key in keys:
            holder = self.holder(key)
            if holder is not None and holder.holder_id == holder_id:
                self.keys.delete_one({"_id": key})

    def holder(self, key: str) -> KeyHolder | None:
        doc = self.keys.find_one({"_id": key})
        if doc is None:
            return None
        fields = {k: v for k, v in doc.items() if k not in ("_id", self.holder_field, "created_at")}
        return KeyHolder(doc["_id"], doc[self.holder_field], doc["created_at"], fields)

    def note(self, keys: tuple[str, ...], **fields) -> None:
        """Update what is noted on keys (each written by its holder's writer alone)."""
        for key in keys:
            self.keys.update_one({"_id": key}, {"$set": fields})

    def drop_if_unchanged(self, seen: KeyHolder) -> bool:
        """Remove a stale key if it is still the one seen (read, compare,
        delete by `_id`). True when the key is free now."""
        current = self.holder(seen.key)
        if current is None:
            return True
        if (current.holder_id, current.created_at) != (seen.holder_id, seen.created_at):
            return False
        self.keys.delete_one({"_id": seen.key})
        return True

    def take_over_if_stale(self, seen: KeyHolder, holding: Callable[[KeyHolder], Holding],
                           abandoned_after: timedelta = ABANDONED_AFTER,
                           pending_wait: float = PENDING_WAIT_SECONDS) -> bool:
        """True when the key was left behind and is free now. `holding(key)`
        says whether the holder record still holds it. A key whose record is
        not written yet may belong to a write in flight: wait a moment for
        it, and take the key over only once it is clearly abandoned."""
        deadline = time.monotonic() + pending_wait
        while True:
            state = holding(seen)
            if state is Holding.HOLDS:
                return False
            abandoned = datetime.now(timezone.utc) - seen.created_at > abandoned_after
            if state is Holding.SUPERSEDED or abandoned:
                return self.drop_if_unchanged(seen)
            if time.monotonic() > deadline:
                return False  # a concurrent write holds it
            time.sleep(0.02)
