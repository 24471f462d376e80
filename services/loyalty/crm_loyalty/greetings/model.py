"""Rules of the care plans, pure Python: which occasions fall on a day, how a
lunar or Gregorian date maps to this year's day, templates and their
placeholders, which channel a greeting may use.

Occasions are counted per *occurrence year*: the Gregorian year for Gregorian
dates and solar holidays, the lunar year for lunar dates and the lunar
festivals (a lunar 12th-month birthday of lunar year 2025 falls in January
2026 and is that lunar year's one greeting). "Exactly one greeting per
occasion per year" is one per (customer, occasion, occurrence year).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone

from lunardate import LunarDate

from crm_kit.errors import FieldViolation, InvalidArgument

GREGORIAN, LUNAR = "gregorian", "lunar"

BIRTHDAY, ANNIVERSARY = "birthday", "anniversary"
SPRING_FESTIVAL, DRAGON_BOAT, MID_AUTUMN = "spring_festival", "dragon_boat", "mid_autumn"
# The lunar festivals: (lunar month, day).
LUNAR_FESTIVALS = {SPRING_FESTIVAL: (1, 1), DRAGON_BOAT: (5, 5), MID_AUTUMN: (8, 15)}
BUILT_IN_OCCASIONS = (BIRTHDAY, ANNIVERSARY, *LUNAR_FESTIVALS)

LANGUAGES = ("zh", "en")
PLACEHOLDERS = ("name", "tier")
MAX_SUBJECT, MAX_BODY = 200, 2000
OCCASION_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

SMS, EMAIL = "sms", "email"
CHANNELS = (SMS, EMAIL)
# Claim and delivery states.
QUEUED, SENT, FAILED, SKIPPED = "queued", "sent", "failed", "skipped"


# -- dates ---------------------------------------------------------------------

@dataclass(frozen=True)
class RecordedDate:
    """A date as the customer service records it (its `Anniversary`)."""
    calendar: str  # gregorian | lunar
    month: int
    day: int
    leap_month: bool = False
    label: str = ""


def gregorian_day(year: int, month: int, day: int) -> date:
    """This year's day of a Gregorian month/day: 29 February falls on the
    28th in a common year (the last day of the month the person was born in)."""
    if month == 2 and day == 29 and not _is_leap_year(year):
        return date(year, 2, 28)
    return date(year, month, day)


def lunar_day(lunar_year: int, month: int, day: int, leap_month: bool = False) -> date | None:
    """The Gregorian day of a lunar date in `lunar_year`.

    A leap-month date in a year without that leap month falls in the ordinary
    month of that number; a 30th in a 29-day month falls on its last day
    (the 29th). None outside the library's range (1900-2099)."""
    leap = leap_month and LunarDate.leap_month_for_year(lunar_year) == month
    for d in (day, 29) if day == 30 else (day,):
        try:
            return LunarDate(lunar_year, month, d, leap).to_solar_date()
        except ValueError:
            continue
    return None


def lunar_year_of(day: date) -> int | None:
    try:
        return LunarDate.from_solar_date(day.year, day.month, day.day).year
    except ValueError:
        return None


def _is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# -- occasions -------------------------------------------------------------------

@dataclass(frozen=True)
class Occurrence:
    """One occasion in one occurrence year. `code` names it in claims and
    logs (never a personal label); `kind` picks the template and the metric
    label (bounded: birthday, anniversary, the festivals, solar holidays)."""
    code: str
    kind: str
    year: int

    @property
    def claim_field(self) -> str:
        return f"{self.code}:{self.year}"


def parse_solar_holidays(raw: str) -> dict[str, tuple[int, int]]:
    """LOYALTY_SOLAR_HOLIDAYS: "new_year=01-01,national_day=10-01" -> {code: (month, day)}."""
    holidays: dict[str, tuple[int, int]] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        code, _, when = item.partition("=")
        code = code.strip()
        if not OCCASION_CODE.match(code) or code in BUILT_IN_OCCASIONS:
            raise ValueError(f"{code!r} is not a holiday code (lowercase letters, digits, _; not a built-in occasion)")
        try:
            month, day = (int(x) for x in when.strip().split("-"))
            date(2000, month, day)
        except ValueError:
            raise ValueError(f"holiday {code}: {when!r} is not MM-DD") from None
        holidays[code] = (month, day)
    return holidays


def holidays_on(day: date, solar_holidays: dict[str, tuple[int, int]]) -> list[Occurrence]:
    """The holidays everybody is greeted on, on `day`."""
    found = []
    lunar_year = lunar_year_of(day)
    if lunar_year is not None:
        for code, (month, d) in LUNAR_FESTIVALS.items():
            if lunar_day(lunar_year, month, d) == day:
                found.append(Occurrence(code, code, lunar_year))
    for code, (month, d) in solar_holidays.items():
        if gregorian_day(day.year, month, d) == day:
            found.append(Occurrence(code, code, day.year))
    return found


def falls_on(recorded: RecordedDate, day: date) -> int | None:
    """The occurrence year when `recorded` falls on `day`, else None."""
    if recorded.calendar == LUNAR:
        lunar_year = lunar_year_of(day)
        if lunar_year is not None and lunar_day(lunar_year, recorded.month, recorded.day,
                                                recorded.leap_month) == day:
            return lunar_year
        return None
    try:
        return day.year if gregorian_day(day.year, recorded.month, recorded.day) == day else None
    except ValueError:  # a date the customer service should not have stored
        return None


def personal_occasions_on(day: date, birthday: RecordedDate | None,
                          anniversaries: list[RecordedDate]) -> list[Occurrence]:
    found = []
    if birthday is not None and (year := falls_on(birthday, day)) is not None:
        found.append(Occurrence(BIRTHDAY, BIRTHDAY, year))
    for a in anniversaries:
        if (year := falls_on(a, day)) is not None:
            found.append(Occurrence(anniversary_code(a), ANNIVERSARY, year))
    return found


def anniversary_code(a: RecordedDate) -> str:
    """A stable code for one family anniversary that does not carry its label
    ("daughter's birthday" is personal data; codes end up in keys and logs)."""
    digest = hashlib.sha256(f"{a.label}|{a.calendar}|{a.month}|{a.day}|{a.leap_month}".encode()).hexdigest()
    return f"{ANNIVERSARY}_{digest[:10]}"


# -- templates ---------------------------------------------------------------------

@dataclass(frozen=True)
class Template:
    occasion: str
    language: str
    subject: str
    body: str
    built_in: bool = False


_DEFAULTS = {
    (BIRTHDAY, "zh"): ("生日快乐", "亲爱的{name}，祝您生日快乐，万事如意！感谢您一直以来的支持。"),
    (BIRTHDAY, "en"): ("Happy birthday", "Dear {name}, happy birthday from all of us! Thank you for being with us."),
    (ANNIVERSARY, "zh"): ("纪念日快乐", "亲爱的{name}，在这个特别的日子里，祝您和家人幸福安康！"),
    (ANNIVERSARY, "en"): ("A special day", "Dear {name}, warm wishes to you and your family on this special day."),
    (SPRING_FESTIVAL, "zh"): ("新春快乐", "亲爱的{name}，恭贺新春，祝您新年吉祥、阖家幸福！"),
    (SPRING_FESTIVAL, "en"): ("Happy Spring Festival",
                              "Dear {name}, happy Chinese New Year! Wishing you health and good fortune."),
    (DRAGON_BOAT, "zh"): ("端午安康", "亲爱的{name}，端午安康！愿您平安喜乐。"),
    (DRAGON_BOAT, "en"): ("Happy Dragon Boat Festival", "Dear {name}, wishing you a healthy Dragon Boat Festival."),
    (MID_AUTUMN, "zh"): ("中秋快乐", "亲爱的{name}，月圆人团圆，祝您中秋快乐！"),
    (MID_AUTUMN, "en"): ("Happy Mid-Autumn Festival",
                         "Dear {name}, happy Mid-Autumn Festival! May the full moon bring you joy."),
}
# A configured solar holiday without a template of its own.
_HOLIDAY_DEFAULT = {"zh": ("节日快乐", "亲爱的{name}，祝您节日快乐！"),
                    "en": ("Season's greetings", "Dear {name}, warm wishes for the holiday!")}


def default_template(occasion: str, language: str) -> Template:
    subject, body = _DEFAULTS.get((occasion, language)) or _HOLIDAY_DEFAULT[language]
    return Template(occasion, language, subject, body, built_in=True)


def placeholders_in(text: str, field_name: str) -> list[str]:
    """The placeholders of `text`; InvalidArgument naming any that is not
    {name} or {tier} (attribute or index access, conversions and format specs
    are refused too: a template never reaches into an object)."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as err:
        raise InvalidArgument(FieldViolation(field_name, f"not a valid template: {err}")) from None
    names = []
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            shown = "{" + field[:40] + "}"
            raise InvalidArgument(FieldViolation(
                field_name, f"unknown placeholder {shown}; use {{name}} or {{tier}}"))
        names.append(field)
    return names


def validated_template(occasion: str, language: str, subject: str, body: str,
                       occasions: tuple[str, ...]) -> Template:
    """An admin's template, or InvalidArgument naming the field."""
    violations = []
    if occasion not in occasions:
        violations.append(FieldViolation("template.occasion", f"must be one of {', '.join(occasions)}"))
    if language not in LANGUAGES:
        violations.append(FieldViolation("template.language", "must be zh or en"))
    for field_name, text, limit in (("template.subject", subject, MAX_SUBJECT), ("template.body", body, MAX_BODY)):
        if not text.strip() and field_name == "template.body":  # an empty subject: the default's (SMS has none)
            violations.append(FieldViolation(field_name, "must not be empty"))
        elif len(text) > limit:
            violations.append(FieldViolation(field_name, f"at most {limit} characters"))
        elif any(ord(c) < 32 and c not in "\n" for c in text) or (field_name == "template.subject" and "\n" in text):
            violations.append(FieldViolation(field_name, "control characters are not allowed"))
    if violations:
        raise InvalidArgument(violations)
    placeholders_in(subject, "template.subject")
    placeholders_in(body, "template.body")
    return Template(occasion, language, subject, body)


def render(text: str, *, name: str, tier: str) -> str:
    """Fills {name} and {tier} (a validated template has no other field)."""
    values = {"name": name, "tier": tier}
    out = []
    for literal, field, _spec, _conversion in string.Formatter().parse(text):
        out.append(literal)
        if field is not None:
            out.append(values.get(field, ""))
    return "".join(out)


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def language_for(display_name: str, default: str) -> str:
    """The customer service records no language: a name written without any
    Chinese character is greeted in English, any other in the default."""
    return default if _CJK.search(display_name or "") else "en"


# -- channels ------------------------------------------------------------------------

@dataclass(frozen=True)
class Contact:
    """What the customer service says as the run reaches the customer."""
    customer_id: str
    name: str
    phone: str
    email: str
    consent_sms: str  # unknown | granted | withdrawn
    consent_email: str
    birthday: RecordedDate | None
    anniversaries: tuple[RecordedDate, ...]


def choose_channel(contact: Contact, order: tuple[str, ...]) -> tuple[str, str] | tuple[None, str]:
    """(channel, address) for the first channel in `order` whose consent is
    granted now and whose address is on file; else (None, reason). Unknown
    consent is no."""
    consented = False
    for channel in order:
        consent, address = ((contact.consent_sms, contact.phone) if channel == SMS
                            else (contact.consent_email, contact.email))
        if consent != "granted":
            continue
        consented = True
        if address:
            return channel, address
    return None, "no_contact" if consented else "no_consent"


# -- runs ----------------------------------------------------------------------------

# Why a run stopped before it looked at every customer (a later run goes on from there).
STOPPED_CUSTOMER_SERVICE = "customer_service_unavailable"  # the contacts stream did not open or broke off
STOPPED_SENDING_HOURS = "outside_sending_hours"  # a run of today reached the end of the sending hours
STOPPED_ERROR = "internal_error"  # anything else: the log tells more
RUN_ID = re.compile(r"^greetings_[0-9]{8}_[0-9]{8}T[0-9]{6}_[0-9a-f]{12}$")
RUN_COUNTS = ("customers", "sent", "failed", "skipped", "already_done", "errors")


def new_run_id(day: date, now: datetime) -> str:
    """Names the day and the start: "greetings_20260925_20260925T014500_<random>"."""
    return f"greetings_{day:%Y%m%d}_{now.astimezone(timezone.utc):%Y%m%dT%H%M%S}_{secrets.token_hex(6)}"


@dataclass
class RunSummary:
    """A run of one day's greetings: who started it, when, how far it got.
    Its workers count into it at once (`add` takes the lock)."""
    on_date: date
    run_id: str = ""
    started_by: str = ""
    started_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None  # None while it runs (and for good when its process died)
    stopped_reason: str = ""  # "" when every customer was looked at; else a STOPPED_* code
    customers: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    already_done: int = 0
    errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def copy(self) -> "RunSummary":
        """A consistent copy (workers may be counting meanwhile)."""
        with self._lock:
            return replace(self, _lock=threading.Lock())
