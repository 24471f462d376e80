"""Which customers have anything in sales: `sales_customers`, `_id: <customer
id>`, a mark inserted before the customer's first order, payment plan or
contract book entry (crm_kit.persistence.presence; each of those stores
marks through its books' `on_new_book`). The 360 card's sales section reads
the mark first and skips the three books of a customer without one: most
customers calling in have no sales yet.
"""

from __future__ import annotations

from pymongo.database import Database

from crm_kit.persistence.presence import Presence

CUSTOMER_BOOKS = "customer:"  # the books that list one customer's orders, plans and contracts
INDEXES: dict = {"sales_customers": []}  # by _id only


def customer_presence(db: Database, enabled: bool = True) -> Presence:
    return Presence(db["sales_customers"], enabled)


def marks_customers(db: Database):
    """The hook of the books that mark their customer (`on_new_book`)."""
    return customer_presence(db).marker(CUSTOMER_BOOKS)
