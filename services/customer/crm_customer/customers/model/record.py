"""What a customer record holds (profile, contacts, anniversaries, consent,
system fields) and the natural keys that make a customer unique
(deal-collision protection). Pure Python, no I/O.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, fields
from datetime import datetime

from pypinyin import lazy_pinyin

from crm_kit.ids import id_pattern

KINDS = ("person", "company")
TYPES = ("prospect", "customer", "partner", "distributor", "other")
STAGES = ("new", "contacted", "target", "strong_intent", "negotiating", "won", "lost", "dormant")
SOURCES = ("", "referral", "walk_in", "phone", "web", "exhibition", "advertising", "partner", "import", "other")
CALENDARS = ("gregorian", "lunar")
CONSENT_STATES = ("unknown", "granted", "withdrawn")
CONSENT_CHANNELS = ("sms", "email")
CUSTOMER_ID = id_pattern("cus")  # new random ids and older ObjectId-style ones


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
                           "last_contact_at", "erased_at", "etag", "view", "value_grade", "value_grade_year",
                           "value_grade_run"})


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
    # System fields, kept from sales' customer.value_grade_changed (the value
    # grade: last year's profit contribution; not the loyalty VIP tier, not
    # `level`). `value_grade_run` orders the grading runs applied ("grading_<year>_<UTC time>_...").
    value_grade: str = ""
    value_grade_year: int = 0
    value_grade_run: str = ""

    @property
    def etag(self) -> str:
        return str(self.version)

    @property
    def in_pool(self) -> bool:
        return not self.owner_id

    @property
    def keys(self) -> tuple[str, ...]:
        return natural_keys(self.profile)


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
