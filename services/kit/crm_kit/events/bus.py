"""The event Redis: settings, stream names, an instrumented connection.

Events live in a Redis of their own (`EVENTS_REDIS_URL`, AOF on), one
stream per producing service, `events:<producer>`. An entry has three
fields: `id` (the event id), `type` and `data` (the serialized Envelope).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from redis.client import Pipeline

from crm_kit import metrics
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
    """`crm_kit.redis_store.connect` plus store latency metrics (store="redis")."""
    return instrument(redis_connect(url))


def _observe(command: str, started: float, failed: bool) -> None:
    metrics.STORE_SECONDS.labels("redis", command).observe(time.perf_counter() - started)
    if failed:
        metrics.STORE_FAILED.labels("redis", command).inc()


class _TimedPipeline(Pipeline):
    def execute(self, raise_on_error: bool = True):
        started, failed = time.perf_counter(), True
        try:
            result = super().execute(raise_on_error)
            failed = False
            return result
        finally:
            _observe("pipeline", started, failed)


def instrument(client: redis.Redis) -> redis.Redis:
    """Time every command (and every pipeline as one) of this client in
    `store_command_seconds{store="redis"}`. Patches the instance only."""
    if getattr(client, "_crm_instrumented", False):
        return client
    plain = client.execute_command

    def execute_command(*args, **options):
        started, failed = time.perf_counter(), True
        try:
            result = plain(*args, **options)
            failed = False
            return result
        finally:
            name = args[0] if args else "unknown"
            _observe((name.decode() if isinstance(name, bytes) else str(name)).lower(), started, failed)

    def pipeline(transaction: bool = True, shard_hint=None) -> Pipeline:
        return _TimedPipeline(client.connection_pool, client.response_callbacks, transaction, shard_hint)

    client.execute_command = execute_command  # type: ignore[method-assign]
    client.pipeline = pipeline  # type: ignore[method-assign]
    client._crm_instrumented = True  # type: ignore[attr-defined]
    return client


def text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


__all__ = ["DEAD_LETTER_STREAM", "EventsSettings", "SettingsError", "connect", "instrument", "stream_for"]
