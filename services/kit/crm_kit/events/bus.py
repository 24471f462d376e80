"""The event Redis: settings, stream names, an instrumented connection.

Events live in a Redis of their own (`EVENTS_REDIS_URL`, AOF on), one
stream per producing service, `events:<producer>`. An entry has three
fields: `id` (the event id), `type` and `data` (the serialized Envelope).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from crm_kit.redis_store import connect as redis_connect
from crm_kit.settings import SettingsError, env_int, env_str, env_url

STREAM_PREFIX = "events:"
DEAD_LETTER_STREAM = "events:dead-letter"
DEFAULT_URL = "redis://127.0.0.1:6379/2"
DAY = 86400


def stream_for(producer: str) -> str:
    """`events:<producer>`, e.g. `events:customer`."""
    if not producer or ":" in producer:
        raise ValueError(f"bad producer name {producer!r}")
    return STREAM_PREFIX + producer


@dataclass(frozen=True)
class EventsSettings:
    url: str = DEFAULT_URL
    # Entries older than this are trimmed (never one a group has not acknowledged).
    retention_seconds: int = 7 * DAY
    # Off: producers stage nothing and publish nothing (the benchmark compares).
    enabled: bool = True

    @classmethod
    def from_env(cls) -> "EventsSettings":
        enabled = env_str("EVENTS_ENABLED", "true", choices=("true", "false", "1", "0", "yes", "no"))
        return cls(
            url=env_url("EVENTS_REDIS_URL", DEFAULT_URL, schemes=("redis", "rediss")),
            retention_seconds=env_int("EVENTS_RETENTION_SECONDS", 7 * DAY, minimum=60),
            enabled=enabled in ("true", "1", "yes"),
        )

    def open(self) -> redis.Redis:
        return connect(self.url)


def connect(url: str) -> redis.Redis:
    """The event Redis: `crm_kit.redis_store.connect` (instrumented like every Redis client)."""
    return redis_connect(url)


def text(value) -> str:
    """A stream field as text; bytes that are not UTF-8 (stream entries are
    input like any other) come out with replacement characters, never an error."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


__all__ = ["DEAD_LETTER_STREAM", "EventsSettings", "SettingsError", "connect", "stream_for"]
