"""Persistence of the profit roll-ups: the only module that knows their
collections and document shapes. Every read and write goes by `_id`
(FerretDB pushes only a lone `_id` equality to SQL; anything else scans).

- `profit_rollups`, two kinds of document, both "rows" documents (one
  zlib-compressed string of tab-separated rows, one row per key: FerretDB
  decodes one binary value far faster than an array of thousands of items,
  and its read time grows with the bytes):
  - buckets `"b|<dimension>|<currency>|<YYYY-MM>|<shard>"`: a month's
    figures of the members (customers, products or reps) whose id hashes to
    the shard; and `"b|...|<YYYY>-Q<n>|<shard>"`: a calendar quarter's, kept
    by the same writes, so a report over twelve months reads four to eight
    periods x shards buckets instead of twelve.
  - series `"s|customer|<currency>|<shard>"`: the figures of the customers
    hashed to one of SERIES_SHARDS, month by month (rows "<customer>|<month>":
    a 24-month series is one small read).
  Each is a revisioned document (crm_kit.persistence.revisions): a write
  claims revision n + 1 in `profit_rollup_claims`, and the same write notes
  the ids of the events it applied (the last KEEP_APPLIED, 12 hex digits
  each), so a redelivered event is skipped: idempotent by event id inside
  the write. The claim keeps no copy of the state: a writer that dies
  between claim and write has not acked its events, so they come again.

The consumer is almost always a document's only writer, so the store keeps
the documents it wrote last (up to CACHE_BYTES of rows) and writes the next
revision from them without reading first; a claim lost to another writer
(another replica, a rebuild) drops the copy and the write is redone from
the store.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta

from bson import Binary
from pymongo.database import Database

from crm_kit.persistence.revisions import Contended, Revisions, write_with_retries

from crm_sales.profitability.months import Month
from crm_sales.profitability.rollups.model import CUSTOMER, PRODUCT, REP, Attributed, Figures

INDEXES = {
    "profit_rollups": [],  # by _id only
    "profit_rollup_claims": [],  # by _id only
}

# Shards per month, by dimension (see the README's measurements): a bucket
# is rewritten whole on every write, so more shards make writes smaller and
# reports read more documents. Changing a count needs a rebuild.
SHARDS = {CUSTOMER: 16, PRODUCT: 2, REP: 1}
WRITER = "sales-profitability"


def shard_of(member: str, dimension: str) -> int:
    return zlib.crc32(member.encode()) % SHARDS[dimension]


def bucket_id(dimension: str, currency: str, period, shard: int) -> str:
    """`period`: a Month, or a label "2026-03" / "2026-Q1" (quarter buckets sum their three months)."""
    return f"b|{dimension}|{currency}|{period}|{shard:02d}"


# Customers' series share documents, SERIES_SHARDS per currency: an import's read of 2,000 orders for
# 2,000 customers writes fewer series documents than 2,000 (one per customer held the consumer at
# ~90 orders/s), and one series is still one small read (about 20 customers at 20,000).
SERIES_SHARDS = 1024


def series_id(currency: str, customer_id: str) -> str:
    """The series document holding `customer_id`'s months (rows keyed "<customer id>|<YYYY-MM>")."""
    return f"s|{CUSTOMER}|{currency}|{zlib.crc32(customer_id.encode()) % SERIES_SHARDS:03d}"


def series_key(customer_id: str, month) -> str:
    return f"{customer_id}|{month}"


@dataclass
class Row:
    figures: Figures = field(default_factory=Figures)
    owner_id: str = ""
    team_id: str = ""
    region: str = ""
    margin_grade: str = ""
    as_of: str = ""  # when the order the attributes came from was confirmed (epoch ms, 13 digits)

    def attributed(self) -> Attributed:
        return Attributed(self.figures, self.owner_id, self.team_id, self.region, self.margin_grade, self.as_of)


@dataclass(frozen=True)
class Change:
    """What one event adds to one row: figures, and attributes taken over
    when `as_of` is at least as late as the row's."""

    key: str
    figures: Figures
    owner_id: str = ""
    team_id: str = ""
    region: str = ""
    margin_grade: str = ""
    as_of: str = ""


def apply_change(rows: dict[str, Row], change: Change) -> None:
    row = rows.setdefault(change.key, Row())
    row.figures = row.figures + change.figures
    if change.as_of and change.as_of >= row.as_of:
        row.owner_id = change.owner_id or row.owner_id
        row.team_id = change.team_id or row.team_id
        row.region = change.region or row.region
        row.margin_grade = change.margin_grade or row.margin_grade
        row.as_of = change.as_of


def _clean(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ")


def row_line(key: str, r: Row) -> str | None:
    """One stored row; None for a row with nothing in it (dropped)."""
    f = r.figures
    if f.is_zero and not r.as_of:
        return None
    return "\t".join((_clean(key), str(f.revenue), str(f.cost), str(f.expenses), str(f.orders), str(f.cash),
                      _clean(r.owner_id), _clean(r.team_id), _clean(r.region), _clean(r.margin_grade), r.as_of))


def rows_text(rows: dict[str, Row]) -> str:
    return "\n".join(line for key in sorted(rows) if (line := row_line(key, rows[key])) is not None)


def _row(line: str) -> Row:
    _key, revenue, cost, expenses, orders, cash, owner, team, region, grade, as_of = line.split("\t")
    return Row(Figures(int(revenue), int(cost), int(expenses), int(orders), int(cash)), owner, team, region, grade,
               as_of)


def changed_text(text: str, parts) -> str:
    """`text` (stored rows) with the changes applied, parsing only the rows
    they touch: a bucket of a thousand members changed in ten costs ten
    parses, not a thousand."""
    lines = {line[:line.index("\t")]: line for line in text.split("\n")} if text else {}
    touched: dict[str, Row] = {}
    for part in parts:
        if part.key not in touched:
            stored = lines.get(_clean(part.key))
            touched[part.key] = _row(stored) if stored is not None else Row()
        apply_change(touched, part)
    for key, row in touched.items():
        line = row_line(key, row)
        if line is None:
            lines.pop(_clean(key), None)
        else:
            lines[_clean(key)] = line
    return "\n".join(lines.values())


def rows_from(text: str) -> dict[str, Row]:
    return {line[:line.index("\t")]: _row(line) for line in text.split("\n")} if text else {}


def merge_text(totals: dict[str, list], text: str) -> None:
    """Add a document's rows (as stored) into `totals` ({key: [revenue, cost,
    expenses, orders, cash, owner, team, region, grade, as_of]}), attributes
    from the latest row. The fast path of a report over many months: no
    object per row."""
    if not text:
        return
    for line in text.split("\n"):
        key, revenue, cost, expenses, orders, cash, owner, team, region, grade, as_of = line.split("\t")
        acc = totals.get(key)
        if acc is None:
            totals[key] = [int(revenue), int(cost), int(expenses), int(orders), int(cash), owner, team, region, grade,
                           as_of]
            continue
        acc[0] += int(revenue)
        acc[1] += int(cost)
        acc[2] += int(expenses)
        acc[3] += int(orders)
        acc[4] += int(cash)
        if as_of and as_of >= acc[9]:
            acc[5] = owner or acc[5]
            acc[6] = team or acc[6]
            acc[7] = region or acc[7]
            acc[8] = grade or acc[8]
            acc[9] = as_of


def _text_of(doc: dict | None) -> str:
    """The rows of a stored document: zlib-compressed UTF-8 (a third of the
    bytes FerretDB has to decode on every read)."""
    raw = doc.get("rows") if doc else None
    return zlib.decompress(raw).decode() if raw else ""


def _cached_bytes(doc: dict) -> int:
    return len(doc["rows"]) + len(doc["applied"]) + 200  # the dict and its keys, roughly


class RollupStore:
    KEEP_APPLIED = 2000  # event ids a document remembers: redeliveries come within seconds to minutes
    ID_WIDTH = 12  # the last 12 hex digits of an event id (48 of its random bits)

    CACHE_BYTES = 64 * 1024 * 1024  # compressed rows of the documents kept as last written

    def __init__(self, db: Database, abandoned_after: timedelta):
        self.revisions = Revisions(db["profit_rollups"], db["profit_rollup_claims"], abandoned_after=abandoned_after)
        self.documents = self.revisions.documents
        self._written: OrderedDict[str, dict] = OrderedDict()  # doc id -> the document as this store wrote it
        self._written_bytes = 0
        self._written_lock = threading.Lock()  # the consumer writes several documents at once

    # --- reading ------------------------------------------------------------------

    def rows(self, doc_id: str) -> dict[str, Row]:
        return rows_from(self.text(doc_id))

    def text(self, doc_id: str) -> str:
        """A document's rows as stored (for readers that merge many documents fast)."""
        doc = self.documents.find_one({"_id": doc_id}, {"rows": 1})
        return _text_of(doc)

    def month_rows(self, dimension: str, currency: str, month: Month) -> dict[str, Row]:
        """Every member's row of a month (all its shards)."""
        out: dict[str, Row] = {}
        for shard in range(SHARDS[dimension]):
            out.update(self.rows(bucket_id(dimension, currency, month, shard)))
        return out

    def member_row(self, dimension: str, currency: str, month: Month, member: str) -> Row | None:
        return self.rows(bucket_id(dimension, currency, month, shard_of(member, dimension))).get(member)

    def series(self, currency: str, customer_id: str) -> dict[str, Row]:
        """{"YYYY-MM": row} of one customer (its rows of its series document; only those are parsed)."""
        prefix = f"{customer_id}|"
        text = self.text(series_id(currency, customer_id))
        return {line[len(prefix):line.index("\t")]: _row(line) for line in (text.split("\n") if text else ())
                if line.startswith(prefix)}

    def all_ids(self) -> list[str]:
        """Every roll-up document: a scan, for a rebuild only."""
        return [doc["_id"] for doc in self.documents.find({}, {"_id": 1})]

    # --- writing ------------------------------------------------------------------

    def apply(self, doc_id: str, changes: list[tuple[str, list[Change]]]) -> int:
        """Add the changes of events not applied yet (by event id) to the
        document, with their ids, in one revision. Returns how many events
        were new."""
        def change(doc: dict) -> int:
            applied = self._applied(doc)
            seen = set(applied)
            new: dict[str, list[Change]] = {}
            for event_id, parts in changes:
                short = event_id[-self.ID_WIDTH:]
                if short not in seen:
                    new.setdefault(short, parts)  # an event twice in one read counts once
            if not new:
                return 0
            text = changed_text(_text_of(doc), [part for parts in new.values() for part in parts])
            self._store_text(doc, text, (applied + list(new))[-self.KEEP_APPLIED:])
            return len(new)

        return write_with_retries("profit roll-up", doc_id, lambda: self._load(doc_id), change)

    def replace(self, doc_id: str, rows: dict[str, Row]) -> None:
        """The document set to `rows` (a rebuild), keeping the event ids it
        applied. Its claim keeps the state: a rebuild is not redone by a
        redelivery, so a write it dies before is completed from the claim."""
        write_with_retries("profit roll-up", doc_id, lambda: self._load(doc_id),
                           lambda doc: self._store_text(doc, rows_text(rows), self._applied(doc), redone=False))

    def _load(self, doc_id: str) -> dict:
        with self._written_lock:
            doc = self._written.get(doc_id)
            if doc is not None:
                self._written.move_to_end(doc_id)
                return doc
        return self.documents.find_one({"_id": doc_id}) or {"_id": doc_id, "revision": 0}

    def _remember(self, doc: dict) -> None:
        with self._written_lock:
            self._forget_locked(doc["_id"])
            self._written[doc["_id"]] = doc
            self._written_bytes += _cached_bytes(doc)
            while self._written_bytes > self.CACHE_BYTES and len(self._written) > 1:
                self._forget_locked(next(iter(self._written)))

    def _forget(self, doc_id: str) -> None:
        with self._written_lock:
            self._forget_locked(doc_id)

    def _forget_locked(self, doc_id: str) -> None:
        old = self._written.pop(doc_id, None)
        if old is not None:
            self._written_bytes -= _cached_bytes(old)

    def _applied(self, doc: dict) -> list[str]:
        ids = doc.get("applied", "")
        return [ids[i:i + self.ID_WIDTH] for i in range(0, len(ids), self.ID_WIDTH)]

    def _store_text(self, doc: dict, text: str, applied: list[str], redone: bool = True) -> None:
        """`redone`: the change comes again if this writer dies half-way (an
        event not acked), so the claim need not keep a copy of the state."""
        revision = doc.get("revision", 0) + 1
        state = {"_id": doc["_id"], "rows": Binary(zlib.compress(text.encode(), 6)),
                 "applied": "".join(applied), "revision": revision}
        won = self.revisions.create(state, WRITER) if revision == 1 else \
            self.revisions.commit(doc["_id"], revision, state, WRITER, state_in_claim=not redone)
        if not won:
            self._forget(doc["_id"])  # another writer got there first: read what it wrote
            raise Contended()
        self._remember(state)
