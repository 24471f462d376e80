"""Redis client factory and settings (loyalty's store, gateway state, events)."""

from __future__ import annotations

from dataclasses import dataclass

import time

import redis
from redis.client import Pipeline

from crm_kit import metrics

from crm_kit.settings import env_url


def connect(url: str) -> redis.Redis:
    """A client whose commands land in `store_command_seconds{store="redis"}`, like Mongo's."""
    return instrument(redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0,
                                           health_check_interval=30, decode_responses=False))


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



@dataclass(frozen=True)
class RedisSettings:
    url: str

    @classmethod
    def from_env(cls, service: str) -> "RedisSettings":
        return cls(url=env_url(f"{service.upper()}_REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss")))

    def open(self) -> redis.Redis:
        return connect(self.url)
