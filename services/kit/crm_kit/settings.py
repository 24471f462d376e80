"""Configuration from the environment only (12-factor), validated at start-up.

Every reader raises `SettingsError` naming the variable, so a bad deployment
fails fast with a message an operator can act on.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse


class SettingsError(Exception):
    """A variable is missing or malformed; the message names it."""


def env_str(name: str, default: str | None = None, *, choices: tuple[str, ...] | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise SettingsError(f"environment variable {name} is required")
    if choices is not None and value not in choices:
        raise SettingsError(f"environment variable {name}={value!r} must be one of {', '.join(choices)}")
    return value


def env_optional(name: str) -> str | None:
    return os.environ.get(name) or None


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        raise SettingsError(f"environment variable {name}={value} must be between {minimum} and {maximum}")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name}={raw!r} is not a number") from None
    if value < minimum:
        raise SettingsError(f"environment variable {name}={value} must be at least {minimum}")
    return value


def env_url(name: str, default: str | None, *, schemes: tuple[str, ...]) -> str:
    value = env_str(name, default)
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not (parsed.hostname or parsed.path):
        raise SettingsError(f"environment variable {name} must be a {'/'.join(schemes)} URL")
    return value


def env_address(name: str, default: str) -> str:
    """A `host:port` listen or dial address."""
    value = env_str(name, default)
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SettingsError(f"environment variable {name}={value!r} must look like host:port")
    return value
