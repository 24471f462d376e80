"""Customer use cases: the domain rules applied to the store, per caller.

Transport-free: the gRPC servicer translates messages and calls these.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from crm_kit.auth import Principal
from crm_kit.errors import AlreadyExists, DomainError, FailedPrecondition, FieldViolation, InvalidArgument, \
    NotFound, PreconditionViolation

from crm_customer import domain
from crm_customer.domain import Customer, CustomerDraft
from crm_customer.store import CustomerStore, KeyHolder, new_customer_id

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_BATCH = 1000
# A key whose customer is still missing (or a version claim whose write never
# landed) after this long was left by a writer that crashed; it may be taken over.
ABANDONED_AFTER = timedelta(seconds=30)
# A key seen without its customer younger than that: a concurrent create is
# mid-flight. Wait this long for it to finish before answering.
PENDING_WAIT_SECONDS = 0.5


class CustomerService:
    def __init__(self, store: CustomerStore, default_region: str = "CN"):
        self.store = store
        self.default_region = default_region

    # --- create ---------------------------------------------------------

    def create(self, principal: Principal, draft: CustomerDraft) -> Customer:
        domain.require_create_right(principal)
        customer = self._new_customer(principal, draft)
        for _attempt in range(3):
            holder = self.store.reserve_keys(customer.keys, customer.id, customer.owner_id)
            if holder is None:
                self.store.insert(customer)
                return customer
            if not self._reclaim_if_stale(holder):
                raise self._duplicate(principal, holder)
        raise self._duplicate(principal, holder)

    def batch_create(self, principal: Principal, drafts: list[CustomerDraft]) -> list[Customer | DomainError]:
        """Create many customers in a few bulk writes; each item succeeds or
        fails on its own (a duplicate fails that item only)."""
        domain.require_create_right(principal)
        if len(drafts) > MAX_BATCH:
            raise InvalidArgument(FieldViolation("requests", f"at most {MAX_BATCH} per batch"))
        results: list[Customer | DomainError] = []
        wanted: dict[str, tuple[tuple[str, ...], str]] = {}
        seen_keys: set[str] = set()
        for draft in drafts:
            try:
                customer = self._new_customer(principal, draft)
            except DomainError as err:
                results.append(err)
                continue
            if seen_keys.intersection(customer.keys):  # duplicate inside the batch itself
                results.append(AlreadyExists("customer", customer.keys[0], "yours",
                                             "the same phone appears twice in this batch"))
                continue
            seen_keys.update(customer.keys)
            wanted[customer.id] = (customer.keys, customer.owner_id)
            results.append(customer)
        granted = self.store.reserve_keys_bulk(wanted)
        self.store.insert_many([r for r in results if isinstance(r, Customer) and r.id in granted])
        for i, item in enumerate(results):
            if isinstance(item, Customer) and item.id not in granted:
                try:
                    results[i] = self.create(principal, _draft_of(item))  # resolves staleness, names the holder
                except DomainError as err:
                    results[i] = err
        return results

    def _new_customer(self, principal: Principal, draft: CustomerDraft) -> Customer:
        now = _now()
        return Customer(
            id=new_customer_id(), display_name=draft.display_name, kind=draft.kind, phones=draft.phones,
            email=draft.email, region=draft.region, owner_id=domain.owner_for_new_customer(principal, draft.owner_id),
            team_id=principal.team, created_at=now, updated_at=now, version=1,
        )

    def _reclaim_if_stale(self, holder: KeyHolder) -> bool:
        """True when the key was left by a crashed or superseded write and is now free."""
        deadline = time.monotonic() + PENDING_WAIT_SECONDS
        while True:
            customer = self.store.get(holder.customer_id) if holder.customer_id else None
            if customer is not None:
                phone = holder.key.removeprefix("phone:")
                if phone in customer.phones:
                    return False  # a real, live duplicate
                return self.store.drop_stale_key(holder)  # left over from a phone change
            if datetime.now(timezone.utc) - holder.created_at > ABANDONED_AFTER:
                return self.store.drop_stale_key(holder)
            if time.monotonic() > deadline:
                return False  # a concurrent create holds it
            time.sleep(0.02)

    def _duplicate(self, principal: Principal, holder: KeyHolder) -> AlreadyExists:
        current = self.store.get(holder.customer_id) if holder.customer_id else None
        owner = current.owner_id if current else holder.owner_id
        relation, message = domain.duplicate_relation(principal, owner)
        return AlreadyExists("customer", holder.key, relation, message)

    # --- read -----------------------------------------------------------

    def get(self, principal: Principal, customer_id: str) -> Customer:
        domain.require_read_right(principal)
        customer = self.store.get(customer_id) if _plausible_id(customer_id) else None
        if customer is None or not domain.can_read(principal, customer):
            raise NotFound("customer", customer_id)  # never "exists but not yours"
        return customer

    def lookup_by_phone(self, principal: Principal, raw_phone: str) -> Customer:
        domain.require_read_right(principal)
        phone = domain.normalize_phone(raw_phone, self.default_region, "phone")
        holder = self.store.key_holder(domain.phone_key(phone))
        customer = self.store.get(holder.customer_id) if holder else None
        if customer is None or phone not in customer.phones or not domain.can_read(principal, customer):
            raise NotFound("customer")
        return customer

    def list(self, principal: Principal, *, owner_id: str, page_size: int, page_token: str) -> tuple[list[Customer], str]:
        domain.require_read_right(principal)
        if page_size < 0 or page_size > MAX_PAGE_SIZE:
            raise InvalidArgument(FieldViolation("page_size", f"must be between 1 and {MAX_PAGE_SIZE}"))
        size = page_size or DEFAULT_PAGE_SIZE
        owner = domain.list_owner_filter(principal, domain.validate_owner_id(owner_id))
        after = _decode_page_token(page_token, owner)
        page = self.store.list_page(owner, after, size + 1)
        more = len(page) > size
        page = page[:size]
        return page, (_encode_page_token(page[-1].id, owner) if more else "")

    # --- update ---------------------------------------------------------

    def update(self, principal: Principal, customer_id: str, changes: dict, paths: list[str],
               expected_etag: str) -> Customer:
        current = self.get(principal, customer_id)
        if not domain.can_write(principal, current):
            raise NotFound("customer", customer_id)
        if expected_etag and expected_etag != current.etag:
            raise _stale(customer_id)
        updated = domain.apply_update(current, changes, paths, self.default_region)
        updated = replace(updated, updated_at=_now(), version=current.version + 1)
        added = tuple(k for k in updated.keys if k not in current.keys)
        if added:
            holder = self.store.reserve_keys(added, current.id, current.owner_id)
            if holder is not None:
                if not self._reclaim_if_stale(holder) or \
                        self.store.reserve_keys(added, current.id, current.owner_id) is not None:
                    raise self._duplicate(principal, holder)
        if not self.store.claim_version(updated, principal.subject):
            self.store.release_keys(added, current.id)
            self._finish_abandoned_write(current)
            raise _stale(customer_id)
        self.store.write(updated)
        # Keys of removed phones are not deleted here: a conditional delete is
        # a scan on FerretDB/SQLite, and a key whose customer no longer lists
        # the phone is already ignored by lookups and taken over by the next
        # create of that phone (_reclaim_if_stale).
        return updated

    def touch_last_contact(self, customer_id: str, when: datetime) -> None:
        """Called when an interaction is recorded (the caller has checked access)."""
        self.store.touch_last_contact(customer_id, when)

    def _finish_abandoned_write(self, current: Customer) -> None:
        """A claimed version whose write never landed (its writer crashed)
        would block the customer forever: apply it once it is clearly stale."""
        claim = self.store.version_claim(current.id, current.version + 1)
        if claim is None:
            return
        claimed_state, claimed_at = claim
        if datetime.now(timezone.utc) - claimed_at > ABANDONED_AFTER:
            latest = self.store.get(current.id)
            if latest is not None and latest.version == current.version:
                self.store.write(claimed_state)


def _now() -> datetime:
    # BSON dates hold milliseconds: round here so what we return equals what we store.
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _draft_of(c: Customer) -> CustomerDraft:
    return CustomerDraft(c.display_name, c.kind, c.phones, c.email, c.region, c.owner_id)


def _stale(customer_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        [PreconditionViolation("ETAG", f"customers/{customer_id}", "the customer changed since you read it")],
        "the customer was changed by someone else; read it again and retry")


def _plausible_id(customer_id: str) -> bool:
    return isinstance(customer_id, str) and customer_id.startswith("cus_") and len(customer_id) == 28 \
        and all(ch in "0123456789abcdef" for ch in customer_id[4:])


def _encode_page_token(last_id: str, owner: str | None) -> str:
    raw = json.dumps({"after": last_id, "owner": owner}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_page_token(token: str, owner: str | None) -> str:
    """The id to continue after; the token must come from the same query."""
    if not token:
        return ""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after = data["after"]
        same_query = data["owner"] == owner
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidArgument(FieldViolation("page_token", "is not a valid page token")) from None
    if not same_query or not _plausible_id(after):
        raise InvalidArgument(FieldViolation("page_token", "does not belong to this query"))
    return after
