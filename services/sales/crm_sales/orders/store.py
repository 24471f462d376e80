"""Persistence of orders in MongoDB (or FerretDB): the only module that
knows their collection and field names. Composed from the kit's primitives
(crm_kit.persistence), every read and write by `_id`:

- `orders` + `order_versions`: revisioned documents. Every change claims
  revision n + 1 by inserting `"<order id>#<n + 1>"` (state, who, when, the
  amendment record, and the events it causes: the outbox), then writes the
  order by `_id`. Of two writers of one revision exactly one wins.
- `order_number_links` + `order_numbers`: one sequence per year ("SO-2026"),
  a chain of number blocks (crm_kit.persistence.numbers): each process takes
  a block of NUMBER_BLOCK numbers with one insert and hands them out in
  order, an import takes a run of its own. Numbers are unique under
  concurrency and increase within a process; replicas interleave their
  blocks, and what is left of a block when its process stops is never used.
- `order_book_links` + `order_books`: a book per customer
  ("customer:<id>"), the customer's orders in the order they were created.
- `order_requests`: a caller's retry key -> the order created for it.
- `order_imports`: an imported order's key (caller and request id) -> the
  order imported for it (crm_kit.persistence.keys: one bulk insert per
  batch decides which items are new).
- `order_erasures`: `"customer:<id>"` once the customer was erased, so an
  order written while the erasure ran strips itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime, timedelta, timezone

from pymongo.database import Database
from pymongo.errors import BulkWriteError

from crm_kit.money import Money
from crm_kit.mongo import duplicate_positions
from crm_kit.persistence.books import Books, read_by_ids
from crm_kit.persistence.chain import Chain
from crm_kit.persistence.keys import KeyHolder, NaturalKeys
from crm_kit.persistence.numbers import NumberBlocks
from crm_kit.persistence.once import DecideOnce, RequestClaim, RequestKeys
from crm_kit.persistence.revisions import ABANDONED_AFTER, Revisions

from crm_sales.customer_sales.store import marks_customers
from crm_sales.orders.model import Amendment, Delivery, LineChange, Order, OrderLine

INDEXES = {
    "orders": [],  # by _id only; a customer's orders are read from its book
    "order_versions": [],  # revision claims "<order id>#<revision>", by _id only
    "order_number_links": [],  # chain links "SO-<year>#<n>", by _id only
    "order_numbers": [],  # chain hints
    "order_book_links": [],  # chain links "customer:<id>#<n>", by _id only
    "order_books": [],  # chain hints
    "order_requests": [],  # "<caller key>#<request id>", by _id only
    "order_imports": [],  # "import:<caller key>", by _id only
    "order_erasures": [],  # "customer:<id>", by _id only
}


def customer_book(customer_id: str) -> str:
    return f"customer:{customer_id}"


# Numbers a process takes at once from a year's sequence.
NUMBER_BLOCK = 20


class OrderStore:
    def __init__(self, db: Database, outbox=None, abandoned_after: timedelta = ABANDONED_AFTER):
        self.orders = db["orders"]
        self._listed = read_by_ids(self.orders, from_doc)  # a book batch's orders, read at once
        self.revisions = Revisions(self.orders, db["order_versions"], state_field="order", outbox=outbox,
                                   abandoned_after=abandoned_after)
        # One shared chain append per block: a chain append per order made the year's chain the hot spot.
        self.numbers = NumberBlocks(Chain(db["order_number_links"], db["order_numbers"]), NUMBER_BLOCK)
        self.books = Books(db["order_book_links"], db["order_books"], item_field="order_id",
                           on_new_book=marks_customers(db))
        self.requests = RequestKeys(db["order_requests"], result_field="order_id", pending="")
        self.erasures = DecideOnce(db["order_erasures"])
        self.imports = NaturalKeys(db["order_imports"], holder_field="order_id")

    # --- numbers ------------------------------------------------------------------

    def take_number(self, year: int, order_id: str) -> int:  # noqa: ARG002 - the order holds its number
        """The next number of `year`'s sequence."""
        return self.numbers.take(f"SO-{year:04d}")

    def take_numbers(self, order_ids_by_year: dict[int, list[str]]) -> dict[str, int]:
        """A run of numbers from each year's sequence, one block per year:
        {order id: its number}."""
        return {order_id: n for year, ids in order_ids_by_year.items()
                for order_id, n in zip(ids, self.numbers.take_run(f"SO-{year:04d}", len(ids)))}

    # --- orders ---------------------------------------------------------------------

    def insert(self, order: Order) -> bool:
        """Revision 1 (a draft causes no event); False when the id is taken."""
        return self.revisions.create(to_doc(order), order.created_by)

    def insert_imported(self, orders: list[Order], events: list[list]) -> set[str]:
        """Confirmed orders at revision 1, each with its events, in one bulk
        insert behind one outbox intent. Returns the ids that were stored
        already (a concurrent re-send took over the same abandoned import):
        their events go out through the outbox sweep."""
        try:
            self.revisions.create_many([to_doc(o) for o in orders], events)
        except BulkWriteError as err:
            return {orders[i].id for i in duplicate_positions(err)}
        return set()

    def get(self, order_id: str) -> Order | None:
        doc = self.orders.find_one({"_id": order_id})
        return from_doc(doc) if doc else None

    def every_order(self) -> Iterator[Order]:
        """Every order: a scan, for rebuilds only (the profit roll-ups)."""
        return (from_doc(doc) for doc in self.orders.find({}, batch_size=1000))

    def commit(self, order: Order, changed_by: str, action: str, events: list = (),
               amendment: Amendment | None = None) -> bool:
        """Claim `order.revision` with the new state, what was done, the
        amendment record and the events; then write it. False when another
        writer won the revision."""
        detail = {"action": action}
        if amendment is not None:
            detail["amendment"] = _amendment_doc(amendment)
        return self.revisions.commit(order.id, order.revision, to_doc(order), changed_by, detail, list(events))

    def strip_history(self, order_id: str, up_to_revision: int) -> None:
        """Remove the stored states (delivery details) from the revision
        claims and the amendments' reasons; who, when, what was done and the
        amendments' money stay."""
        self.revisions.strip(order_id, up_to_revision, also=lambda _claim: ["amendment.reason"])

    # --- a customer's orders -------------------------------------------------------

    def add_to_book(self, customer_id: str, order_id: str, since: datetime) -> None:
        """Before the order is inserted: a crash leaves an entry without an order, never an order unlisted."""
        self.books.add([(customer_book(customer_id), order_id, since)])

    def add_many_to_books(self, orders: list[Order]) -> None:
        """Every order in its customer's book as of its creation, in one bulk insert."""
        self.books.add([(customer_book(o.customer_id), o.id, o.created_at) for o in orders])

    def book_page(self, customer_id: str, start: int, size: int) -> tuple[list[Order], int | None]:
        return self.books.page_many(customer_book(customer_id), self._listed, size, start)

    def newest_first(self, customer_id: str) -> Iterator[Order]:
        for _n, order in self.books.newest_first(customer_book(customer_id), self._listed):
            if order is not None:
                yield order

    def all_of(self, customer_id: str) -> Iterator[Order]:
        for _n, order in self.books.walk_many(customer_book(customer_id), self._listed):
            if order is not None:
                yield order

    # --- retry keys -----------------------------------------------------------------

    def claim_request(self, key: str, fingerprint: str, now: datetime) -> RequestClaim | None:
        return self.requests.claim("create", key, fingerprint, now)

    def request(self, key: str) -> RequestClaim | None:
        return self.requests.get("create", key)

    def finish_request(self, key: str, order_id: str) -> None:
        self.requests.finish("create", key, order_id)

    def drop_request(self, key: str) -> None:
        self.requests.drop("create", key)

    # --- import keys ------------------------------------------------------------------

    def reserve_imports(self, wanted: dict[str, tuple[str, str]]) -> set[str]:
        """{order id: (import key, fingerprint)}: the order ids whose key this
        call took, in one bulk insert; the others' keys were taken before."""
        return self.imports.reserve_many({order_id: ((f"import:{key}",), {"fingerprint": fingerprint})
                                          for order_id, (key, fingerprint) in wanted.items()})

    def import_holder(self, key: str) -> KeyHolder | None:
        """Who took an import key: the order id, the fingerprint, when."""
        return self.imports.holder(f"import:{key}")

    # --- erasure -------------------------------------------------------------------

    def mark_erased(self, customer_id: str, now: datetime) -> None:
        self.erasures.decide(f"customer:{customer_id}", {"at": now})

    def is_erased(self, customer_id: str) -> bool:
        return self.erasures.decided(f"customer:{customer_id}") is not None


# --- documents <-> domain ------------------------------------------------------------

def _money(m: Money | None) -> dict | None:
    return None if m is None else {"minor_units": m.minor_units, "currency_code": m.currency_code}


def _from_money(d: dict | None) -> Money | None:
    return None if d is None else Money(int(d["minor_units"]), d["currency_code"])


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)  # the driver reads naive UTC unless told otherwise


def _line_doc(line: OrderLine) -> dict:
    return {"line_id": line.line_id, "product_id": line.product_id, "sku": line.sku, "product_name": line.product_name,
            "unit": line.unit, "quantity": line.quantity, "unit_price": _money(line.unit_price),
            "discount": _money(line.discount), "unit_cost": _money(line.unit_cost),
            "shipped_quantity": line.shipped_quantity, "carrier": line.carrier,
            "tracking_number": line.tracking_number, "shipped_at": line.shipped_at, "delivered_at": line.delivered_at,
            "margin_grade": line.margin_grade}


def _line(d: dict) -> OrderLine:
    return OrderLine(d["line_id"], d["product_id"], d.get("sku", ""), d.get("product_name", ""), d.get("unit", ""),
                     int(d["quantity"]), _from_money(d["unit_price"]), _from_money(d["discount"]),
                     _from_money(d["unit_cost"]), int(d.get("shipped_quantity", 0)), d.get("carrier", ""),
                     d.get("tracking_number", ""), _utc(d.get("shipped_at")), _utc(d.get("delivered_at")),
                     d.get("margin_grade", ""))


def _amendment_doc(a: Amendment) -> dict:
    return {"number": a.number, "amended_by": a.amended_by, "amended_at": a.amended_at, "reason": a.reason,
            "changes": [{**asdict(c), "previous_line_total": _money(c.previous_line_total),
                         "line_total": _money(c.line_total)} for c in a.changes],
            "previous_total": _money(a.previous_total), "total": _money(a.total)}


def _amendment(d: dict) -> Amendment:
    changes = tuple(LineChange(c["line_id"], c["product_id"], c["kind"], c["previous_quantity"], c["quantity"],
                               _from_money(c.get("previous_line_total")), _from_money(c.get("line_total")))
                    for c in d.get("changes", ()))
    return Amendment(d["number"], d["amended_by"], _utc(d["amended_at"]), d.get("reason", ""), changes,
                     _from_money(d["previous_total"]), _from_money(d["total"]))


def to_doc(o: Order) -> dict:
    return {
        "_id": o.id, "number": o.number, "customer_id": o.customer_id, "owner_id": o.owner_id, "team_id": o.team_id,
        "state": o.state, "currency_code": o.currency_code, "lines": [_line_doc(line) for line in o.lines],
        # Totals are stored beside the lines for readers of the raw store (reports); the domain recomputes them.
        "total": _money(o.total), "cost_total": _money(o.cost_total),
        "delivery": asdict(o.delivery), "created_by": o.created_by, "created_at": o.created_at,
        "updated_at": o.updated_at, "revision": o.revision, "next_line": o.next_line,
        "amendments": [_amendment_doc(a) for a in o.amendments], "confirmed_at": o.confirmed_at,
        "delivered_at": o.delivered_at, "closed_at": o.closed_at, "cancelled_at": o.cancelled_at,
        "cancel_reason": o.cancel_reason, "erased_at": o.erased_at, "request_key": o.request_key,
        "region": o.region,
    }


def from_doc(d: dict) -> Order:
    return Order(
        id=d["_id"], number=d["number"], customer_id=d["customer_id"], owner_id=d.get("owner_id", ""),
        team_id=d.get("team_id", ""), state=d["state"], currency_code=d.get("currency_code", ""),
        lines=tuple(_line(line) for line in d.get("lines", ())), delivery=Delivery(**(d.get("delivery") or {})),
        created_by=d.get("created_by", ""), created_at=_utc(d["created_at"]), updated_at=_utc(d["updated_at"]),
        revision=d.get("revision", 1), next_line=d.get("next_line", 1),
        amendments=tuple(_amendment(a) for a in d.get("amendments", ())),
        confirmed_at=_utc(d.get("confirmed_at")), delivered_at=_utc(d.get("delivered_at")),
        closed_at=_utc(d.get("closed_at")), cancelled_at=_utc(d.get("cancelled_at")),
        cancel_reason=d.get("cancel_reason", ""), erased_at=_utc(d.get("erased_at")),
        request_key=d.get("request_key", ""), region=d.get("region", ""),
    )
