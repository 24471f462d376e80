"""Which customers have anything in their interaction log or open-visit
list: `customer_activity`, `_id: <customer id>`, a mark inserted before the
first entry of either (crm_kit.persistence.presence: both chains mark
through their `on_new` hook). The 360 card's overview reads the mark and
skips the log and the visit list of a customer without one: one read where
it took two, for the customers who call before anything was recorded.
"""

from __future__ import annotations

from pymongo.database import Database

from crm_kit.persistence.presence import Presence

MARKS = "customer_activity"
INDEXES: dict = {MARKS: []}  # by _id only


def activity_presence(db: Database, enabled: bool = True) -> Presence:
    return Presence(db[MARKS], enabled)


def marks_activity(db: Database, key_prefix: str):
    """The hook of a chain, kept per customer under "<key_prefix><customer id>", that marks its customer."""
    return activity_presence(db).marker(key_prefix)
