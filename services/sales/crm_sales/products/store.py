"""Persistence of products, composed from the kit's primitives
(crm_kit.persistence); the only module that knows their collections.

- `products`, `_id: "<product id>"`: the current state, with `revision`.
- `product_versions`, `_id: "<product id>#<revision>"`: revision claims
  (crm_kit.persistence.revisions). Revision 1 is claimed too, so the claims
  are the whole history: each holds the state as written, with the grade it
  had then, who wrote it and when. The grade history is read from them.
- `product_keys`, `_id: "sku:<SKU>"`: the SKU as a natural key
  (crm_kit.persistence.keys): inserting it decides a race of two creates
  of one SKU, reading it finds the product by SKU.
- the catalogue as a book (crm_kit.persistence.books): `product_book_links`
  / `product_books`, one entry per product in the order they were created,
  so a page of the catalogue is reads by `_id` (a filter on `active` or a
  grade would scan every product on FerretDB).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo.database import Database

from crm_kit.money import Money
from crm_kit.persistence.books import Books
from crm_kit.persistence.keys import Holding, KeyHolder, NaturalKeys
from crm_kit.persistence.revisions import ABANDONED_AFTER, Revisions

from crm_sales.products.model import Product

INDEXES = {
    "products": [],  # by _id only
    "product_versions": [],
    "product_keys": [],
    "product_book_links": [],
    "product_books": [],
}
CATALOGUE = "catalogue"
STATE_FIELD = "product"


def sku_key(sku: str) -> str:
    return f"sku:{sku}"


class ProductStore:
    def __init__(self, db: Database, abandoned_after: timedelta = ABANDONED_AFTER):
        self.products = db["products"]
        # No outbox: products publish no events (orders copy price and cost as of the order).
        self.revisions = Revisions(self.products, db["product_versions"], state_field=STATE_FIELD,
                                   abandoned_after=abandoned_after)
        self.keys = NaturalKeys(db["product_keys"], holder_field="product_id")
        self.books = Books(db["product_book_links"], db["product_books"], item_field="product_id")

    # --- the SKU key ------------------------------------------------------------

    def reserve_sku(self, sku: str, product_id: str) -> KeyHolder | None:
        """None when reserved for `product_id`; else who holds it."""
        return self.keys.reserve((sku_key(sku),), product_id)

    def release_sku(self, sku: str, product_id: str) -> None:
        self.keys.release((sku_key(sku),), product_id)

    def sku_holder(self, sku: str) -> KeyHolder | None:
        return self.keys.holder(sku_key(sku))

    def take_over_if_stale(self, seen: KeyHolder) -> bool:
        """A key left by a create that crashed before its product was written."""
        def holding(key: KeyHolder) -> Holding:
            return Holding.HOLDS if self.get(key.holder_id) is not None else Holding.UNKNOWN

        return self.keys.take_over_if_stale(seen, holding, self.revisions.abandoned_after)

    # --- products ---------------------------------------------------------------

    def insert(self, product: Product, changed_by: str) -> None:
        """List it in the catalogue first (a crash leaves a stale entry,
        never a lost product), claim revision 1 (the history's first entry),
        then insert the product. The id is fresh and the SKU key reserved for
        it, so nobody else writes either."""
        doc = _to_doc(product)
        self.books.add([(CATALOGUE, product.id, product.created_at)])
        self.revisions.claim(product.id, 1, doc, changed_by)
        self.products.insert_one(doc)

    def commit(self, product: Product, changed_by: str) -> bool:
        """Claim `product.revision` and write it; False when another writer won it."""
        return self.revisions.commit(product.id, product.revision, _to_doc(product), changed_by)

    def get(self, product_id: str) -> Product | None:
        doc = self.products.find_one({"_id": product_id})
        return _from_doc(doc) if doc else None

    def history(self, product_id: str, up_to: int) -> list[tuple[int, Product, datetime, str]]:
        """(revision, product as written, when, who) of revisions 1..up_to."""
        return [(c.revision, _from_doc(c.state), c.claimed_at, c.changed_by)
                for c in self.revisions.history(product_id, up_to, fields=[STATE_FIELD]) if c.state]

    def page(self, resolve, size: int, start: int) -> tuple[list, int | None]:
        return self.books.page(CATALOGUE, lambda product_id, _since: resolve(self.get(product_id)), size, start)


def _to_doc(p: Product) -> dict:
    return {
        "_id": p.id, "sku": p.sku, "name": p.name, "unit": p.unit,
        "list_price": p.list_price.to_json(), "unit_cost": p.unit_cost.to_json(), "active": p.active,
        "revision": p.revision, "created_at": p.created_at, "updated_at": p.updated_at, "updated_by": p.updated_by,
        # As graded when written: the grade history reads it back from the claims.
        "grade": p.grade, "margin_rate_bp": p.margin_rate_bp,
    }


def _money(d: dict) -> Money:
    return Money(int(d["minor_units"]), d["currency_code"])


def _from_doc(d: dict) -> Product:
    return Product(
        id=d["_id"], sku=d["sku"], name=d["name"], unit=d["unit"], list_price=_money(d["list_price"]),
        unit_cost=_money(d["unit_cost"]), active=d["active"], revision=d.get("revision", 1),
        created_at=d.get("created_at"), updated_at=d.get("updated_at"), updated_by=d.get("updated_by", ""),
        grade=d.get("grade", ""),
    )
