"""How each field users edit is validated and normalized (phones to E.164,
e-mails, lunar dates, codes), a draft built and an update applied under
its field mask, and consent stamped with its time. Pure Python, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from lunardate import LunarDate

from crm_customer.customers.model.record import (
    CALENDARS,
    CONSENT_CHANNELS,
    CONSENT_STATES,
    CUSTOMER_ID,
    KINDS,
    PROFILE_FIELDS,
    SOURCES,
    STAGES,
    SYSTEM_FIELDS,
    TYPES,
    Address,
    Anniversary,
    Consent,
    CustomerDraft,
    Preference,
    Profile,
    Region,
)
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.validation import choice, clean_text, collect, unique_list

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
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


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


def validate_phones(raw, default_region: str) -> tuple[str, ...]:
    return unique_list(raw, "phones", MAX_PHONES, lambda v, f: normalize_phone(v, default_region, f))


def validate_emails(raw) -> tuple[str, ...]:
    return unique_list(raw, "emails", MAX_EMAILS, normalize_email)


def validate_tags(raw) -> tuple[str, ...]:
    return unique_list(raw, "tags", MAX_TAGS, lambda v, f: clean_text(v, f, MAX_TAG, required=True))


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
        name: collect(violations, clean_text, getattr(a, name), f"{field_name}.{name}",
                       MAX_ADDRESS_LINE if name == "line" else MAX_REGION_PART) or ""
        for name in ("label", "province", "city", "district", "line", "postal_code")})
    if violations:
        raise InvalidArgument(violations)
    return out


def validate_preference(p: Preference, field_name: str) -> Preference:
    if not isinstance(p, Preference):
        raise InvalidArgument(FieldViolation(field_name, "must be an object"))
    violations: list[FieldViolation] = []
    out = Preference(collect(violations, clean_text, p.topic, f"{field_name}.topic", MAX_LABEL) or "",
                     collect(violations, clean_text, p.note, f"{field_name}.note", MAX_PREFERENCE_NOTE, True) or "")
    if violations:
        raise InvalidArgument(violations)
    return out


def validate_anniversary(a: Anniversary, field_name: str) -> Anniversary:
    """Gregorian dates must exist (a year of 0 allows 29 February); lunar
    dates are checked against the Chinese calendar when the year is known."""
    if not isinstance(a, Anniversary):
        raise InvalidArgument(FieldViolation(field_name, "must be an object"))
    label = clean_text(a.label, f"{field_name}.label", MAX_LABEL)
    calendar = choice(a.calendar, CALENDARS, f"{field_name}.calendar")
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
    return Consent(choice(c.state, CONSENT_STATES, f"{field_name}.state"), c.changed_at)


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


def field_rules(default_region: str) -> dict:
    """One validator per profile field: used for creates and partial updates alike."""
    return {
        "display_name": lambda v: clean_text(v, "display_name", MAX_NAME, required=True),
        "kind": lambda v: choice(v, KINDS, "kind"),
        "phones": lambda v: validate_phones(v, default_region),
        "emails": validate_emails,
        "region": validate_region,
        "addresses": lambda v: unique_list(v, "addresses", MAX_ADDRESSES, validate_address),
        "type": lambda v: choice(v, TYPES, "type"),
        "level": lambda v: validate_code(v, "level", MAX_LEVEL),
        "tags": validate_tags,
        "source": lambda v: choice(v, SOURCES, "source"),
        "stage": lambda v: choice(v, STAGES, "stage"),
        "intent_notes": lambda v: clean_text(v, "intent_notes", MAX_NOTES, multiline=True),
        "preferences": lambda v: unique_list(v, "preferences", MAX_PREFERENCES, validate_preference),
        "birthday": validate_birthday,
        "anniversaries": lambda v: unique_list(v, "anniversaries", MAX_ANNIVERSARIES, validate_anniversary),
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
    rules = field_rules(default_region)
    violations: list[FieldViolation] = []
    clean = {}
    for name, value in values.items():
        result = collect(violations, rules[name], value)
        if result is not None:
            clean[name] = result
    owner = collect(violations, validate_owner_id, owner_id) or ""
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
    rules = field_rules(default_region)
    violations: list[FieldViolation] = []
    new_values = {path: collect(violations, rules[path], changes.get(path)) for path in paths}
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
