"""Customer domain rules: pure Python, no I/O, no transport.

Validation and normalization of customer data, who may see and change a
customer, and what a duplicate tells the caller. The store and the gRPC
servicer call these; tests exercise them directly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from crm_kit.auth import Principal
from crm_kit.errors import FieldViolation, InvalidArgument, PermissionDenied

KINDS = ("person", "company")
MAX_NAME = 200
MAX_REGION_PART = 64
MAX_PHONES = 5
MAX_PHONE_INPUT = 32
MAX_OWNER_ID = 128
UPDATABLE_FIELDS = frozenset({"display_name", "kind", "phones", "email", "region"})

# Roles that read every customer; everyone else is limited as below.
_READ_ALL_ROLES = ("admin", "manager", "agent", "finance")
_WRITE_ALL_ROLES = ("admin", "manager")


@dataclass(frozen=True)
class Region:
    province: str = ""
    city: str = ""


@dataclass(frozen=True)
class CustomerDraft:
    """Validated input for a new customer."""

    display_name: str
    kind: str
    phones: tuple[str, ...]
    email: str = ""
    region: Region = field(default_factory=Region)
    owner_id: str = ""


@dataclass(frozen=True)
class Customer:
    id: str
    display_name: str
    kind: str
    phones: tuple[str, ...]
    email: str
    region: Region
    owner_id: str
    team_id: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    # System field, moved forward only by recorded interactions (never by updates).
    last_contact_at: datetime | None = None

    @property
    def etag(self) -> str:
        return str(self.version)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(phone_key(p) for p in self.phones)


def phone_key(e164: str) -> str:
    """The `_id` of the key document that makes a phone unique."""
    return f"phone:{e164}"


# --- validation -------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_text(value: str, field_name: str, max_len: int, required: bool = False) -> str:
    """NFC-normalized, trimmed text in any script; no control characters."""
    if not isinstance(value, str):
        raise InvalidArgument(FieldViolation(field_name, "must be a string"))
    text = unicodedata.normalize("NFC", value).strip()
    if required and not text:
        raise InvalidArgument(FieldViolation(field_name, "is required"))
    if len(text) > max_len:
        raise InvalidArgument(FieldViolation(field_name, f"must be at most {max_len} characters"))
    if _CONTROL.search(text):
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


def normalize_email(raw: str) -> str:
    if raw == "":
        return ""
    if not isinstance(raw, str) or len(raw) > 254:
        raise InvalidArgument(FieldViolation("email", "is not a valid e-mail address"))
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as err:
        raise InvalidArgument(FieldViolation("email", str(err))) from None


def _collect(violations: list[FieldViolation], fn, *args):
    try:
        return fn(*args)
    except InvalidArgument as err:
        violations.extend(err.violations)
        return None


def validate_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidArgument(FieldViolation("kind", f"must be one of {', '.join(KINDS)}"))
    return kind


def validate_phones(raw_phones, default_region: str) -> tuple[str, ...]:
    if not raw_phones:
        raise InvalidArgument(FieldViolation("phones", "at least one phone number is required"))
    if len(raw_phones) > MAX_PHONES:
        raise InvalidArgument(FieldViolation("phones", f"at most {MAX_PHONES} phone numbers"))
    violations: list[FieldViolation] = []
    phones: list[str] = []
    for i, raw in enumerate(raw_phones):
        e164 = _collect(violations, normalize_phone, raw, default_region, f"phones[{i}]")
        if e164 and e164 not in phones:  # the same number twice is one number
            phones.append(e164)
    if violations:
        raise InvalidArgument(violations)
    return tuple(phones)


def validate_region(region: Region) -> Region:
    return Region(
        province=clean_text(region.province, "region.province", MAX_REGION_PART, required=False),
        city=clean_text(region.city, "region.city", MAX_REGION_PART, required=False),
    )


def validate_owner_id(owner_id: str) -> str:
    return clean_text(owner_id, "owner_id", MAX_OWNER_ID, required=False)


def build_draft(*, display_name: str, kind: str, phones, email: str, region: Region, owner_id: str,
                default_region: str) -> CustomerDraft:
    """Validate every field, reporting all problems at once."""
    violations: list[FieldViolation] = []
    draft = CustomerDraft(
        display_name=_collect(violations, clean_text, display_name, "display_name", MAX_NAME, True) or "",
        kind=_collect(violations, validate_kind, kind) or "",
        phones=_collect(violations, validate_phones, list(phones), default_region) or (),
        email=_collect(violations, normalize_email, email) or "",
        region=_collect(violations, validate_region, region) or Region(),
        owner_id=_collect(violations, validate_owner_id, owner_id) or "",
    )
    if violations:
        raise InvalidArgument(violations)
    return draft


def apply_update(current: Customer, changes: dict, paths: list[str], default_region: str) -> Customer:
    """The customer with the masked fields replaced by validated new values."""
    unknown = sorted(set(paths) - UPDATABLE_FIELDS)
    if unknown:
        raise InvalidArgument([FieldViolation("update_mask", f"field {p!r} cannot be updated") for p in unknown])
    if not paths:
        raise InvalidArgument(FieldViolation("update_mask", "name at least one field to update"))
    validators = {
        "display_name": lambda v: clean_text(v, "display_name", MAX_NAME, required=True),
        "kind": validate_kind,
        "phones": lambda v: validate_phones(list(v), default_region),
        "email": normalize_email,
        "region": validate_region,
    }
    violations: list[FieldViolation] = []
    new_values = {}
    for path in paths:
        value = _collect(violations, validators[path], changes[path])
        new_values[path] = value
    if violations:
        raise InvalidArgument(violations)
    return replace(current, **new_values)


# --- who may do what --------------------------------------------------------

def can_read(principal: Principal, customer: Customer) -> bool:
    if principal.role in _READ_ALL_ROLES:
        return True
    if principal.role == "integration":
        return "customers:read" in principal.scopes
    return principal.role == "rep" and customer.owner_id == principal.subject


def can_write(principal: Principal, customer: Customer) -> bool:
    if principal.role in _WRITE_ALL_ROLES:
        return True
    if principal.role == "integration":
        return "customers:write" in principal.scopes
    return principal.role == "rep" and customer.owner_id == principal.subject


def require_create_right(principal: Principal) -> None:
    if principal.role in ("admin", "manager", "rep"):
        return
    if principal.role == "integration" and "customers:write" in principal.scopes:
        return
    raise PermissionDenied("your role may not create customers")


def require_read_right(principal: Principal) -> None:
    if principal.role == "integration" and "customers:read" not in principal.scopes:
        raise PermissionDenied("token lacks the customers:read scope")


def owner_for_new_customer(principal: Principal, requested_owner: str) -> str:
    """Reps own what they create; managers, admins and integrations may assign."""
    if not requested_owner or requested_owner == principal.subject:
        return principal.subject
    if principal.role == "rep":
        raise PermissionDenied("reps cannot create customers for someone else")
    return requested_owner


def list_owner_filter(principal: Principal, requested_owner: str) -> str | None:
    """The owner a list is restricted to (None: everyone the caller may read)."""
    if principal.role == "rep":
        if requested_owner and requested_owner != principal.subject:
            raise PermissionDenied("reps can list only their own customers")
        return principal.subject
    return requested_owner or None


def duplicate_relation(principal: Principal, holder_owner_id: str) -> tuple[str, str]:
    """(relation, message) for a refused duplicate, revealing nothing about
    another rep's customer beyond the fact that it exists."""
    if holder_owner_id == principal.subject:
        return "yours", "a customer with this phone already exists and is yours"
    if not holder_owner_id:
        return "public_pool", "a customer with this phone already exists in the public pool"
    return "another_owner", "a customer with this phone already exists and belongs to another rep"
