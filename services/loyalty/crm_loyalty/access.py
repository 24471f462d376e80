"""Who may do what in loyalty. Rules only; the customer is asked of the
customer service as the caller (crm_kit.customer_directory).

- reps read and redeem for the customers they own; managers for their team's;
- agents and finance read any customer's account (to answer a call);
- admins everything, and only they adjust points by hand (audited) and run the jobs;
- the rewards catalogue is kept by managers and admins;
- integrations by scope, each scope on its own as in every service (and the gateway's route policies):
  `loyalty:read` reads, `loyalty:write` adjusts, redeems and keeps the catalogue.
"""

from __future__ import annotations

from crm_kit.auth import Principal
from crm_kit.customer_directory import CustomerRef
from crm_kit.errors import NotFound, PermissionDenied
from crm_kit.ids import id_pattern, matches

READ_SCOPE, WRITE_SCOPE = "loyalty:read", "loyalty:write"
CUSTOMER_ID = id_pattern("cus")


def require_customer_id(customer_id: object) -> str:
    """A customer id that cannot be one is NotFound before anyone is asked (nothing is echoed)."""
    if not matches(CUSTOMER_ID, customer_id):
        raise NotFound("customer", "")
    return customer_id


def scoped(principal: Principal, scope: str) -> bool:
    return principal.role == "integration" and scope in principal.scopes


def require_integration_scope(principal: Principal, scope: str) -> None:
    if principal.role == "integration" and not scoped(principal, scope):
        raise PermissionDenied(f"token lacks the {scope} scope")


def may_read(principal: Principal, customer: CustomerRef) -> bool:
    if principal.role in ("admin", "agent", "finance"):
        return True
    if principal.role == "manager":
        return bool(principal.team) and customer.team_id == principal.team
    return principal.role == "rep" and not customer.in_pool and customer.owner_id == principal.subject


def may_change(principal: Principal, customer: CustomerRef) -> bool:
    """Redeeming and cancelling for the customer."""
    if principal.role == "admin":
        return True
    if principal.role == "manager":
        return bool(principal.team) and customer.team_id == principal.team
    return principal.role == "rep" and not customer.in_pool and customer.owner_id == principal.subject


def require_adjust_right(principal: Principal) -> None:
    if principal.role == "admin" or scoped(principal, WRITE_SCOPE):
        return
    raise PermissionDenied("only admins adjust points by hand")


def require_catalogue_right(principal: Principal) -> None:
    if principal.role in ("admin", "manager") or scoped(principal, WRITE_SCOPE):
        return
    raise PermissionDenied("only managers and admins change the rewards catalogue")


def require_admin(principal: Principal) -> None:
    if principal.role != "admin":
        raise PermissionDenied("only admins run the loyalty jobs")
