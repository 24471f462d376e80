"""Scheduled-visit use cases: plan, list a rep's due visits, complete, cancel.

Transport-free: the gRPC servicer translates messages and calls these.

Single-document writes ordered for crashes (no multi-document transactions):
a visit is put on its rep's list before it is written, because a list entry
without its visit is skipped (and dropped once clearly abandoned), while a
visit missing from its rep's list would be forgotten. Completing is
repeatable: the outcome claim, the interaction (keyed by the visit) and the
next occurrence (its id derived from the visit's) are each found again by a
retry instead of being made twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from crm_kit.clock import now_ms
from crm_kit import paging
from crm_kit.ids import matches, new_id, not_found
from crm_kit.auth import Principal
from crm_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied, \
    PreconditionViolation

from crm_customer.interactions import model as interaction_rules
from crm_customer.visits import model as rules
from crm_customer.interactions.service import InteractionService
from crm_customer.interactions.model import Interaction, InteractionDraft
# A list entry whose visit is still missing after ABANDONED_AFTER was left by
# a schedule that crashed between its two writes.
from crm_kit.persistence.revisions import ABANDONED_AFTER
from crm_customer.customers.service import CustomerService
from crm_customer.visits.store import VisitStore
from crm_customer.customers.model.record import Customer
from crm_customer.visits.model import Visit, VisitDraft



class VisitService:
    def __init__(self, store: VisitStore, customers: CustomerService, interactions: InteractionService,
                 clock=now_ms):
        self.store = store
        self.customers = customers
        self.interactions = interactions
        self.clock = clock

    def schedule(self, principal: Principal, draft: VisitDraft, request_id: str = "") -> Visit:
        customer = self.customers.get(principal, draft.customer_id)
        interaction_rules.require_record_right(principal, customer)
        rep_id = rules.rep_for_visit(principal, draft.rep_id, customer)
        request_id = interaction_rules.validate_request_id(request_id)
        visit_id = rules.derived_visit_id("request", principal.subject, request_id) if request_id \
            else new_id("vis")
        now = self.clock()
        visit = rules.new_visit(draft, visit_id=visit_id, rep_id=rep_id, created_by=principal.subject, now=now)
        if request_id:
            earlier = self.store.get(visit_id)
            if earlier is not None:
                return self._same_request(earlier, visit, now)
        self.store.add_open(visit, now)
        if not self.store.insert(visit):  # the same request, concurrently
            return self._same_request(self.store.get(visit_id), visit, now)
        self._unless_erased(visit.customer_id)
        return visit

    def _unless_erased(self, customer_id: str) -> Customer:
        """After a write: the customer as it is now; if it was erased meanwhile
        (an erasure marks the customer first, then erases what hangs off it),
        what this call wrote must not outlive the erasure."""
        customer = self.customers.live(customer_id)
        if customer is None:
            self.erase(customer_id)
            raise NotFound("customer", customer_id)
        return customer

    def _same_request(self, earlier: Visit, wanted: Visit, now: datetime) -> Visit:
        if not rules.same_plan(earlier, wanted):
            raise FailedPrecondition(
                [PreconditionViolation("REQUEST_ID", f"visits/{earlier.id}",
                                       "this request id was already used for a different visit")],
                "this request id was already used for a different visit")
        if earlier.state == "scheduled":
            self.store.add_open(earlier, now)  # in case the first attempt stopped before listing it
        return earlier

    def get(self, principal: Principal, visit_id: str) -> Visit:
        return self._visible(principal, visit_id)[0]

    def _visible(self, principal: Principal, visit_id: str) -> tuple[Visit, Customer]:
        """The visit and its customer, when the caller may see the customer in
        full now; else NotFound, as for the customer itself."""
        visit = self.store.get(visit_id) if matches(rules.VISIT_ID, visit_id) else None
        customer = self._customer_seen_by(principal, visit.customer_id) if visit is not None else None
        if visit is None or customer is None:
            raise not_found("visit", visit_id, rules.VISIT_ID)
        return visit, customer

    def _customer_seen_by(self, principal: Principal, customer_id: str) -> Customer | None:
        """The customer (by the customer service's own rules), or None when the caller may not see it in full."""
        try:
            customer, _view = self.customers.readable(principal, customer_id)
        except (NotFound, PermissionDenied):
            return None
        return customer if rules.may_see(principal, customer) else None

    def list(self, principal: Principal, *, rep_id: str, due_before: datetime | None, page_size: int,
             page_token: str, customer_id: str = "", nothing_listed: bool = False) -> tuple[list[Visit], str]:
        """The rep's open visits whose customers the caller may see now. After
        a transfer the visits have moved to the new owner's list (see
        `follow_owner`); one the move has not reached yet is hidden from the
        old rep all the same. With `customer_id`: that customer's open visits;
        with `nothing_listed` too, the caller knows the customer has none (no
        activity mark, crm_customer.activity): the rights are checked all the
        same, the list is not read."""
        size = paging.page_size(page_size)
        if customer_id:
            if rep_id:
                raise InvalidArgument(FieldViolation("rep_id", "give rep_id or customer_id, not both"))
            return self._list_of_customer(principal, customer_id, due_before, size, page_token, nothing_listed)
        rep = rules.rep_to_list(principal, rep_id)
        query = {"rep": rep, "due_before": due_before.isoformat() if due_before else ""}
        position = paging.decode(page_token, query)
        after = _cursor(position) if position is not None else None
        entries = self.store.open_visits(rep)
        ordered, _more = rules.due_page({vid: at for vid, (at, _since) in entries.items()},
                                        due_before=due_before, after=after, limit=len(entries))
        now = self.clock()
        seen: dict[str, Customer | None] = {}
        page: list[Visit] = []
        last, more = "", False
        read: dict[str, Visit] = {}
        read_to = 0  # the entries before this index are read (a page's worth at a time, in one read)
        for i, vid in enumerate(ordered):
            if len(page) == size:
                more = True
                break
            if i >= read_to:
                read, read_to = self.store.get_many(ordered[i:i + size]), i + size
            last = vid
            visit = read.get(vid)
            if visit is not None and visit.state == "scheduled" and visit.rep_id == rep:
                if visit.customer_id not in seen:
                    seen[visit.customer_id] = self._customer_seen_by(principal, visit.customer_id)
                if seen[visit.customer_id] is not None:
                    page.append(visit)
            elif visit is not None or now - entries[vid][1] > ABANDONED_AFTER:
                self.store.remove_open(rep, vid)  # closed or moved (crash before unlisting), or never written
        token = paging.encode({"at": entries[last][0].isoformat(), "id": last}, query) if more else ""
        return page, token

    def _list_of_customer(self, principal: Principal, customer_id: str, due_before: datetime | None, size: int,
                          page_token: str, nothing_listed: bool = False) -> tuple[list[Visit], str]:
        customer = self._customer_seen_by(principal, customer_id)
        if customer is None:
            raise NotFound("customer", customer_id)
        query = {"customer": customer.id, "due_before": due_before.isoformat() if due_before else ""}
        position = paging.decode(page_token, query)
        after = _cursor(position) if position is not None else None
        listed = [] if nothing_listed else self.store.open_of_customer(customer.id)
        visits = {vid: v for vid, v in self.store.get_many(listed).items()
                  if v.state == "scheduled" and v.customer_id == customer.id}
        ordered, more = rules.due_page({vid: v.scheduled_at for vid, v in visits.items()},
                                       due_before=due_before, after=after, limit=size)
        page = [visits[vid] for vid in ordered]
        token = paging.encode({"at": page[-1].scheduled_at.isoformat(), "id": page[-1].id}, query) if more else ""
        return page, token

    def follow_owner(self, customer: Customer) -> None:
        """Hand the customer's open visits to its new owner (called by the
        customer service after an ownership change; see rules.following_owner).
        Each move lists the visit for the new owner before rewriting it, so a
        crash leaves at most an entry the lists skip. Repeatable."""
        now = self.clock()
        for vid in self.store.open_of_customer(customer.id):
            visit = self.store.get(vid)
            if visit is None:
                continue  # being scheduled right now, or never written
            if visit.state != "scheduled":
                self.store.remove_open(visit.rep_id, vid, visit.customer_id)
                continue
            moved = rules.following_owner(visit, customer.owner_id)
            if moved is None or self.store.outcome(vid) is not None:
                continue
            self.store.add_open(moved, now)
            if self.store.move(visit, moved):
                self.store.remove_open(visit.rep_id, vid)

    def complete(self, principal: Principal, visit_id: str, draft: InteractionDraft
                 ) -> tuple[Visit, Interaction, Visit | None]:
        visit, customer = self._visible(principal, visit_id)
        rules.require_change_right(principal, customer)
        if visit.state == "cancelled":
            raise _closed(visit, "the visit was cancelled")
        if self.store.claim_outcome(visit.id, "completed") != "completed":
            raise _closed(visit, "the visit was cancelled")
        draft = replace(draft, channel="visit", rep_id=visit.rep_id)
        entry = self.interactions.write(principal, visit.customer_id, draft, key=f"visit:{visit.id}")
        now = self.clock()
        if visit.state == "completed":  # a repeat: everything below was done
            following = self.store.get(visit.next_visit_id) if visit.next_visit_id else None
            return visit, entry, following
        following = rules.next_visit(visit, done_at=entry.occurred_at, created_by=principal.subject, now=now)
        owner = (self.customers.live(visit.customer_id) or customer).owner_id
        if following is not None and owner and owner != following.rep_id:
            # The customer changed hands while this visit was being closed: the
            # next one is the new owner's (their round lists it; the old rep's would hide it).
            following = replace(following, rep_id=owner)
        if following is not None:
            self.store.add_open(following, now)
            if not self.store.insert(following):
                following = self.store.get(following.id)
        done = rules.completed(visit, done_at=entry.occurred_at, interaction_sequence=entry.sequence,
                               next_visit_id=following.id if following else "")
        self.store.save(done)
        self.store.remove_open(visit.rep_id, visit.id, visit.customer_id)
        now_owner = self._unless_erased(visit.customer_id)
        if following is not None:
            # A transfer that committed while this ran moved the open visits it
            # saw, not the one planned here: move it now (repeatable).
            if now_owner.owner_id and now_owner.owner_id != following.rep_id:
                self.follow_owner(now_owner)
                following = self.store.get(following.id) or following
        return done, entry, following

    def cancel(self, principal: Principal, visit_id: str) -> Visit:
        visit, customer = self._visible(principal, visit_id)
        rules.require_change_right(principal, customer)
        if visit.state == "completed" or self.store.claim_outcome(visit.id, "cancelled") != "cancelled":
            raise _closed(visit, "the visit was completed")
        if visit.state == "scheduled":
            visit = replace(visit, state="cancelled", closed_at=self.clock())
            self.store.save(visit)
        self.store.remove_open(visit.rep_id, visit.id, visit.customer_id)
        return visit

    # --- privacy (called by the customer service, which checked the caller) ---

    def export(self, customer_id: str) -> list[dict]:
        return [rules.export_json(v) for v in self.store.of_customer(customer_id)]

    def erase(self, customer_id: str) -> None:
        """Cancel the customer's open visits and strip every visit's purpose;
        who visited when stays (the rep's record, no personal text).
        Repeatable: visits already stripped are skipped; a cancelled one still
        on its rep's list (a crash before unlisting) is dropped by `list`."""
        now = self.clock()
        for visit in self.store.of_customer(customer_id):
            if visit.state == "scheduled":
                self.store.claim_outcome(visit.id, "cancelled")  # a completion from now on is refused
            elif not visit.purpose:
                continue
            self.store.save(rules.erased(visit, now))
            if visit.state == "scheduled":
                self.store.remove_open(visit.rep_id, visit.id, visit.customer_id)


def _cursor(position: dict) -> tuple[datetime, str]:
    try:
        at = datetime.fromisoformat(position["at"])
        vid = rules.validate_visit_id(position["id"])
        if at.tzinfo is None:
            raise ValueError
    except (KeyError, TypeError, ValueError, InvalidArgument):
        raise InvalidArgument(FieldViolation("page_token", "is not a valid page token")) from None
    return at, vid


def _closed(visit: Visit, message: str) -> FailedPrecondition:
    return FailedPrecondition([PreconditionViolation("STATE", f"visits/{visit.id}", message)], message)
