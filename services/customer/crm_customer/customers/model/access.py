"""Who may see and change a customer and which fields they see (full,
contact, pool), who may create one and for whom, and what a refused
duplicate tells the caller. Pure Python, no I/O.
"""

from __future__ import annotations

from dataclasses import replace

from crm_customer.customers.model.record import KEY_KINDS, Customer, Profile
from crm_kit.auth import Principal
from crm_kit.errors import PermissionDenied

FULL, CONTACT, POOL = "full", "contact", "pool"


# Contact fields for support agents (and finance): enough to reach the customer.
# Preferences too: the agent answering a call should honour "likes the window seat".
_CONTACT_FIELDS = ("display_name", "kind", "phones", "emails", "region", "addresses", "consent_sms", "consent_email",
                   "preferences")


# What any rep sees of a pool customer before claiming it: enough to decide, no way to reach them.
_POOL_FIELDS = ("display_name", "kind", "region", "type", "level", "tags", "source", "stage")


def _has_scope(principal: Principal, scope: str) -> bool:
    return principal.role == "integration" and scope in principal.scopes


def _manages(principal: Principal, customer: Customer) -> bool:
    """Managers run their team's customers and the public pool."""
    return principal.role == "manager" and (customer.in_pool or (bool(principal.team) and customer.team_id == principal.team))


def view_for(principal: Principal, customer: Customer) -> str | None:
    """Which fields the caller sees (FULL, CONTACT, POOL), or None: not at all."""
    if principal.role == "admin" or _has_scope(principal, "customers:read") or _manages(principal, customer):
        return FULL
    if principal.role == "rep":
        if customer.owner_id == principal.subject:
            return FULL
        return POOL if customer.in_pool else None
    if principal.role in ("agent", "finance"):
        return CONTACT
    return None


def visible(customer: Customer, view: str) -> Customer:
    """The customer with the fields outside `view` emptied."""
    if view == FULL:
        return customer
    keep = _CONTACT_FIELDS if view == CONTACT else _POOL_FIELDS
    profile = Profile(**{name: getattr(customer.profile, name) for name in keep})
    return replace(customer, profile=profile)


def can_write(principal: Principal, customer: Customer) -> bool:
    if principal.role == "admin" or _has_scope(principal, "customers:write") or _manages(principal, customer):
        return True
    return principal.role == "rep" and customer.owner_id == principal.subject


def require_create_right(principal: Principal) -> None:
    if principal.role in ("admin", "manager", "rep") or _has_scope(principal, "customers:write"):
        return
    raise PermissionDenied("your role may not create customers")


def require_read_right(principal: Principal) -> None:
    if principal.role == "integration" and "customers:read" not in principal.scopes:
        raise PermissionDenied("token lacks the customers:read scope")


def require_manager(principal: Principal, action: str) -> None:
    if principal.role not in ("admin", "manager") and not _has_scope(principal, "customers:write"):
        raise PermissionDenied(f"only managers and admins may {action}")


def owner_for_new_customer(principal: Principal, requested_owner: str) -> str:
    """Reps own what they create; managers, admins and integrations may assign."""
    if not requested_owner or requested_owner == principal.subject:
        return principal.subject if principal.role in ("rep", "manager") else requested_owner
    if principal.role == "rep":
        raise PermissionDenied("reps cannot create customers for someone else")
    return requested_owner


def duplicate_relation(principal: Principal, holder_owner_id: str, key: str) -> tuple[str, str]:
    """(relation, message) for a refused duplicate, revealing nothing about
    another rep's customer beyond the fact that it exists."""
    what = KEY_KINDS.get(key.split(":", 1)[0], "key")
    if holder_owner_id and holder_owner_id == principal.subject:
        return "yours", f"a customer with this {what} already exists and is yours"
    if not holder_owner_id:
        return "public_pool", f"a customer with this {what} already exists in the public pool; claim it instead"
    return "another_owner", f"a customer with this {what} already exists and belongs to another rep"
