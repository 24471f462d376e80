"""Interaction log use cases: record, list newest first, summarize.

Transport-free: the gRPC servicer translates messages and calls these.

Recording is single-document inserts (no multi-document transactions, and
no update operators on shared documents: see crm_kit.persistence.chain), ordered so a
crash at any point leaves nothing half-visible and a retry completes it:

1. with a request id: insert the request claim (the duplicate check; a
   concurrent retry waits for the first attempt's entry and returns it);
2. insert the entry as the next link of the customer's chain (this numbers
   it and carries the new last quote / commitment / follow-up / contact);
3. point the request claim at the entry; refresh the customer's
   last-contact time ($max, repeatable).

A claim left pending by a crashed attempt is taken over after
ABANDONED_AFTER: the taker first looks for an entry the crashed attempt may
have written (entries remember their request key), so it is never doubled.
Without a request id a retry records a second entry (the gateway passes its
Idempotency-Key as the request id).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import replace

from crm_kit.clock import now_ms
from crm_kit import paging
from crm_kit.auth import Principal
# A request claim still without its entry after ABANDONED_AFTER was left by
# an attempt that crashed; a concurrent retry waits PENDING_WAIT_SECONDS for it.
from crm_kit.persistence.keys import PENDING_WAIT_SECONDS
from crm_kit.persistence.revisions import ABANDONED_AFTER
from crm_kit.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PreconditionViolation

from crm_customer.interactions import model as rules
from crm_customer.interactions.store import InteractionStore, RequestClaim
from crm_customer.interactions.model import Interaction, InteractionDraft, InteractionSummary, LogState
from crm_customer.customers.service import CustomerService
from crm_customer.interactions import events as interaction_events



MAX_RECENT = 50  # entries a summary may carry (the 360 card asks for 5)


class InteractionService:
    def __init__(self, store: InteractionStore, customers: CustomerService, clock=now_ms):
        self.store = store
        self.customers = customers
        self.clock = clock

    def record(self, principal: Principal, customer_id: str, draft: InteractionDraft,
               request_id: str = "") -> Interaction:
        customer = self.customers.get(principal, customer_id)
        rules.require_record_right(principal, customer)
        rep_id = rules.rep_for_interaction(principal, draft.rep_id)
        request_id = rules.validate_request_id(request_id)
        key = request_key(principal.subject, request_id) if request_id else ""
        return self.write(principal, customer.id, replace(draft, rep_id=rep_id), key)

    def write(self, principal: Principal, customer_id: str, draft: InteractionDraft, key: str = "") -> Interaction:
        """Write an entry for a caller already checked (record, a visit's
        completion). `key` makes it idempotent; `draft.rep_id` is final."""
        entry = self._write_once(principal, customer_id, draft, key) if key else \
            self._append(principal, customer_id, draft, "")
        try:
            # Repeatable (a retry redoes it); it reads the customer even when the
            # time does not move, so an erasure marked meanwhile is NotFound here.
            self.customers.touch_last_contact(customer_id, entry.occurred_at)
        except NotFound:  # the customer was erased while this entry was written: it must not outlive the erase
            # Up to this entry whatever the head says: an erasure that found the
            # log still empty may have deleted the head this write had just moved.
            self.store.erase(customer_id, at_least=entry.sequence)
            raise
        return entry

    def _append(self, principal: Principal, customer_id: str, draft: InteractionDraft, key: str) -> Interaction:
        now = self.clock()
        return self.store.append(
            customer_id,
            lambda sequence: rules.new_interaction(draft, customer_id=customer_id, sequence=sequence,
                                                   rep_id=draft.rep_id, recorded_by=principal.subject, now=now),
            rules.advance, key, interaction_events.recorded)

    def _write_once(self, principal: Principal, customer_id: str, draft: InteractionDraft, key: str) -> Interaction:
        fingerprint = rules.fingerprint(draft)
        for _attempt in range(2):
            now = self.clock()
            claim = self.store.claim_request(customer_id, key, fingerprint, now)
            if claim is None:  # ours: write it
                entry = self._append(principal, customer_id, draft, key)
                self.store.finish_request(customer_id, key, entry.sequence)
                return entry
            if claim.fingerprint != fingerprint:
                raise _request_conflict(customer_id, "this request id was already used for a different interaction")
            claim = self._await_entry(customer_id, key, claim)
            if claim.result:
                entry = self.store.entry(customer_id, claim.result)
                if entry is None:  # written, then taken away by the customer's erasure
                    raise NotFound("customer", customer_id)
                return entry
            if now - claim.created_at <= ABANDONED_AFTER:
                raise _request_conflict(customer_id, "a request with this id is still being processed; retry shortly")
            # The first attempt died: finish what it wrote, or write it now.
            written = self.store.written_for(customer_id, key, claim.created_at)
            if written is not None:
                self.store.finish_request(customer_id, key, written.sequence)
                return written
            self.store.drop_request(customer_id, key)
        raise _request_conflict(customer_id, "a request with this id is still being processed; retry shortly")

    def _await_entry(self, customer_id: str, key: str, claim: RequestClaim) -> RequestClaim:
        """The claim once its entry is written, or as it is after a short wait."""
        deadline = time.monotonic() + PENDING_WAIT_SECONDS
        while not claim.result and time.monotonic() < deadline:
            time.sleep(0.02)
            claim = self.store.request(customer_id, key) or claim
        return claim

    def list(self, principal: Principal, customer_id: str, *, page_size: int, page_token: str
             ) -> tuple[list[Interaction], str]:
        size = paging.page_size(page_size)
        customer = self.customers.get(principal, customer_id)
        rules.require_read_right(principal, customer)
        query = {"customer": customer.id}
        position = paging.decode(page_token, query)
        newest, _state = self.store.newest(customer.id)
        end = newest.sequence + 1 if newest else 1
        if position is None:
            below = end
        else:
            # Tokens are not signed: a forged `below` past the log's end would
            # walk one read per missing number, so it is refused.
            below = position.get("below")
            if isinstance(below, bool) or not isinstance(below, int) or not 1 <= below <= end:
                raise InvalidArgument(FieldViolation("page_token", "is not a valid page token"))
        page = list(itertools.islice(self.store.newest_first(customer.id, below), size))
        more = len(page) == size and page[-1].sequence > 1
        return page, (paging.encode({"below": page[-1].sequence}, query) if more else "")

    def summary(self, principal: Principal, customer_id: str, recent: int = 0,
                nothing_recorded: bool = False) -> InteractionSummary:
        """The last quote, commitment and follow-up, and with `recent` the
        newest few entries too (read once: a slot among them is not read again).
        `nothing_recorded`: the caller knows the log is empty (the customer has
        no activity mark, crm_customer.activity): the rights are checked all the
        same, the log is not read."""
        if isinstance(recent, bool) or not 0 <= recent <= MAX_RECENT:
            raise InvalidArgument(FieldViolation("recent", f"must be 0..{MAX_RECENT}"))
        customer = self.customers.get(principal, customer_id)
        rules.require_read_right(principal, customer)
        newest, state = (None, LogState()) if nothing_recorded else self.store.newest(customer.id)
        latest = tuple(itertools.islice(self.store.newest_first(customer.id, newest.sequence + 1), recent)) \
            if recent and newest is not None else ()
        known = {entry.sequence: entry for entry in (*latest, *([newest] if newest else []))}

        def holder(slot: rules.Slot | None) -> Interaction | None:
            if slot is None:
                return None
            return known.get(slot.sequence) or self.store.entry(customer.id, slot.sequence)

        return InteractionSummary(customer.id, last_quote=holder(state.last_quote),
                                  last_commitment=holder(state.last_commitment),
                                  last_follow_up=holder(state.last_follow_up), last_contact_at=state.last_contact_at,
                                  recent=latest)

    # --- privacy (called by the customer service, which checked the caller) ---

    def export(self, customer_id: str) -> list[dict]:
        """The customer's whole log, oldest first, JSON-ready."""
        return [rules.export_json(entry) for entry in self.store.oldest_first(customer_id)]

    def erase(self, customer_id: str) -> None:
        """Delete the customer's log for good (entries, buckets, head, request
        keys), rather than blanking its text: nothing of it is kept for
        statistics, so nothing needs to survive. Repeatable."""
        self.store.erase(customer_id)


def request_key(subject: str, request_id: str) -> str:
    """The stored key of a caller's request id. Scoped by caller (as the
    gateway's Idempotency-Key is): two callers choosing the same id never see
    each other's entries."""
    return "r:" + hashlib.sha256(f"{subject}\x00{request_id}".encode()).hexdigest()[:32]


def _request_conflict(customer_id: str, message: str) -> FailedPrecondition:
    return FailedPrecondition(
        [PreconditionViolation("REQUEST_ID", f"customers/{customer_id}/interactions", message)], message)
