"""Who may do what in sales. Pure rules, no I/O; every feature asks these.

- a rep works on the customers they own (asked of the customer service);
- a manager on the customers of their team;
- finance reads everything and records money (receipts, refunds, voids);
- agents read orders, delivery and contracts (to answer a call), never costs;
- admins everything;
- integrations by scope: `sales:read`, `sales:write`, `sales:money`.

Cost and margin fields (unit cost, cost totals, margin, margin rate, margin
grade) are for managers, finance and admins only.
"""

from __future__ import annotations


from crm_kit.auth import Principal
from crm_kit.errors import NotFound, PermissionDenied
from crm_kit.ids import id_pattern, matches

from crm_kit.customer_directory import CustomerRef

READ_SCOPE, WRITE_SCOPE, MONEY_SCOPE = "sales:read", "sales:write", "sales:money"
CUSTOMER_ID = id_pattern("cus")


def require_customer_id(customer_id: object) -> str:
    """A customer id that cannot be one is NotFound before the customer
    service is asked (which would echo it)."""
    if not matches(CUSTOMER_ID, customer_id):
        raise NotFound("customer", "")
    return customer_id


def _scoped(principal: Principal, scope: str) -> bool:
    return principal.role == "integration" and scope in principal.scopes


def sees_costs(principal: Principal) -> bool:
    return principal.role in ("admin", "manager", "finance")


def sees_everything(principal: Principal) -> bool:
    """Reads across every rep's and team's book."""
    return principal.role in ("admin", "finance", "agent") or _scoped(principal, READ_SCOPE)


def may_read(principal: Principal, customer: CustomerRef) -> bool:
    """Whether the caller reads what hangs off `customer` (orders, plans, contracts)."""
    if sees_everything(principal):
        return True
    if principal.role == "manager":
        return bool(principal.team) and customer.team_id == principal.team
    return principal.role == "rep" and not customer.in_pool and customer.owner_id == principal.subject


def may_work_on(principal: Principal, customer: CustomerRef) -> bool:
    """Whether the caller sells to `customer` (drafts, confirms, amends, ships)."""
    if principal.role == "admin" or _scoped(principal, WRITE_SCOPE):
        return True
    if principal.role == "manager":
        return bool(principal.team) and customer.team_id == principal.team
    return principal.role == "rep" and not customer.in_pool and customer.owner_id == principal.subject


def require_read(principal: Principal, customer: CustomerRef) -> None:
    """NotFound, as for customers: a caller who may not see it learns nothing."""
    if not may_read(principal, customer):
        raise NotFound("customer", customer.id)


def require_work_on(principal: Principal, customer: CustomerRef) -> None:
    if may_work_on(principal, customer):
        return
    if may_read(principal, customer):
        raise PermissionDenied("your role may read but not change this customer's sales")
    raise NotFound("customer", customer.id)


def require_import_right(principal: Principal) -> None:
    """Historical orders (a migration from a previous system) are imported by
    admins and integrations with sales:write: the import names no rep."""
    if principal.role == "admin" or _scoped(principal, WRITE_SCOPE):
        return
    raise PermissionDenied("only admins and integrations with sales:write import orders")


def require_money_right(principal: Principal) -> None:
    """Receipts, refunds and voids are recorded by finance and admins."""
    if principal.role in ("admin", "finance") or _scoped(principal, MONEY_SCOPE):
        return
    raise PermissionDenied("only finance and admins record payments")


def require_catalogue_right(principal: Principal) -> None:
    """Products and their prices and costs are kept by managers and admins."""
    if principal.role in ("admin", "manager") or _scoped(principal, WRITE_SCOPE):
        return
    raise PermissionDenied("only managers and admins change the product catalogue")


def require_any_read(principal: Principal) -> None:
    if principal.role == "integration" and READ_SCOPE not in principal.scopes:
        raise PermissionDenied("token lacks the sales:read scope")


def may_see_book(principal: Principal, rep_id: str = "", team_id: str = "") -> bool:
    """Whether the caller reads a rep's or a team's whole book (forecasts,
    receivables): reps their own, managers their team's (a rep's book as far
    as it is their team's), finance, admins and readers of everything all."""
    if principal.role in ("admin", "finance") or _scoped(principal, READ_SCOPE):
        return True
    if principal.role == "manager":
        return bool(principal.team) and (bool(rep_id) or team_id == principal.team)
    return principal.role == "rep" and bool(rep_id) and rep_id == principal.subject
