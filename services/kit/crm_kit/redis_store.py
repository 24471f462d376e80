"""Redis client factory and settings (loyalty's store, gateway state, events)."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from crm_kit.settings import env_url


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0,
                                health_check_interval=30, decode_responses=False)


@dataclass(frozen=True)
class RedisSettings:
    url: str

    @classmethod
    def from_env(cls, service: str) -> "RedisSettings":
        return cls(url=env_url(f"{service.upper()}_REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss")))

    def open(self) -> redis.Redis:
        return connect(self.url)
