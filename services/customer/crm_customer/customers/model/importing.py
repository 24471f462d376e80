"""CSV import rules: which key a row is matched on, which fields it may set
and how a row becomes changes. Pure Python, no I/O.
"""

from __future__ import annotations

from dataclasses import replace

from crm_customer.customers.model.editing import field_rules
from crm_customer.customers.model.record import PROFILE_FIELDS, Profile, Region, email_key, phone_key
from crm_kit.errors import FieldViolation, InvalidArgument

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
    value = field_rules(default_region)[field_name](raw)
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
