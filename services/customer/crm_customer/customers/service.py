"""Customer use cases: the domain rules applied to the store, per caller.

Transport-free: the gRPC servicer translates messages and calls these.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from prometheus_client import Counter

from crm_kit.clock import now_ms
from crm_kit import paging
from crm_kit.ids import matches, not_found
from crm_kit.auth import Principal
from crm_kit.errors import Aborted, AlreadyExists, DomainError, FailedPrecondition, FieldViolation, InvalidArgument, \
    NotFound, PermissionDenied, PreconditionViolation, ResourceExhausted

from crm_customer.customers.model import record, editing, access, listing, ownership
from crm_kit.validation import clean_text
from crm_customer.customers.model.record import Customer, CustomerDraft
from crm_customer.customers.model.listing import ListFilters
from crm_kit.persistence.keys import Holding, KeyHolder
from crm_kit.persistence.revisions import Contended, write_with_retries

from crm_customer.customers import events as customer_events
from crm_customer.customers.store import Change, CustomerStore, new_customer_id

log = logging.getLogger("crm.customer")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
STREAM_PAGE_SIZE = 100  # customers per message of StreamCustomers: at most about 4 MB (a record is under 40 kB)
# StreamCustomers calls open at once per process: each holds a server worker for as long as its caller reads,
# so a caller that stops reading can tie up only these, never the workers every other call needs.
MAX_OPEN_STREAMS = 2
MAX_BATCH = 1000
MAX_REASON = 500
SYSTEM = "system"

POOL_RELEASED = Counter("crm_customer_pool_released_total",
                        "Customers returned to the public pool because their protection period ran out.")
OWNERSHIP_CHANGES = Counter("crm_customer_ownership_changes_total", "Ownership changes, by action.", ["action"])


@dataclass(frozen=True)
class PrivacyPart:
    """Data about a customer held elsewhere in this service (interactions,
    visits): included in an export and removed by an erase."""

    name: str
    export: Callable[[str], object]
    erase: Callable[[str], None]


# Customers already read within one read-only use case (see CustomerService.one_read_each).
_read: contextvars.ContextVar[dict | None] = contextvars.ContextVar("customers_read", default=None)


class CustomerService:
    def __init__(self, store: CustomerStore, default_region: str = "CN", protection_days: int = 30):
        self.store = store
        self.default_region = default_region
        self.protection_days = protection_days
        self.privacy_parts: list[PrivacyPart] = []
        # Called with the customer after each change of owner (its visits follow it).
        self.owner_followers: list[Callable[[Customer], None]] = []
        self._open_streams = threading.BoundedSemaphore(MAX_OPEN_STREAMS)

    # --- create ---------------------------------------------------------

    def create(self, principal: Principal, draft: CustomerDraft) -> Customer:
        access.require_create_right(principal)
        customer = self.new_customer(principal, draft)
        self.check_referrer(customer)
        for _attempt in range(3):
            holder = self.store.reserve_keys(customer.keys, customer.id, customer.owner_id)
            if holder is None:
                # Book entry and referral link first: a crash then leaves a stale link, never a lost one.
                self.store.add_to_books(_arrivals(customer, created=True))
                self._link_referral(customer)
                self.store.insert(customer, principal.subject, customer_events.created(customer))
                return customer
            if not self._reclaim_if_stale(holder):
                raise self._duplicate(principal, holder)
        raise self._duplicate(principal, holder)

    def batch_create(self, principal: Principal, drafts: list[CustomerDraft]) -> list[Customer | DomainError]:
        """Create many customers in a few bulk writes; each item succeeds or
        fails on its own (a duplicate fails that item only)."""
        access.require_create_right(principal)
        if len(drafts) > MAX_BATCH:
            raise InvalidArgument(FieldViolation("requests", f"at most {MAX_BATCH} per batch"))
        results: list[Customer | DomainError] = []
        wanted: dict[str, tuple[tuple[str, ...], str]] = {}
        seen_keys: set[str] = set()
        for draft in drafts:
            try:
                customer = self.new_customer(principal, draft)
                self.check_referrer(customer)
            except DomainError as err:
                results.append(err)
                continue
            if seen_keys.intersection(customer.keys):  # duplicate inside the batch itself
                results.append(AlreadyExists("customer", customer.keys[0], "yours",
                                             "the same phone, e-mail or company appears twice in this batch"))
                continue
            seen_keys.update(customer.keys)
            wanted[customer.id] = (customer.keys, customer.owner_id)
            results.append(customer)
        granted = self.store.reserve_keys_bulk(wanted)
        inserted = [r for r in results if isinstance(r, Customer) and r.id in granted]
        self.store.add_to_books([entry for c in inserted for entry in _arrivals(c, created=True)])
        for customer in inserted:
            self._link_referral(customer)
        self.store.insert_many(inserted, principal.subject, [customer_events.created(c) for c in inserted])
        for i, item in enumerate(results):
            if isinstance(item, Customer) and item.id not in granted:
                try:
                    results[i] = self.create(principal, CustomerDraft(item.profile, item.owner_id))
                except DomainError as err:  # resolves staleness, names the holder
                    results[i] = err
        return results

    def new_customer(self, principal: Principal, draft: CustomerDraft) -> Customer:
        now = now_ms()
        owner = access.owner_for_new_customer(principal, draft.owner_id)
        profile = editing.stamp_consent(record.Profile(), draft.profile, now)
        return Customer(id=new_customer_id(), profile=profile, owner_id=owner, team_id=principal.team,
                        created_at=now, updated_at=now, version=1, owned_since=now)

    def check_referrer(self, customer: Customer) -> None:
        referrer = customer.profile.referred_by
        if referrer and (referrer == customer.id or self.live(referrer) is None):
            raise InvalidArgument(FieldViolation("referred_by", "no such customer"))

    def _link_referral(self, customer: Customer) -> None:
        if customer.profile.referred_by:
            self.store.add_referral(customer.profile.referred_by, customer.id)

    def _reclaim_if_stale(self, holder: KeyHolder) -> bool:
        """True when the key was left behind and is now free: its customer was
        never written (a crashed create), or was written after the key was
        made without listing it (a changed phone, an erase)."""
        return self.store.keys.take_over_if_stale(holder, self._holding)

    def _holding(self, holder: KeyHolder) -> Holding:
        customer = self.store.get(holder.holder_id) if holder.holder_id else None
        if customer is not None and customer.erased_at is None and holder.key in customer.keys:
            return Holding.HOLDS  # a real, live duplicate
        if customer is not None and customer.updated_at > holder.created_at:
            return Holding.SUPERSEDED
        return Holding.UNKNOWN  # not written yet, or not since: a write may be in flight

    def _duplicate(self, principal: Principal, holder: KeyHolder) -> AlreadyExists:
        current = self.store.get(holder.holder_id) if holder.holder_id else None
        owner = current.owner_id if current else holder.fields.get("owner_id", "")
        relation, message = access.duplicate_relation(principal, owner, holder.key)
        return AlreadyExists("customer", holder.key, relation, message)

    # --- read -----------------------------------------------------------

    def get(self, principal: Principal, customer_id: str) -> Customer:
        """The customer as the caller may see it (NotFound when not at all)."""
        customer, view = self._readable(principal, customer_id)
        return access.visible(customer, view)

    def view_of(self, principal: Principal, customer: Customer) -> str:
        return access.view_for(principal, customer) or access.POOL

    def readable(self, principal: Principal, customer_id: str) -> tuple[Customer, str]:
        """The whole customer and the view the caller has of it (NotFound when
        none), for what hangs off a customer and follows its rights."""
        return self._readable(principal, customer_id)

    def _readable(self, principal: Principal, customer_id: str) -> tuple[Customer, str]:
        access.require_read_right(principal)
        customer = self.live(customer_id)
        view = access.view_for(principal, customer) if customer else None
        if customer is None or view is None:
            raise _not_found(customer_id)  # never "exists but not yours"
        return customer, view

    def _writable(self, principal: Principal, customer_id: str) -> Customer:
        customer, _view = self._readable(principal, customer_id)
        if not access.can_write(principal, customer):
            if customer.in_pool and principal.role == "rep":
                raise FailedPrecondition([PreconditionViolation("OWNERSHIP", f"customers/{customer_id}",
                                                                "the customer is in the public pool")],
                                         "claim the customer from the pool before changing it")
            raise _not_found(customer_id)
        return customer

    def _require_live(self, customer_id: str) -> Customer:
        customer = self.live(customer_id)
        if customer is None:
            raise _not_found(customer_id)
        return customer

    def live(self, customer_id: str) -> Customer | None:
        if not _plausible_id(customer_id):
            return None
        read = _read.get()
        key = (id(self), customer_id)  # another service's block in the same process is not this one's
        if read is not None and key in read:
            return read[key]
        customer = self.store.get(customer_id)
        found = customer if customer is not None and customer.erased_at is None else None
        if read is not None:
            read[key] = found
        return found

    @contextlib.contextmanager
    def one_read_each(self):
        """Within the block each customer is read from the store once: a
        read-only use case that composes the customer's own reads with those
        of what hangs off it (the overview: the profile, interactions and
        visits each check the caller's rights on it) pays for one read. Never
        around a change: the block would keep the state from before it."""
        reset = _read.set({})
        try:
            yield
        finally:
            _read.reset(reset)

    def lookup(self, principal: Principal, *, phone: str = "", email: str = "") -> Customer:
        access.require_read_right(principal)
        if bool(phone) == bool(email):
            raise InvalidArgument(FieldViolation("phone", "give exactly one of phone or email"))
        key = record.phone_key(editing.normalize_phone(phone, self.default_region, "phone")) if phone \
            else record.email_key(editing.normalize_email(email, "email"))
        holder = self.store.key_holder(key)
        customer = self.live(holder.holder_id) if holder else None
        view = access.view_for(principal, customer) if customer and key in customer.keys else None
        if view is None:
            raise NotFound("customer")
        return access.visible(customer, view)

    def list(self, principal: Principal, filters: ListFilters, page_size: int, page_token: str
             ) -> tuple[list[Customer], str]:
        access.require_read_right(principal)
        size = paging.page_size(page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        filters = listing.clean_list_filters(filters)
        scope = listing.list_scope(principal, filters.owner_id, filters.pool)
        query = {"list": paging.fingerprint(*asdict(scope).values(), *asdict(filters).values())}
        position = paging.decode(page_token, query)
        if filters.order_by == "id":
            page, next_position = self._list_from_book(listing.book_for_list(scope), scope, filters, size, position)
        else:
            after = (position.get("v"), position.get("id")) if position else None
            if after is not None and not (isinstance(after[0], str) and _plausible_id(after[1])):
                raise InvalidArgument(FieldViolation("page_token", "is not a valid page token"))
            page = self.store.list_page(scope, filters, after, size + 1)
            next_position = None
            if len(page) > size:
                page = page[:size]
                last = page[-1]
                next_position = {"v": record.sort_name(last.profile.display_name) if filters.order_by == "name"
                                 else last.id, "id": last.id}
        token = paging.encode(next_position, query) if next_position else ""
        return [access.visible(c, access.view_for(principal, c) or access.POOL) for c in page], token

    def stream_all(self, principal: Principal, page_size: int) -> Iterator[list[tuple[Customer, str]]]:
        """Every live customer in pages, as (customer, view) with the fields
        outside the view emptied, read in one pass over the store (no
        per-customer round trips): for jobs that visit everybody. Only those
        who see every customer in full may ask (admins, read integrations);
        the rights are checked here, before the first page is read."""
        access.require_read_right(principal)
        if principal.role not in ("admin", "integration"):
            raise PermissionDenied("only admins and integrations read every customer in one pass")
        size = paging.page_size(page_size, STREAM_PAGE_SIZE, STREAM_PAGE_SIZE)
        return self._pages_of_everyone(principal, size)

    def _pages_of_everyone(self, principal: Principal, size: int) -> Iterator[list[tuple[Customer, str]]]:
        """Takes one of the open streams' places as it starts (ResourceExhausted
        when none is free) and gives it back when the call ends: read to the
        end, cancelled or broken off, the generator is closed either way."""
        if not self._open_streams.acquire(blocking=False):
            raise ResourceExhausted(f"{MAX_OPEN_STREAMS} streams of every customer are open already; try later")
        try:
            page: list[tuple[Customer, str]] = []
            for customer in self.store.live_in_storage_order():
                view = access.view_for(principal, customer)
                if view is None:
                    continue
                page.append((access.visible(customer, view), view))
                if len(page) == size:
                    yield page
                    page = []
            if page:
                yield page
        finally:
            self._open_streams.release()

    def _list_from_book(self, book: listing.Book, scope: listing.ListScope, filters: ListFilters, size: int,
                        position: dict | None) -> tuple[list[Customer], dict | None]:
        """A page of a book's customers in the order they came there (for
        "all": were created), oldest first, read by `_id` (no scan); a rare
        filter may return a short page with a token to go on (the walk is bounded)."""
        def standing_match(customer_id: str, since: datetime) -> Customer | None:
            customer = self._in_book(book, customer_id, since)
            return customer if customer is not None and listing.list_matches(customer, scope, filters) else None

        page, next_n = self.store.books.page(book.key, standing_match, size, paging.book_start(position))
        return page, ({"n": next_n} if next_n is not None else None)

    def _in_book(self, book: listing.Book, customer_id: str, since: datetime) -> Customer | None:
        """The customer of a book entry, if the entry still stands."""
        customer = self.live(customer_id)
        return customer if customer is not None and listing.still_in_book(book, customer, since) else None

    def backfill_books(self) -> int:
        """Give customers stored before books existed their book entries (once, at start-up)."""
        if self.store.books_started() or not self.store.claim_backfill():
            return 0  # books exist, or another replica is filling them
        customers = list(self.store.all_live())
        self.store.add_to_books([entry for c in customers for entry in _arrivals(c, created=True)])
        return len(customers)

    # --- update ---------------------------------------------------------

    def update(self, principal: Principal, customer_id: str, changes: dict, paths: list[str],
               expected_etag: str) -> Customer:
        """Change profile fields of a customer as read with `expected_etag`.
        The etag is required (optimistic concurrency for every caller: the
        gateway answers 428 without If-Match, gRPC callers get INVALID_ARGUMENT);
        internal callers pass the etag of the state they read."""
        if not isinstance(expected_etag, str) or not expected_etag:
            raise InvalidArgument(FieldViolation("etag", "is required: send the etag of the customer as you read it"))

        def mutate(current: Customer) -> Planned:
            if expected_etag != current.etag:
                raise _stale(customer_id)
            profile = editing.apply_update(current.profile, changes, paths, self.default_region)
            updated = replace(current, profile=editing.stamp_consent(current.profile, profile, now_ms()))
            if updated.profile.referred_by != current.profile.referred_by:
                self.check_referrer(updated)
                self._link_referral(updated)  # before the write; a link that does not stand is filtered out
            return updated, None

        return self._change(principal, lambda: self._writable(principal, customer_id), mutate)

    def _change(self, principal: Principal | None, load: Callable[[], Customer],
                mutate: Callable[[Customer], Planned]) -> Customer:
        """Read, change, write (crm_kit.persistence.revisions). When another
        writer claimed the next revision first (an interaction moving the
        last-contact time, say), read again and redo: `mutate` checks its
        preconditions (the ETag among them) against the fresh state, and
        returns None when nothing is to change."""
        def change(current: Customer) -> Customer:
            planned = mutate(current)
            if planned is None:
                return current
            stored = self._commit(principal, current, *planned)
            if stored is None:
                raise Contended()
            return stored

        return write_with_retries("customer", "", load, change)

    def _commit(self, principal: Principal | None, current: Customer, updated: Customer,
                change: Change | None = None) -> Customer | None:
        """Write the next revision of `current`: new keys reserved first, the
        revision claimed (one writer wins), then the customer written by `_id`.
        A change users can see (anything but the last-contact time) also
        moves `version`, the ETag. None when another writer won the revision."""
        visible = replace(updated, last_contact_at=current.last_contact_at, value_grade=current.value_grade,
                          value_grade_year=current.value_grade_year,
                          value_grade_run=current.value_grade_run) != current
        updated = replace(updated, revision=current.revision + 1)
        if visible:
            updated = replace(updated, version=current.version + 1, updated_at=now_ms())
        subject = principal.subject if principal else SYSTEM
        for key in (k for k in updated.keys if k not in current.keys):
            holder = self.store.reserve_keys((key,), current.id, updated.owner_id)
            if holder is None or holder.customer_id == current.id:
                continue  # ours now, or reserved by a concurrent write of this very customer
            if not self._reclaim_if_stale(holder) or \
                    self.store.reserve_keys((key,), current.id, updated.owner_id) is not None:
                raise self._duplicate(principal or Principal(SYSTEM, "admin"), holder)
        if updated.owned_since != current.owned_since and updated.erased_at is None:
            self.store.add_to_books(_arrivals(updated))
        action = change.action if change else "update"
        if current.erased_at is not None:
            events = []  # the erasure's own last step: customer.erased went out when it was marked
        elif updated.erased_at is not None:
            events = customer_events.erased(updated.id)
        else:
            events = customer_events.changed(current, updated, action, subject)
        if not self.store.commit(updated, subject, change, events):
            # New keys stay: a concurrent winner may list them too. Those it does
            # not list are superseded by its write, and free for the next taker.
            return None
        if updated.owner_id != current.owner_id:
            self.store.set_key_owner(updated.keys, updated.owner_id)
            OWNERSHIP_CHANGES.labels(change.action if change else "update").inc()
            for follow in self.owner_followers:
                try:
                    follow(updated)
                except Exception:  # the customer moved; what follows it must not fail the move
                    log.exception("owner follower failed", extra={"fields": {"customer_id": updated.id}})
        # Keys of removed values are not deleted here: a conditional delete is
        # a scan on FerretDB/SQLite, and a key whose customer no longer holds
        # it is ignored by lookups and taken over by the next create (_reclaim_if_stale).
        return updated

    def touch_last_contact(self, customer_id: str, when: datetime) -> None:
        """Move the last-contact time forward (an interaction was recorded; the
        caller has checked access). A write like any other, so it cannot undo
        a concurrent update; it leaves the ETag alone."""
        def mutate(current: Customer) -> Planned:
            if current.last_contact_at is not None and current.last_contact_at >= when:
                return None
            return replace(current, last_contact_at=when), None

        self._change(None, lambda: self._require_live(customer_id), mutate)

    def set_value_grade(self, customer_id: str, grade: str, graded_year: int, run_id: str) -> bool:
        """Keep the value grade sales gave (customer.value_grade_changed), as
        the system. Idempotent and order-proof: a run already applied, or an
        older one (by graded year, then run id) arriving late, changes
        nothing. Like a last-contact touch it leaves the ETag alone (a user
        editing the profile is not refused for it). False when nothing
        changed (erased or unknown customers included)."""
        applied = []

        def mutate(current: Customer) -> Planned:
            if (graded_year, run_id) <= (current.value_grade_year, current.value_grade_run):
                return None
            applied.append(True)
            return replace(current, value_grade=grade, value_grade_year=graded_year, value_grade_run=run_id), None

        try:
            self._change(None, lambda: self._require_live(customer_id), mutate)
        except NotFound:
            return False  # unknown or erased: nothing to show the grade on
        return bool(applied)

    # --- ownership and the public pool --------------------------------------

    @staticmethod
    def _owner_change(principal: Principal | None, current: Customer, action: str, to_owner: str, to_team: str,
                      reason: str) -> Planned:
        now = now_ms()
        updated = replace(current, owner_id=to_owner, team_id=to_team, owned_since=now)
        return updated, Change(action, current.owner_id, to_owner, principal.subject if principal else SYSTEM, now,
                               reason)

    def claim(self, principal: Principal, customer_id: str) -> Customer:
        if principal.role not in ("rep", "manager"):
            raise PermissionDenied("only reps and managers claim customers from the pool")

        def mutate(current: Customer) -> Planned:
            if current.owner_id == principal.subject:
                return None  # claiming twice changes nothing
            if not current.in_pool:
                raise FailedPrecondition([PreconditionViolation("OWNERSHIP", f"customers/{customer_id}",
                                                                "the customer is not in the public pool")],
                                         "only customers in the public pool can be claimed")
            return self._owner_change(principal, current, "claim", principal.subject, principal.team, "")

        return self._change(principal, lambda: self._readable(principal, customer_id)[0], mutate)

    def release(self, principal: Principal, customer_id: str, reason: str) -> Customer:
        reason = clean_text(reason, "reason", MAX_REASON)

        def mutate(current: Customer) -> Planned:
            if current.in_pool:
                return None
            return self._owner_change(principal, current, "release", "", current.team_id, reason)

        return self._change(principal, lambda: self._writable(principal, customer_id), mutate)

    def transfer(self, principal: Principal, customer_id: str, to_owner: str, to_team: str, reason: str) -> Customer:
        access.require_manager(principal, "transfer customers")
        to_owner = clean_text(to_owner, "to_owner_id", editing.MAX_OWNER_ID, required=True)
        team = self._team_for(principal, to_team)
        reason = clean_text(reason, "reason", MAX_REASON)

        def mutate(current: Customer) -> Planned:
            if current.owner_id == to_owner:
                return None
            return self._owner_change(principal, current, "transfer", to_owner, team, reason)

        return self._change(principal, lambda: self._writable(principal, customer_id), mutate)

    def hand_over(self, principal: Principal, from_owner: str, to_owners: list[str], to_team: str,
                  reason: str) -> tuple[int, list[str]]:
        """Move every customer of `from_owner` to `to_owners` in turn. Customers
        that changed hands meanwhile (or lie outside the caller's team) are skipped and named."""
        access.require_manager(principal, "hand customers over")
        from_owner = clean_text(from_owner, "from_owner_id", editing.MAX_OWNER_ID, required=True)
        receivers = [clean_text(r, f"to_owner_ids[{i}]", editing.MAX_OWNER_ID, required=True)
                     for i, r in enumerate(to_owners)]
        if from_owner in receivers:
            raise InvalidArgument(FieldViolation("to_owner_ids", "must not include the rep handing over"))
        team = self._team_for(principal, to_team)
        reason = clean_text(reason, "reason", MAX_REASON)
        # Only customers the caller may change are planned (and named when skipped).
        book = listing.Book("owner", from_owner)
        mine = [c.id for _n, c in self.store.books.walk(book.key, lambda cid, since: self._in_book(book, cid, since))
                if c is not None and access.can_write(principal, c)]
        plan = ownership.assign_round_robin(mine, receivers)
        moved, skipped = 0, []
        for customer_id, receiver in plan.items():
            def mutate(current: Customer, receiver: str = receiver) -> Planned:
                if current.owner_id != from_owner or not access.can_write(principal, current):
                    raise NotFound("customer", current.id)
                return self._owner_change(principal, current, "hand_over", receiver, team, reason)

            try:
                self._change(principal, lambda cid=customer_id: self._require_live(cid), mutate)
                moved += 1
            except (NotFound, FailedPrecondition, Aborted):
                skipped.append(customer_id)
        return moved, skipped

    @staticmethod
    def _team_for(principal: Principal, to_team: str) -> str:
        return clean_text(to_team, "to_team_id", editing.MAX_OWNER_ID) or principal.team

    def release_inactive(self, principal: Principal | None, now: datetime | None = None) -> int:
        """Return owned customers nobody contacted for the protection period to
        the pool. Idempotent: a released customer is no longer a candidate, and
        each release re-checks the rule on the state it claims a revision of."""
        if principal is not None and principal.role != "admin":
            raise PermissionDenied("only admins (and the scheduler) run the pool release")
        now = now or now_ms()
        cutoff = now - timedelta(days=self.protection_days)
        reason = f"no interaction for {self.protection_days} days"
        released = 0
        for candidate in self.store.owned_not_contacted_since(cutoff):
            def mutate(current: Customer) -> Planned:
                if not ownership.protection_expired(current, now, self.protection_days):
                    return None  # contacted, claimed or released meanwhile
                return self._owner_change(None, current, "protection_expired", "", current.team_id, reason)

            try:
                after = self._change(None, lambda cid=candidate.id: self.store.get(cid), mutate)
            except Aborted:
                continue  # too much contention now: the next run retries
            if after.revision > candidate.revision and after.in_pool:
                released += 1
                POOL_RELEASED.inc()
        return released

    def ownership_changes(self, principal: Principal, customer_id: str) -> list[Change]:
        customer, view = self._readable(principal, customer_id)
        if view != access.FULL:
            raise _not_found(customer_id)
        return self.store.ownership_changes(customer.id, customer.revision)

    def referrals(self, principal: Principal, customer_id: str) -> tuple[str, list[str]]:
        """Who referred the customer, and whom the customer referred (a link
        whose customer now names another referrer, or was erased, is left out)."""
        customer, view = self._readable(principal, customer_id)
        if view != access.FULL:
            raise _not_found(customer_id)
        referred = [cid for cid in self.store.referred_by(customer.id)
                    if (other := self.live(cid)) is not None and other.profile.referred_by == customer.id
                    and access.view_for(principal, other) is not None]
        return customer.profile.referred_by, referred

    # --- privacy --------------------------------------------------------

    def export_data(self, principal: Principal, customer_id: str) -> dict:
        """Everything this service holds about a customer, JSON-ready."""
        _require_admin(principal, "export a customer's data")
        customer = self.store.get(customer_id) if _plausible_id(customer_id) else None
        if customer is None:
            raise _not_found(customer_id)
        return _jsonable({
            "customer": {"id": customer.id, **asdict(customer.profile), "owner_id": customer.owner_id,
                         "team_id": customer.team_id, "owned_since": customer.owned_since,
                         "created_at": customer.created_at, "updated_at": customer.updated_at,
                         "last_contact_at": customer.last_contact_at, "erased_at": customer.erased_at},
            "ownership_changes": [asdict(c) for c in self.store.ownership_changes(customer.id, customer.revision)],
            "referrals": {"referred_by": customer.profile.referred_by,
                          "referred": self.store.referred_by(customer.id)},
            **{part.name: part.export(customer.id) for part in self.privacy_parts},
        })

    def erase(self, principal: Principal, customer_id: str, reason: str) -> Customer:
        """Remove personal data for good, keep the id. In three steps, each
        repeatable, so a crash part-way is finished by calling erase again:
        1. mark the customer erased (from then on no reader sees it and every
           writer of what hangs off it undoes its own write: a visit scheduled
           or an interaction recorded during the erasure cannot outlive it);
        2. erase what hangs off it (interactions, visits), free its keys and
           strip its history (states, and the reasons given for earlier changes);
        3. strip the record itself."""
        _require_admin(principal, "erase customers")
        reason = clean_text(reason, "reason", MAX_REASON)

        def load() -> Customer:  # erased ones too: erasing again must answer, not 404
            customer = self.store.get(customer_id) if _plausible_id(customer_id) else None
            if customer is None:
                raise _not_found(customer_id)
            return customer

        def mark(current: Customer) -> Planned:
            if current.erased_at is not None:
                return None  # marked already: a crash after step 1 is finished below
            now = now_ms()
            return replace(current, owner_id="", erased_at=now), \
                Change("erase", current.owner_id, "", principal.subject, now, reason)

        marked = self._change(principal, load, mark)
        for part in self.privacy_parts:
            part.erase(marked.id)
        self.store.release_keys(marked.keys, marked.id)
        self.store.erase_history(marked.id, marked.revision)

        def strip(current: Customer) -> Planned:
            erased = ownership.erased_profile(current.profile.kind)
            return None if current.profile == erased else (replace(current, profile=erased), None)

        return self._change(principal, load, strip)


def _arrivals(c: Customer, created: bool = False) -> list[tuple[str, str, datetime]]:
    """Book entries for a customer that came to its owner (and team); a new one is also in "all"."""
    since = c.owned_since or c.created_at
    entries = [(book.key, c.id, since) for book in listing.books_on_arrival(c)]
    return entries + [(listing.Book("all").key, c.id, c.created_at)] if created else entries


# What a mutation plans: the new state and, for ownership changes, the audit record.
Planned = tuple[Customer, Change | None] | None


def _require_admin(principal: Principal, action: str) -> None:
    if principal.role != "admin":
        raise PermissionDenied(f"only admins may {action}")


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value




def _stale(customer_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        [PreconditionViolation("ETAG", f"customers/{customer_id}", "the customer changed since you read it")],
        "the customer was changed by someone else; read it again and retry")


def _not_found(customer_id: str) -> NotFound:
    return not_found("customer", customer_id, record.CUSTOMER_ID)


def _plausible_id(customer_id: str) -> bool:
    return matches(record.CUSTOMER_ID, customer_id)
