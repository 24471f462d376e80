"""Customer domain rules: pure Python, no I/O, no transport.

What a customer record holds and how each field is validated, which natural
keys make a customer unique (deal-collision protection), who may see and
change a customer and which fields they see, and what a duplicate tells the
caller. The store and the gRPC servicer call these; tests exercise them
directly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from lunardate import LunarDate
from pypinyin import lazy_pinyin

from crm_kit.auth import Principal
from crm_kit.errors import FieldViolation, InvalidArgument, PermissionDenied
from crm_kit.ids import id_pattern

KINDS = ("person", "company")
TYPES = ("prospect", "customer", "partner", "distributor", "other")
STAGES = ("new", "contacted", "target", "strong_intent", "negotiating", "won", "lost", "dormant")
SOURCES = ("", "referral", "walk_in", "phone", "web", "exhibition", "advertising", "partner", "import", "other")
CALENDARS = ("gregorian", "lunar")
CONSENT_STATES = ("unknown", "granted", "withdrawn")
CONSENT_CHANNELS = ("sms", "email")

MAX_NAME = 200
MAX_REGION_PART = 64
MAX_PHONES = 5
MAX_EMAILS = 5
MAX_PHONE_INPUT = 32
MAX_EMAIL = 254
MAX_OWNER_ID = 128
MAX_TAGS = 20
MAX_TAG = 32
MAX_LEVEL = 16
MAX_NOTES = 2000
MAX_PREFERENCES = 30
MAX_PREFERENCE_NOTE = 200
MAX_ADDRESSES = 5
MAX_ADDRESS_LINE = 200
MAX_ANNIVERSARIES = 10
MAX_LABEL = 40
MAX_EXTERNAL_ID = 64
CUSTOMER_ID = id_pattern("cus")  # new random ids and older ObjectId-style ones


# --- the record ----------------------------------------------------------------

@dataclass(frozen=True)
class Region:
    province: str = ""
    city: str = ""


@dataclass(frozen=True)
class Address:
    label: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    line: str = ""
    postal_code: str = ""


@dataclass(frozen=True)
class Preference:
    """A structured note the 360 lookup shows first: "seat" -> "likes the window seat"."""

    topic: str
    note: str


@dataclass(frozen=True)
class Anniversary:
    """A date stored as given: Gregorian, or lunar (month/day of the Chinese
    calendar, `leap_month` for the intercalary month). Year 0 = unknown."""

    label: str
    calendar: str
    month: int
    day: int
    year: int = 0
    leap_month: bool = False


@dataclass(frozen=True)
class Consent:
    """Marketing consent on one channel; `changed_at` is set by the service."""

    state: str = "unknown"
    changed_at: datetime | None = None


@dataclass(frozen=True)
class Profile:
    """Everything a user edits about a customer (owner and system fields are not here)."""

    display_name: str = ""
    kind: str = "person"
    phones: tuple[str, ...] = ()  # E.164; the first is the primary one
    emails: tuple[str, ...] = ()  # normalized; the first is the primary one
    region: Region = field(default_factory=Region)
    addresses: tuple[Address, ...] = ()
    type: str = "prospect"
    level: str = ""
    tags: tuple[str, ...] = ()
    source: str = ""
    stage: str = "new"
    intent_notes: str = ""
    preferences: tuple[Preference, ...] = ()
    birthday: Anniversary | None = None
    anniversaries: tuple[Anniversary, ...] = ()
    consent_sms: Consent = field(default_factory=Consent)
    consent_email: Consent = field(default_factory=Consent)
    referred_by: str = ""
    external_id: str = ""


PROFILE_FIELDS = tuple(f.name for f in fields(Profile))
# Set by the service only: a plain update naming one of these is mass assignment.
SYSTEM_FIELDS = frozenset({"id", "owner_id", "team_id", "owned_since", "created_at", "updated_at", "version",
                           "last_contact_at", "erased_at", "etag", "view"})


@dataclass(frozen=True)
class CustomerDraft:
    """A validated profile plus the owner asked for (if any)."""

    profile: Profile
    owner_id: str = ""


@dataclass(frozen=True)
class Customer:
    id: str
    profile: Profile
    owner_id: str  # "" = in the public pool
    team_id: str
    created_at: datetime
    updated_at: datetime
    # Counts the changes a user can see (profile, ownership): the ETag.
    version: int = 1
    owned_since: datetime | None = None
    # System field, moved forward only by recorded interactions (never by updates).
    last_contact_at: datetime | None = None
    erased_at: datetime | None = None
    # Counts every write, including last-contact touches that leave the ETag
    # alone; each revision is claimed by exactly one writer (see store.py).
    revision: int = 1

    @property
    def etag(self) -> str:
        return str(self.version)

    @property
    def in_pool(self) -> bool:
        return not self.owner_id

    @property
    def keys(self) -> tuple[str, ...]:
        return natural_keys(self.profile)


# --- natural keys: one key document each, so a duplicate on any is caught ---------

KEY_KINDS = {"phone": "phone", "email": "e-mail", "company": "company name and region", "ext": "external id"}


def phone_key(e164: str) -> str:
    return f"phone:{e164}"


def email_key(email: str) -> str:
    return f"email:{email.casefold()}"


def company_key(name: str, region: Region) -> str:
    # Spacing never tells two companies apart ("杭州 西湖贸易" is "杭州西湖贸易").
    name_key = "".join(fold_name(name).split())
    return f"company:{name_key}|{region.province.casefold()}|{region.city.casefold()}"


def natural_keys(p: Profile) -> tuple[str, ...]:
    keys = [phone_key(x) for x in p.phones] + [email_key(x) for x in p.emails]
    if p.kind == "company" and (p.region.province or p.region.city):
        keys.append(company_key(p.display_name, p.region))
    if p.external_id:
        keys.append(f"ext:{p.external_id}")
    return tuple(dict.fromkeys(keys))


def fold_name(name: str) -> str:
    """Compatibility-folded, case-folded, single-spaced: 'ＡＢＣ  Ltd' == 'abc ltd'."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def sort_name(name: str) -> str:
    """Sort and prefix-search key: Chinese characters by pinyin (张三 -> 'zhang san'),
    everything else folded, so Chinese and Latin names interleave sensibly."""
    return " ".join(" ".join(lazy_pinyin(fold_name(name))).split())


# --- validation --------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def clean_text(value: str, field_name: str, max_len: int, required: bool = False, multiline: bool = False) -> str:
    """NFC-normalized, trimmed text in any script; no control characters
    (newlines and tabs allowed in multi-line notes)."""
    if not isinstance(value, str):
        raise InvalidArgument(FieldViolation(field_name, "must be a string"))
    text = unicodedata.normalize("NFC", value).strip()
    if required and not text:
        raise InvalidArgument(FieldViolation(field_name, "is required"))
    if len(text) > max_len:
        raise InvalidArgument(FieldViolation(field_name, f"must be at most {max_len} characters"))
    checked = text.replace("\n", "").replace("\t", "").replace("\r", "") if multiline else text
    if _CONTROL.search(checked):
        raise InvalidArgument(FieldViolation(field_name, "must not contain control characters"))
    return text


def normalize_phone(raw: str, default_region: str, field_name: str = "phones") -> str:
    """Any common notation -> E.164, e.g. '138 0013 8000' -> '+8613800138000'."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_PHONE_INPUT:
        raise InvalidArgument(FieldViolation(field_name, "is not a phone number"))
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidArgument(FieldViolation(field_name, "is not a phone number")) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidArgument(FieldViolation(field_name, "is not a valid phone number"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str, field_name: str = "emails") -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_EMAIL:
        raise InvalidArgument(FieldViolation(field_name, "is not a valid e-mail address"))
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as err:
        raise InvalidArgument(FieldViolation(field_name, str(err))) from None


def _collect(violations: list[FieldViolation], fn, *args):
    try:
        return fn(*args)
    except InvalidArgument as err:
        violations.extend(err.violations)
        return None


def _choice(value, allowed: tuple[str, ...], field_name: str) -> str:
    if value not in allowed:
        shown = ", ".join(a for a in allowed if a)
        raise InvalidArgument(FieldViolation(field_name, f"must be one of {shown}"))
    return value


def _unique_list(raw, field_name: str, max_items: int, normalize, required: bool = False) -> tuple:
    if not isinstance(raw, (list, tuple)):
        raise InvalidArgument(FieldViolation(field_name, "must be a list"))
    if required and not raw:
        raise InvalidArgument(FieldViolation(field_name, "at least one is required"))
    if len(raw) > max_items:
        raise InvalidArgument(FieldViolation(field_name, f"at most {max_items} items"))
    violations: list[FieldViolation] = []
    out: list = []
    for i, item in enumerate(raw):
        value = _collect(violations, normalize, item, f"{field_name}[{i}]")
        if value is not None and value not in out:  # the same value twice is one value
            out.append(value)
    if violations:
        raise InvalidArgument(violations)
    return tuple(out)


def validate_phones(raw, default_region: str) -> tuple[str, ...]:
    return _unique_list(raw, "phones", MAX_PHONES, lambda v, f: normalize_phone(v, default_region, f))


def validate_emails(raw) -> tuple[str, ...]:
    return _unique_list(raw, "emails", MAX_EMAILS, normalize_email)


def validate_tags(raw) -> tuple[str, ...]:
    return _unique_list(raw, "tags", MAX_TAGS, lambda v, f: clean_text(v, f, MAX_TAG, required=True))


def validate_region(region: Region, field_name: str = "region") -> Region:
    if not isinstance(region, Region):
        raise InvalidArgument(FieldViolation(field_name, "must be an object"))
    return Region(
        province=clean_text(region.province, f"{field_name}.province", MAX_REGION_PART),
        city=clean_text(region.city, f"{field_name}.city", MAX_REGION_PART),
    )


def validate_address(a: Address, field_name: str) -> Address:
    if not isinstance(a, Address):
        raise InvalidArgument(FieldViolation(field_name, "must be an object"))
    violations: list[FieldViolation] = []
    out = Address(**{
        name: _collect(violations, clean_text, getattr(a, name), f"{field_name}.{name}",
                       MAX_ADDRESS_LINE if name == "line" else MAX_REGION_PART) or ""
        for name in ("label", "province", "city", "district", "line", "postal_code")})
    if violations:
        raise InvalidArgument(violations)
    return out


def validate_preference(p: Preference, field_name: str) -> Preference:
    if not isinstance(p, Preference):
        raise InvalidArgument(FieldViolation(field_name, "must be an object"))
    violations: list[FieldViolation] = []
    out = Preference(_collect(violations, clean_text, p.topic, f"{field_name}.topic", MAX_LABEL) or "",
                     _collect(violations, clean_text, p.note, f"{field_name}.note", MAX_PREFERENCE_NOTE, True) or "")
    if violations:
        raise InvalidArgument(violations)
    return out


def validate_anniversary(a: Anniversary, field_name: str) -> Anniversary:
    """Gregorian dates must exist (a year of 0 allows 29 February); lunar
    dates are checked against the Chinese calendar when the year is known."""
    if not isinstance(a, Anniversary):
        raise InvalidArgument(FieldViolation(field_name, "must be an object"))
    label = clean_text(a.label, f"{field_name}.label", MAX_LABEL)
    calendar = _choice(a.calendar, CALENDARS, f"{field_name}.calendar")
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (a.year, a.month, a.day)):
        raise InvalidArgument(FieldViolation(field_name, "year, month and day must be integers"))
    if a.year and not 1900 <= a.year <= 2100:
        raise InvalidArgument(FieldViolation(f"{field_name}.year", "must be between 1900 and 2100, or 0 if unknown"))
    if calendar == "gregorian":
        if a.leap_month:
            raise InvalidArgument(FieldViolation(f"{field_name}.leap_month", "only lunar dates have leap months"))
        try:
            date(a.year or 2000, a.month, a.day)  # 2000 is a leap year: 29 February stays valid
        except ValueError:
            raise InvalidArgument(FieldViolation(field_name, "is not a date in the Gregorian calendar")) from None
    else:
        if not (1 <= a.month <= 12 and 1 <= a.day <= 30):
            raise InvalidArgument(FieldViolation(field_name, "a lunar month is 1-12 and a lunar day 1-30"))
        if a.year:
            try:
                LunarDate(a.year, a.month, a.day, a.leap_month).to_solar_date()
            except ValueError:
                raise InvalidArgument(FieldViolation(field_name, "is not a date in the Chinese lunar calendar")) from None
    return Anniversary(label, calendar, a.month, a.day, a.year, bool(a.leap_month))


def validate_birthday(b: Anniversary | None) -> Anniversary | None:
    return None if b is None else validate_anniversary(replace(b, label=b.label or "birthday"), "birthday")


def validate_consent(c: Consent, field_name: str) -> Consent:
    if not isinstance(c, Consent):
        raise InvalidArgument(FieldViolation(field_name, "must be an object"))
    return Consent(_choice(c.state, CONSENT_STATES, f"{field_name}.state"), c.changed_at)


def validate_code(value: str, field_name: str, max_len: int) -> str:
    text = clean_text(value, field_name, max_len)
    if text and not _CODE.match(text):
        raise InvalidArgument(FieldViolation(field_name, "letters, digits, '_', '.' and '-' only"))
    return text


def validate_customer_id(value: str, field_name: str) -> str:
    if not isinstance(value, str) or (value and not CUSTOMER_ID.match(value)):
        raise InvalidArgument(FieldViolation(field_name, "is not a customer id"))
    return value


def validate_owner_id(owner_id: str, field_name: str = "owner_id") -> str:
    return clean_text(owner_id, field_name, MAX_OWNER_ID)


def _field_rules(default_region: str) -> dict:
    """One validator per profile field: used for creates and partial updates alike."""
    return {
        "display_name": lambda v: clean_text(v, "display_name", MAX_NAME, required=True),
        "kind": lambda v: _choice(v, KINDS, "kind"),
        "phones": lambda v: validate_phones(v, default_region),
        "emails": validate_emails,
        "region": validate_region,
        "addresses": lambda v: _unique_list(v, "addresses", MAX_ADDRESSES, validate_address),
        "type": lambda v: _choice(v, TYPES, "type"),
        "level": lambda v: validate_code(v, "level", MAX_LEVEL),
        "tags": validate_tags,
        "source": lambda v: _choice(v, SOURCES, "source"),
        "stage": lambda v: _choice(v, STAGES, "stage"),
        "intent_notes": lambda v: clean_text(v, "intent_notes", MAX_NOTES, multiline=True),
        "preferences": lambda v: _unique_list(v, "preferences", MAX_PREFERENCES, validate_preference),
        "birthday": validate_birthday,
        "anniversaries": lambda v: _unique_list(v, "anniversaries", MAX_ANNIVERSARIES, validate_anniversary),
        "consent_sms": lambda v: validate_consent(v, "consent_sms"),
        "consent_email": lambda v: validate_consent(v, "consent_email"),
        "referred_by": lambda v: validate_customer_id(v, "referred_by"),
        "external_id": lambda v: validate_code(v, "external_id", MAX_EXTERNAL_ID),
    }


def _check_whole(p: Profile) -> list[FieldViolation]:
    """Rules across fields, checked on the resulting profile."""
    if not p.phones and not p.emails:
        return [FieldViolation("phones", "a customer needs at least one phone or e-mail")]
    return []


def build_draft(values: dict, owner_id: str, default_region: str) -> CustomerDraft:
    """A new customer's profile from `values` (absent fields take defaults);
    every problem is reported at once."""
    unknown = sorted(set(values) - set(PROFILE_FIELDS))
    if unknown:
        raise InvalidArgument([FieldViolation(name, "is not a field you can set") for name in unknown])
    rules = _field_rules(default_region)
    violations: list[FieldViolation] = []
    clean = {}
    for name, value in values.items():
        result = _collect(violations, rules[name], value)
        if result is not None:
            clean[name] = result
    owner = _collect(violations, validate_owner_id, owner_id) or ""
    if violations:
        raise InvalidArgument(violations)
    profile = Profile(**clean)
    violations = _check_whole(profile)
    if violations:
        raise InvalidArgument(violations)
    return CustomerDraft(profile, owner)


def apply_update(current: Profile, changes: dict, paths: list[str], default_region: str) -> Profile:
    """The profile with the masked fields replaced by validated new values.
    Owner, team and system fields are refused: they change only through
    their own operations (claim, release, transfer), never by a plain update."""
    if not paths:
        raise InvalidArgument(FieldViolation("update_mask", "name at least one field to update"))
    system = sorted(set(paths) & SYSTEM_FIELDS)
    if system:
        raise InvalidArgument([FieldViolation(p, "is set by the system or by an ownership operation, not by an update")
                               for p in system])
    unknown = sorted(set(paths) - set(PROFILE_FIELDS) - SYSTEM_FIELDS)
    if unknown:
        raise InvalidArgument([FieldViolation("update_mask", f"field {p!r} cannot be updated") for p in unknown])
    rules = _field_rules(default_region)
    violations: list[FieldViolation] = []
    new_values = {path: _collect(violations, rules[path], changes.get(path)) for path in paths}
    if violations:
        raise InvalidArgument(violations)
    updated = replace(current, **new_values)
    violations = _check_whole(updated)
    if violations:
        raise InvalidArgument(violations)
    return updated


def stamp_consent(before: Profile, after: Profile, now: datetime) -> Profile:
    """Consent records when it was given or withdrawn: a changed state gets `now`,
    an unchanged one keeps its time (callers cannot forge it)."""
    stamped = {}
    for channel in CONSENT_CHANNELS:
        old, new = getattr(before, f"consent_{channel}"), getattr(after, f"consent_{channel}")
        stamped[f"consent_{channel}"] = old if new.state == old.state else Consent(new.state, now)
    return replace(after, **stamped)


# --- who may do what, and what they see ---------------------------------------------

FULL, CONTACT, POOL = "full", "contact", "pool"
# Contact fields for support agents (and finance): enough to reach the customer.
_CONTACT_FIELDS = ("display_name", "kind", "phones", "emails", "region", "addresses", "consent_sms", "consent_email")
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
        clean = _collect(violations, clean_text, value, name, max_len) or ""
        if allowed is not None and clean:
            clean = _collect(violations, _choice, clean, allowed, name) or ""
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


def duplicate_relation(principal: Principal, holder_owner_id: str, key: str) -> tuple[str, str]:
    """(relation, message) for a refused duplicate, revealing nothing about
    another rep's customer beyond the fact that it exists."""
    what = KEY_KINDS.get(key.split(":", 1)[0], "key")
    if holder_owner_id and holder_owner_id == principal.subject:
        return "yours", f"a customer with this {what} already exists and is yours"
    if not holder_owner_id:
        return "public_pool", f"a customer with this {what} already exists in the public pool; claim it instead"
    return "another_owner", f"a customer with this {what} already exists and belongs to another rep"


# --- ownership -------------------------------------------------------------------

def protection_expired(customer: Customer, now: datetime, protection_days: int) -> bool:
    """An owned customer nobody has contacted for `protection_days` (counted
    from the last contact, or from when the owner got it) returns to the pool."""
    if customer.in_pool or customer.erased_at is not None:
        return False
    since = max(t for t in (customer.last_contact_at, customer.owned_since, customer.created_at) if t is not None)
    return (now - since).days >= protection_days


def assign_round_robin(customer_ids: list[str], reps: list[str]) -> dict[str, str]:
    """Hand-over plan: customers spread over the receiving reps in turn."""
    if not reps:
        raise InvalidArgument(FieldViolation("to_owner_ids", "name at least one rep"))
    return {cid: reps[i % len(reps)] for i, cid in enumerate(customer_ids)}


def erased_profile(kind: str) -> Profile:
    """What remains of an erased customer: no personal field at all."""
    return Profile(display_name="(erased)", kind=kind, type="other", stage="dormant")


# --- imports --------------------------------------------------------------------------

# What an imported row may be matched on, and the profile field holding it.
IMPORT_MATCH_FIELDS = {"phone": "phones", "email": "emails", "external_id": "external_id"}


def import_match_key(values: dict, match_on: str, default_region: str) -> str:
    """The natural key an imported row is matched on: its first phone, its
    first e-mail or its external id, normalized like the stored keys."""
    field_name = IMPORT_MATCH_FIELDS.get(match_on)
    if field_name is None:
        raise InvalidArgument(FieldViolation("match_on", f"must be one of {', '.join(IMPORT_MATCH_FIELDS)}"))
    raw = values.get(field_name)
    if raw is None:
        raw = "" if field_name == "external_id" else []
    value = _field_rules(default_region)[field_name](raw)
    if isinstance(value, tuple):
        value = value[0] if value else ""
    if not value:
        raise InvalidArgument(FieldViolation(field_name, f"is required to match rows on {match_on}"))
    if field_name == "phones":
        return phone_key(value)
    if field_name == "emails":
        return email_key(value)
    return f"ext:{value}"


# A row may set one part of the region (a CSV with a city column but no province).
IMPORT_SUBFIELDS = ("region.province", "region.city")


def import_paths(paths: list[str]) -> list[str]:
    """The profile fields an imported row sets; owner and system fields are
    refused (an import never changes ownership)."""
    bad = sorted(set(paths) - set(PROFILE_FIELDS) - set(IMPORT_SUBFIELDS))
    if bad:
        raise InvalidArgument([FieldViolation(p, "is not a profile field an import can set") for p in bad])
    return list(dict.fromkeys(paths))


def import_changes(base: Profile, values: dict, paths: list[str]) -> tuple[dict, list[str]]:
    """An imported row as changes over `base` and the top-level fields they
    touch: a field the row sets is replaced, any other is left alone, and
    `region.province` / `region.city` replace only that part of the region."""
    changes: dict = {}
    for path in import_paths(paths):
        name, _, part = path.partition(".")
        if part:
            given = values.get(name)
            changes[name] = replace(changes.get(name, getattr(base, name)),
                                    **{part: getattr(given, part) if isinstance(given, Region) else ""})
        else:
            changes[name] = values.get(name)
    return changes, list(changes)
