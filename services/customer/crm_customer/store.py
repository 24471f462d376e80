"""Persistence of customers in MongoDB (or FerretDB): the only module here
that knows collection and field names.

Uniqueness uses key documents whose `_id` is the natural key
(`customer_keys`, `_id: "phone:+8613800138000"`): inserting one is the
duplicate check, reading one is the phone lookup, and both go by `_id`,
which every back end serves without a scan (DESIGN section 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from crm_customer.domain import Customer, Region

DUPLICATE_KEY = 11000

INDEXES = {
    # Lists filtered by owner, in keyset order.
    "customers": [IndexModel([("owner_id", ASCENDING), ("_id", ASCENDING)], name="owner_id_1__id_1")],
    "customer_keys": [],  # looked up by _id only
    "customer_versions": [],  # "<customer id>#<version>", by _id only
}


def new_customer_id() -> str:
    # ObjectIds grow with time, so ids double as a stable keyset order.
    return f"cus_{ObjectId()}"


@dataclass(frozen=True)
class KeyHolder:
    key: str
    customer_id: str
    owner_id: str
    created_at: datetime


class CustomerStore:
    def __init__(self, db: Database):
        self.db = db
        self.customers = db["customers"]
        self.keys = db["customer_keys"]
        self.versions = db["customer_versions"]

    # --- key documents --------------------------------------------------

    def reserve_keys(self, keys: tuple[str, ...], customer_id: str, owner_id: str) -> KeyHolder | None:
        """Insert every key for `customer_id`; on the first one taken, undo the
        ones inserted and return the holder of the taken key."""
        now = datetime.now(timezone.utc)
        inserted: list[str] = []
        for key in keys:
            try:
                self.keys.insert_one({"_id": key, "customer_id": customer_id, "owner_id": owner_id, "created_at": now})
                inserted.append(key)
            except DuplicateKeyError:
                self.release_keys(tuple(inserted), customer_id)
                return self.key_holder(key) or KeyHolder(key, "", "", now)
        return None

    def reserve_keys_bulk(self, wanted: dict[str, tuple[tuple[str, ...], str]]) -> set[str]:
        """Reserve keys for many customers at once ({customer_id: (keys, owner)}).
        Returns the ids whose keys were all reserved; partial reservations are undone."""
        now = datetime.now(timezone.utc)
        docs = [{"_id": key, "customer_id": cid, "owner_id": owner, "created_at": now}
                for cid, (keys, owner) in wanted.items() for key in keys]
        failed_keys: set[str] = set()
        if docs:
            try:
                self.keys.insert_many(docs, ordered=False)
            except BulkWriteError as err:
                for write_error in err.details.get("writeErrors", []):
                    if write_error.get("code") != DUPLICATE_KEY:
                        raise
                    failed_keys.add(docs[write_error["index"]]["_id"])
        granted = set()
        for cid, (keys, _owner) in wanted.items():
            if failed_keys.intersection(keys):
                self.release_keys(tuple(k for k in keys if k not in failed_keys), cid)
            else:
                granted.add(cid)
        return granted

    def release_keys(self, keys: tuple[str, ...], customer_id: str) -> None:
        """Delete keys, but only those still held by `customer_id`."""
        if keys:
            self.keys.delete_many({"_id": {"$in": list(keys)}, "customer_id": customer_id})

    def key_holder(self, key: str) -> KeyHolder | None:
        doc = self.keys.find_one({"_id": key})
        if doc is None:
            return None
        return KeyHolder(doc["_id"], doc["customer_id"], doc.get("owner_id", ""), doc["created_at"])

    def drop_stale_key(self, holder: KeyHolder) -> bool:
        """Remove a key whose customer never got written (its creator crashed)."""
        return self.keys.delete_one({"_id": holder.key, "customer_id": holder.customer_id}).deleted_count == 1

    # --- customers ------------------------------------------------------

    def insert(self, customer: Customer) -> None:
        self.customers.insert_one(_to_doc(customer))

    def insert_many(self, customers: list[Customer]) -> None:
        if customers:
            self.customers.insert_many([_to_doc(c) for c in customers], ordered=False)

    def get(self, customer_id: str) -> Customer | None:
        doc = self.customers.find_one({"_id": customer_id})
        return _from_doc(doc) if doc else None

    # --- versions: optimistic concurrency with `_id`-only writes ----------
    #
    # A conditional update ({_id, version}) is a full scan on FerretDB's
    # SQLite back end (only a lone `_id` filter reaches SQL: 9 s at 100,000
    # customers). So a version change is claimed by inserting a document
    # whose `_id` is "<customer id>#<new version>": exactly one writer wins
    # each version, the customer is then written by `_id` alone, and the
    # claim, which holds the new state, doubles as the change history.

    def claim_version(self, customer: Customer, changed_by: str) -> bool:
        """Claim `customer.version` for this new state; False if already taken."""
        try:
            self.versions.insert_one({"_id": f"{customer.id}#{customer.version}", "customer": _to_doc(customer),
                                      "changed_by": changed_by, "claimed_at": datetime.now(timezone.utc)})
            return True
        except DuplicateKeyError:
            return False

    def version_claim(self, customer_id: str, version: int) -> tuple[Customer, datetime] | None:
        doc = self.versions.find_one({"_id": f"{customer_id}#{version}"})
        return (_from_doc(doc["customer"]), doc["claimed_at"]) if doc else None

    def write(self, customer: Customer) -> None:
        """Store a state whose version this writer has claimed."""
        doc = _to_doc(customer)
        doc.pop("_id")
        doc.pop("last_contact_at")  # only touch_last_contact moves it, so a stale read can't move it back
        self.customers.update_one({"_id": customer.id}, {"$set": doc})

    def touch_last_contact(self, customer_id: str, when: datetime) -> None:
        """Move the last-contact time forward (never back); by `_id` alone."""
        self.customers.update_one({"_id": customer_id}, {"$max": {"last_contact_at": when}})

    def list_page(self, owner_id: str | None, after_id: str, limit: int) -> list[Customer]:
        query: dict = {}
        if owner_id is not None:
            query["owner_id"] = owner_id
        if after_id:
            query["_id"] = {"$gt": after_id}
        return [_from_doc(d) for d in self.customers.find(query).sort("_id", ASCENDING).limit(limit)]

    def count(self) -> int:
        return self.customers.estimated_document_count()


def _to_doc(c: Customer) -> dict:
    return {
        "_id": c.id, "display_name": c.display_name, "kind": c.kind, "phones": list(c.phones),
        "email": c.email, "region": {"province": c.region.province, "city": c.region.city},
        "owner_id": c.owner_id, "team_id": c.team_id, "created_at": c.created_at,
        "updated_at": c.updated_at, "version": c.version, "last_contact_at": c.last_contact_at,
    }


def _from_doc(d: dict) -> Customer:
    region = d.get("region") or {}
    return Customer(
        id=d["_id"], display_name=d["display_name"], kind=d["kind"], phones=tuple(d.get("phones", ())),
        email=d.get("email", ""), region=Region(region.get("province", ""), region.get("city", "")),
        owner_id=d.get("owner_id", ""), team_id=d.get("team_id", ""), created_at=d["created_at"],
        updated_at=d["updated_at"], version=d.get("version", 1), last_contact_at=d.get("last_contact_at"),
    )
