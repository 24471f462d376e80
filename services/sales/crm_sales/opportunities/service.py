"""Pipeline use cases: open, read, list, edit, move through the stages,
forecast and funnel; `open_system` for jobs (contract renewals) and
`follow_owner` for the `customer.owner_changed` consumer.

Transport-free: the gRPC servicer translates messages and calls these.

Rights (crm_sales.access): opening one needs the right to work on its
customer, asked of the customer service as the caller (NotFound when the
caller may not see the customer). Afterwards an opportunity is judged by
its own owner and team, which follow the customer's (`follow_owner`): a rep
reads and works on the opportunities they own, a manager their team's,
finance and agents read all, admins everything; anything else is NotFound,
as for customers. Only managers and admins give one to another owner.

Every change claims the next revision (crm_kit.persistence.revisions): a
stage move, an edit and an owner change racing each other are each
applied once, none lost; `expected_revision` refuses a stale edit instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from crm_kit import paging
from crm_kit.auth import Principal
from crm_kit.clock import local_date, now_ms, to_ms
from crm_kit.errors import (FailedPrecondition, FieldViolation, InvalidArgument, PermissionDenied,
                            PreconditionViolation)
from crm_kit.ids import id_pattern, matches, new_id, not_found
from crm_kit.money import Money
from crm_kit.persistence.revisions import Contended, write_with_retries

from crm_sales import access
from crm_kit.customer_directory import CustomerDirectory, CustomerRef
from crm_sales.opportunities import model as rules
from crm_sales.opportunities import store as books
from crm_sales.opportunities.model import (FunnelStage, ForecastRow, Opportunity, OpportunityChanges,
                                           OpportunityDraft, StageSet)
from crm_sales.opportunities.store import OpportunityStore, TooMany
from crm_sales.profitability.months import DEFAULT_ZONE

ID_PREFIX = "opp"
OPPORTUNITY_ID = id_pattern(ID_PREFIX)
SYSTEM = "system"
# Forecast and funnel read every opportunity of their book by _id (FerretDB
# scans any other filter): about 20,000 reads is a few seconds.
SCOPE_LIMIT = 20_000


def _ref(opp: Opportunity) -> CustomerRef:
    """The opportunity as the sales rights see a customer: its owner and team."""
    return CustomerRef(opp.customer_id, opp.owner_id, opp.team_id)


def _may_assign(principal: Principal) -> bool:
    return principal.role in ("admin", "manager")


class OpportunityService:
    def __init__(self, store: OpportunityStore, customers: CustomerDirectory, stages: StageSet, clock=now_ms,
                 zone: dt.tzinfo = DEFAULT_ZONE):
        self.store = store
        self.customers = customers
        self.stages = stages
        self.clock = clock
        self.zone = zone  # the business's day decides "today" and a won opportunity's month

    def today(self) -> dt.date:
        return local_date(self.clock(), self.zone)

    # --- opening --------------------------------------------------------------

    def create(self, principal: Principal, draft: OpportunityDraft) -> Opportunity:
        read_at = self.clock()  # before the read: a transfer after it reaches this opportunity too
        customer = self.customers.get(access.require_customer_id(draft.customer_id))
        access.require_work_on(principal, customer)
        owner_id = customer.owner_id
        if draft.owner_id and draft.owner_id != customer.owner_id:
            if not _may_assign(principal):
                raise PermissionDenied("only managers and admins give an opportunity to someone other than "
                                       "the customer's owner")
            owner_id = draft.owner_id
        if not owner_id:
            raise FailedPrecondition([PreconditionViolation("IN_POOL", f"customers/{customer.id}",
                                                            "the customer is in the public pool")],
                                     "name the opportunity's owner: the customer has none")
        opp = rules.new_opportunity(draft, opportunity_id=new_id(ID_PREFIX), owner_id=owner_id,
                                    team_id=customer.team_id, by=principal.subject, now=self.clock(),
                                    owner_read_at=read_at)
        self.store.insert(opp, principal.subject)
        return self._unless_erased(self._catch_up_owner(opp))

    def _catch_up_owner(self, opp: Opportunity) -> Opportunity:
        """After the insert: an ownership change applied since the owner was
        read (its event handled while this was being written, so its walk
        may have missed it) moves this one too."""
        latest = self.store.latest_owner(opp.customer_id)
        if latest is None or latest[2] <= opp.owner_as_of:
            return opp
        self._follow(opp.id, *latest)
        return self.store.get(opp.id) or opp

    def open_system(self, *, customer_id: str, owner_id: str, team_id: str, amount: Money,
                    expected_close: dt.date, title: str, dedupe_key: str) -> str:
        """Open at the first stage without a caller (jobs). Idempotent by
        `dedupe_key`: the first call decides the id (an insert whose `_id` is
        the key), later calls return it. One whose opener crashed before
        writing it is written by the next call once the decision is old."""
        if not dedupe_key:
            raise InvalidArgument(FieldViolation("dedupe_key", "is required"))
        draft = rules.build_draft(customer_id=customer_id, title=title, amount=amount, expected_close=expected_close,
                                  stage=self.stages.first, owner_id=owner_id, stages=self.stages,
                                  today=min(self.today(), expected_close))
        now = self.clock()
        decided, opportunity_id, decided_at = self.store.decide_id(dedupe_key, new_id(ID_PREFIX), now)
        if not decided:
            if self.store.get(opportunity_id) is not None or \
                    now - decided_at <= self.store.revisions.abandoned_after:
                return opportunity_id  # written, or being written by the first caller
        opp = rules.new_opportunity(draft, opportunity_id=opportunity_id, owner_id=draft.owner_id, team_id=team_id,
                                    by=SYSTEM, now=now, dedupe_key=dedupe_key)
        self.store.insert(opp, SYSTEM)
        self._unless_erased(opp)
        return opportunity_id

    # --- reading --------------------------------------------------------------

    def get(self, principal: Principal, opportunity_id: str) -> Opportunity:
        access.require_any_read(principal)
        return self._visible(principal, opportunity_id)

    def list(self, principal: Principal, *, customer_id: str = "", owner_id: str = "", team_id: str = "",
             open_only: bool = False, page_size: int = 0, page_token: str = "") -> tuple[list[Opportunity], str]:
        """A customer's, an owner's or a team's opportunities (the caller's
        own book when none is named), in the order they arrived there."""
        access.require_any_read(principal)
        if customer_id:
            if owner_id or team_id:
                raise InvalidArgument(FieldViolation("customer_id", "name one of customer, owner or team"))
            access.require_read(principal, self.customers.get(access.require_customer_id(customer_id)))
            book = books.customer_book(customer_id)
        else:
            book = self._book(principal, owner_id, team_id)
        size = paging.page_size(page_size)
        query = {"book": book, "open": open_only, "who": paging.fingerprint(principal.subject, principal.role,
                                                                            principal.team)}
        start = paging.book_start(paging.decode(page_token, query))
        found, next_n = self.store.page(
            book, lambda o: access.may_read(principal, _ref(o)) and (o.is_open or not open_only), size, start)
        return found, paging.encode({"n": next_n}, query) if next_n else ""

    def forecast(self, principal: Principal, *, group_by: str, owner_id: str = "", team_id: str = "",
                 from_month: str = "", to_month: str = "") -> list[ForecastRow]:
        """Weighted forecast per month and rep (group_by "owner") or team."""
        access.require_any_read(principal)
        if group_by not in ("owner", "team"):
            raise InvalidArgument(FieldViolation("group_by", "must be owner or team"))
        violations: list[FieldViolation] = []
        months = []
        for raw, name in ((from_month, "from_month"), (to_month, "to_month")):
            try:
                months.append(rules.parse_month(raw, name))
            except InvalidArgument as err:
                violations += err.violations
        if not violations and months[0] and months[1] and months[0] > months[1]:
            violations.append(FieldViolation("to_month", "must not be before from_month"))
        if violations:
            raise InvalidArgument(violations)
        return rules.forecast(self._scope(principal, owner_id, team_id), self.stages, group_by, *months,
                              zone=self.zone)

    def funnel(self, principal: Principal, *, owner_id: str = "", team_id: str = "") -> list[FunnelStage]:
        access.require_any_read(principal)
        return rules.funnel(self._scope(principal, owner_id, team_id), self.stages)

    def _scope(self, principal: Principal, owner_id: str, team_id: str) -> list[Opportunity]:
        """What a forecast or funnel adds up: one read per entry of the book,
        so a book beyond SCOPE_LIMIT entries (everyone's, in a large
        company) is refused rather than read for minutes."""
        book = self._book(principal, owner_id, team_id)
        try:
            return [o for o in self.store.every(book, SCOPE_LIMIT) if access.may_read(principal, _ref(o))]
        except TooMany:
            raise FailedPrecondition([PreconditionViolation("TOO_MANY", "opportunities",
                                                            f"more than {SCOPE_LIMIT} opportunities to add up")],
                                     "too many opportunities to add up at once: name a team or an owner") from None

    def _book(self, principal: Principal, owner_id: str, team_id: str) -> str:
        """The owner's or team's book; the caller's own when neither is named."""
        if owner_id and team_id:
            raise InvalidArgument(FieldViolation("owner_id", "name an owner or a team, not both"))
        if owner_id:
            return books.owner_book(owner_id)
        if team_id:
            return books.team_book(team_id)
        if access.sees_everything(principal):
            return books.ALL
        if principal.role == "manager":
            return books.team_book(principal.team)
        return books.owner_book(principal.subject)

    def _visible(self, principal: Principal, opportunity_id: str) -> Opportunity:
        opp = self.store.get(opportunity_id) if matches(OPPORTUNITY_ID, opportunity_id) else None
        if opp is None or not access.may_read(principal, _ref(opp)):
            raise not_found("opportunity", opportunity_id, OPPORTUNITY_ID)
        return opp

    # --- changing ---------------------------------------------------------------

    def update(self, principal: Principal, opportunity_id: str, changes: OpportunityChanges,
               expected_revision: int = 0) -> Opportunity:
        changes = rules.clean_changes(changes, self.today())
        if changes.owner_id is not None and not _may_assign(principal):
            raise PermissionDenied("only managers and admins give an opportunity to another owner")
        return self._change(principal, opportunity_id, expected_revision,
                            lambda current, now: rules.apply_changes(current, changes, now))

    def move(self, principal: Principal, opportunity_id: str, stage: str, reason: str = "",
             expected_revision: int = 0) -> Opportunity:
        """To another open stage, or closed as won / lost / abandoned (with a
        reason). Repeating the move that closed it returns it unchanged."""
        return self._change(principal, opportunity_id, expected_revision,
                            lambda current, now: rules.move_stage(current, stage, reason, self.stages,
                                                                  principal.subject, now))

    def _change(self, principal: Principal, opportunity_id: str, expected_revision: int, mutate) -> Opportunity:
        if expected_revision < 0:
            raise InvalidArgument(FieldViolation("expected_revision", "must not be negative"))

        def load() -> Opportunity:
            opp = self._visible(principal, opportunity_id)
            if not access.may_work_on(principal, _ref(opp)):
                raise PermissionDenied("your role may read but not change this opportunity")
            return opp

        def change(current: Opportunity) -> Opportunity:
            if expected_revision and current.revision != expected_revision:
                raise FailedPrecondition(
                    [PreconditionViolation("ETAG", f"opportunities/{current.id}",
                                           f"the opportunity is at revision {current.revision}, "
                                           f"not {expected_revision}")],
                    "the opportunity was changed since you read it; read it again")
            now = self.clock()
            updated = mutate(current, now)
            if updated is None or updated == current:
                return current
            return self._commit(current, updated, principal.subject, now)

        return self._unless_erased(write_with_retries("opportunity", opportunity_id, load, change))

    def _commit(self, current: Opportunity, updated: Opportunity, by: str, now: dt.datetime) -> Opportunity:
        updated = replace(updated, revision=current.revision + 1, updated_at=now)
        if not self.store.commit(current, updated, by):
            raise Contended()
        return updated

    def follow_owner(self, customer_id: str, to_owner_id: str, to_team_id: str,
                     as_of: dt.datetime | None = None) -> int:
        """The customer's open opportunities go to its new owner and team
        (`customer.owner_changed`). `as_of` is when the ownership changed:
        an older change arriving late (a retried event) moves nothing.
        Repeatable; returns how many moved."""
        as_of = to_ms(as_of) if as_of is not None else self.clock()  # stored times are whole milliseconds
        # Noted first: a create writing meanwhile reads it after its insert (see _catch_up_owner).
        self.store.note_owner(customer_id, to_owner_id, to_team_id, as_of)
        return sum(self._follow(opp.id, to_owner_id, to_team_id, as_of)
                   for opp in self.store.every(books.customer_book(customer_id)) if opp.is_open)

    def _follow(self, opportunity_id: str, owner_id: str, team_id: str, as_of: dt.datetime) -> bool:
        """Whether the opportunity moved to (owner, team) as of `as_of`."""
        def change(current: Opportunity | None) -> bool:
            if current is None:
                return False
            now = self.clock()
            updated = rules.following_owner(current, owner_id, team_id, as_of, now)
            if updated is None:
                return False
            self._commit(current, updated, SYSTEM, now)
            return (updated.owner_id, updated.team_id) != (current.owner_id, current.team_id)

        return write_with_retries("opportunity", opportunity_id, lambda: self.store.get(opportunity_id), change)

    def erase_customer(self, customer_id: str) -> int:
        """`customer.erased`: strip the free text of the customer's
        opportunities (titles and reasons may name the person) from them and
        from their history; amounts, dates and stages stay for the
        forecast. The erasure is noted first, so a write landing meanwhile
        strips itself afterwards (`_unless_erased`). Repeatable; returns how
        many were stripped."""
        self.store.mark_erased(customer_id, self.clock())
        return sum(1 for opp in self.store.every(books.customer_book(customer_id)) if self._strip(opp.id))

    def _unless_erased(self, opp: Opportunity) -> Opportunity:
        """After a write: if the customer was erased meanwhile, what was just
        written loses its free text too."""
        if not self.store.is_erased(opp.customer_id):
            return opp
        return self._strip(opp.id) or opp

    def _strip(self, opportunity_id: str) -> Opportunity | None:
        def change(current: Opportunity | None) -> Opportunity | None:
            if current is None:
                return None
            updated = rules.erased(current)
            return current if updated is None else self._commit(current, updated, SYSTEM, self.clock())

        final = write_with_retries("opportunity", opportunity_id, lambda: self.store.get(opportunity_id), change)
        if final is not None:
            self.store.strip_history(final)
        return final
