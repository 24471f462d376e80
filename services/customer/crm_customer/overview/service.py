"""The customer service's part of the 360 card in one use case: the
customer, what we told them last, their open visits.

Each part keeps the rules of its own feature (it calls that feature's use
case with the caller); the customer is read once for all of them
(CustomerService.one_read_each), so the card pays for one customer read
and one call where it paid for three of each. A customer without an
activity mark (crm_customer.activity) has no log and no listed visit: both
parts answer empty after the caller's rights are checked, unread. A part
the caller may not have is named, not an error, and so is one that could
not be read: the card shows the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pymongo.errors import PyMongoError

from crm_kit import paging
from crm_kit.auth import Principal
from crm_kit.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from crm_kit.persistence.presence import Presence

from crm_customer.customers.model.record import Customer
from crm_customer.customers.service import CustomerService
from crm_customer.interactions.model import InteractionSummary
from crm_customer.interactions.service import MAX_RECENT, InteractionService
from crm_customer.visits.model import Visit
from crm_customer.visits.service import VisitService

INTERACTIONS, OPEN_VISITS = "interactions", "open_visits"

log = logging.getLogger("crm.customer.overview")


@dataclass(frozen=True)
class Overview:
    customer: Customer  # as the caller may see it
    interactions: InteractionSummary | None  # None when not asked or not permitted
    open_visits: tuple[Visit, ...]
    more_open_visits: bool
    not_permitted: tuple[str, ...]  # parts asked for that the caller may not have
    failed: tuple[str, ...] = ()  # parts asked for that could not be read


class OverviewService:
    def __init__(self, customers: CustomerService, interactions: InteractionService, visits: VisitService,
                 activity: Presence | None = None):
        self.customers = customers
        self.interactions = interactions
        self.visits = visits
        self.activity = activity  # who has an interaction or a listed visit (crm_customer.activity)

    def overview(self, principal: Principal, *, customer_id: str = "", phone: str = "", email: str = "",
                 interactions: bool = False, recent: int = 0, open_visits: bool = False,
                 visits_limit: int = 0) -> Overview:
        if sum(1 for given in (customer_id, phone, email) if given) != 1:
            raise InvalidArgument(FieldViolation("id", "give exactly one of id, phone or email"))
        # The sizes are checked before anything is read, as the parts' own calls check them.
        if isinstance(recent, bool) or not 0 <= recent <= MAX_RECENT:
            raise InvalidArgument(FieldViolation("recent_interactions", f"must be 0..{MAX_RECENT}"))
        if not 0 <= visits_limit <= paging.MAX_PAGE_SIZE:
            raise InvalidArgument(FieldViolation("open_visits_limit", f"must be 0..{paging.MAX_PAGE_SIZE}"))
        refused: list[str] = []
        failed: list[str] = []

        def part(name: str, read):
            try:
                return read()
            except (NotFound, PermissionDenied):
                refused.append(name)
            except Exception:  # noqa: BLE001 - one part's failure must not take the customer down with it
                log.warning("overview part failed", exc_info=True, extra={"fields": {"part": name}})
                failed.append(name)
            return None

        with self.customers.one_read_each():
            customer = self.customers.get(principal, customer_id) if customer_id \
                else self.customers.lookup(principal, phone=phone, email=email)
            # No activity mark: neither part has anything to read (each still checks the caller's rights).
            idle = bool(interactions or open_visits) and not self._may_have_activity(customer.id)
            summary = part(INTERACTIONS, lambda: self.interactions.summary(
                principal, customer.id, recent=recent, nothing_recorded=idle)) if interactions else None
            visits = part(OPEN_VISITS, lambda: self.visits.list(
                principal, rep_id="", due_before=None, page_size=visits_limit, page_token="",
                customer_id=customer.id, nothing_listed=idle)) if open_visits else None
        page, token = visits or ([], "")
        return Overview(customer, summary, tuple(page), bool(token), tuple(refused), tuple(failed))

    def _may_have_activity(self, customer_id: str) -> bool:
        if self.activity is None:
            return True
        try:
            return self.activity.may_have(customer_id)
        except PyMongoError:  # the parts read for themselves (and are named if they fail too)
            log.warning("activity mark unread", exc_info=True)
            return True
