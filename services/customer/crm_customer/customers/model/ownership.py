"""The public pool and hand-overs: when an owned customer returns to the
pool, how a leaving rep's customers are spread, what an erasure leaves.
Pure Python, no I/O.
"""

from __future__ import annotations

from datetime import datetime

from crm_customer.customers.model.record import Customer, Profile
from crm_kit.errors import FieldViolation, InvalidArgument


def protection_expired(customer: Customer, now: datetime, protection_days: int) -> bool:
    """An owned customer nobody has contacted for `protection_days` (counted
    from the last contact, or from when the owner got it) returns to the pool."""
    if customer.in_pool or customer.erased_at is not None:
        return False
    since = max(t for t in (customer.last_contact_at, customer.owned_since, customer.created_at) if t is not None)
    return (now - since).days >= protection_days


def assign_round_robin(customer_ids: list[str], reps: list[str]) -> dict[str, str]:
    """Hand-over plan: customers spread over the receiving reps in turn."""
    if not reps:
        raise InvalidArgument(FieldViolation("to_owner_ids", "name at least one rep"))
    return {cid: reps[i % len(reps)] for i, cid in enumerate(customer_ids)}


def erased_profile(kind: str) -> Profile:
    """What remains of an erased customer: no personal field at all."""
    return Profile(display_name="(erased)", kind=kind, type="other", stage="dormant")
