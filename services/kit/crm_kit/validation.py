"""Validation helpers every service uses on its inputs.

Each raises `InvalidArgument` naming the field; `collect` gathers several
fields' violations so one answer lists them all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TypeVar

from crm_kit.errors import FieldViolation, InvalidArgument

T = TypeVar("T")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


def collect(violations: list[FieldViolation], fn: Callable[..., T], *args) -> T | None:
    """fn(*args), or None with its violations appended to `violations`."""
    try:
        return fn(*args)
    except InvalidArgument as err:
        violations.extend(err.violations)
        return None


def choice(value, allowed: tuple[str, ...], field_name: str) -> str:
    if value not in allowed:
        shown = ", ".join(a for a in allowed if a)
        raise InvalidArgument(FieldViolation(field_name, f"must be one of {shown}"))
    return value


def unique_list(raw, field_name: str, max_items: int, normalize: Callable[[object, str], object],
                required: bool = False) -> tuple:
    """Each item normalized (`normalize(item, "field[i]")`), duplicates dropped, order kept."""
    if not isinstance(raw, (list, tuple)):
        raise InvalidArgument(FieldViolation(field_name, "must be a list"))
    if required and not raw:
        raise InvalidArgument(FieldViolation(field_name, "at least one is required"))
    if len(raw) > max_items:
        raise InvalidArgument(FieldViolation(field_name, f"at most {max_items} items"))
    violations: list[FieldViolation] = []
    out: list = []
    for i, item in enumerate(raw):
        value = collect(violations, normalize, item, f"{field_name}[{i}]")
        if value is not None and value not in out:  # the same value twice is one value
            out.append(value)
    if violations:
        raise InvalidArgument(violations)
    return tuple(out)


def whole_number(value, field_name: str, minimum: int, maximum: int) -> int:
    """An int (not a bool) in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidArgument(FieldViolation(field_name, f"must be a whole number from {minimum} to {maximum}"))
    return value
