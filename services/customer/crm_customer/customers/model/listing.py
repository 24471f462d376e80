"""What a list may contain for whom (its scope), what its filters mean
(`list_matches`: the one definition, which the store's scan query must
agree with; a property test checks it), and the books lists are read
from. Pure Python, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from crm_customer.customers.model.editing import MAX_NAME, MAX_OWNER_ID, MAX_REGION_PART, MAX_TAG
from crm_customer.customers.model.record import STAGES, Customer, sort_name
from crm_kit.auth import Principal
from crm_kit.errors import FieldViolation, InvalidArgument, PermissionDenied
from crm_kit.validation import choice, clean_text, collect


@dataclass(frozen=True)
class ListScope:
    """The part of a list query decided by who asks: owner, team, pool."""

    owner_id: str | None = None
    team_id: str | None = None
    pool_only: bool = False


def list_scope(principal: Principal, requested_owner: str, pool: bool) -> ListScope:
    """What a list may contain: reps see their own customers (or the pool),
    managers their team (or the pool), admins and read integrations everyone."""
    if pool:
        return ListScope(pool_only=True)
    if principal.role == "rep":
        if requested_owner and requested_owner != principal.subject:
            raise PermissionDenied("reps can list only their own customers and the pool")
        return ListScope(owner_id=principal.subject)
    if principal.role == "manager":
        if not principal.team:
            raise PermissionDenied("your token names no team; managers list their team's customers")
        return ListScope(owner_id=requested_owner or None, team_id=principal.team)
    if principal.role in ("admin", "integration"):
        return ListScope(owner_id=requested_owner or None)
    raise PermissionDenied("your role may look customers up, not list them")


@dataclass(frozen=True)
class ListFilters:
    """What a list asks for, besides who asks (see list_scope)."""

    owner_id: str = ""
    pool: bool = False
    province: str = ""
    city: str = ""
    level: str = ""
    stage: str = ""
    tag: str = ""
    name_prefix: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    contact_from: datetime | None = None
    contact_to: datetime | None = None
    order_by: str = "id"


def clean_list_filters(f: ListFilters) -> ListFilters:
    """Validated filters; the name prefix in its sort form (pinyin), so it
    matches `sort_name`. Every problem is reported at once."""
    violations: list[FieldViolation] = []

    def text(value: str, name: str, allowed: tuple[str, ...] | None = None, max_len: int = MAX_REGION_PART) -> str:
        clean = collect(violations, clean_text, value, name, max_len) or ""
        if allowed is not None and clean:
            clean = collect(violations, choice, clean, allowed, name) or ""
        return clean

    cleaned = replace(
        f, owner_id=text(f.owner_id, "owner_id", max_len=MAX_OWNER_ID), province=text(f.province, "province"),
        city=text(f.city, "city"), level=text(f.level, "level"), stage=text(f.stage, "stage", STAGES),
        tag=text(f.tag, "tag", max_len=MAX_TAG), name_prefix=sort_name(text(f.name_prefix, "name_prefix", max_len=MAX_NAME)),
        order_by=text(f.order_by, "order_by", ("id", "name")) or "id")
    for name, start, end in (("create_time", f.created_from, f.created_to),
                             ("last_contact_time", f.contact_from, f.contact_to)):
        if start and end and start >= end:
            violations.append(FieldViolation(name, "start must be before end"))
    if violations:
        raise InvalidArgument(violations)
    return cleaned


def list_matches(c: Customer, scope: ListScope, f: ListFilters) -> bool:
    """Whether a customer belongs in a list: the same rules the store's list
    query expresses, for lists read from an owner's book (store.py)."""
    if c.erased_at is not None:
        return False
    if scope.pool_only:
        if not c.in_pool:
            return False
    elif scope.owner_id is not None and c.owner_id != scope.owner_id:
        return False
    if scope.team_id is not None and not scope.pool_only and not (c.in_pool or c.team_id == scope.team_id):
        return False
    p = c.profile
    for wanted, actual in ((f.province, p.region.province), (f.city, p.region.city), (f.level, p.level),
                           (f.stage, p.stage)):
        if wanted and wanted != actual:
            return False
    if f.tag and f.tag not in p.tags:
        return False
    if f.name_prefix and not sort_name(p.display_name).startswith(f.name_prefix):
        return False
    for moment, start, end in ((c.created_at, f.created_from, f.created_to),
                               (c.last_contact_at, f.contact_from, f.contact_to)):
        if (start or end) and moment is None:
            return False
        if (start and moment < start) or (end and moment >= end):
            return False
    return True


@dataclass(frozen=True)
class Book:
    """A list kept as arrivals (store.py, "books"): one per owner, the pool,
    each team, and every customer ever created ("all")."""

    kind: str  # owner | pool | team | all
    name: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind


def books_on_arrival(c: Customer) -> list[Book]:
    """Where a customer is noted when it comes to an owner (or the pool)."""
    books = [Book("owner", c.owner_id) if c.owner_id else Book("pool")]
    if c.team_id:
        books.append(Book("team", c.team_id))
    return books


def book_for_list(scope: ListScope) -> Book:
    if scope.pool_only:
        return Book("pool")
    if scope.owner_id is not None:
        return Book("owner", scope.owner_id)
    if scope.team_id is not None:
        return Book("team", scope.team_id)
    return Book("all")


def still_in_book(book: Book, c: Customer, since: datetime) -> bool:
    """Whether a book entry (an arrival at `since`) still stands: the customer
    is still there, since that very arrival (a later move away and back adds
    a new entry; this one stops counting)."""
    if book.kind == "all":
        return c.created_at == since
    if (c.owned_since or c.created_at) != since:
        return False
    if book.kind == "team":
        return c.team_id == book.name
    return c.owner_id == (book.name if book.kind == "owner" else "")
