"""Gateway configuration from the environment, validated at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from crm_kit.auth import AuthSettings
from crm_kit.events.bus import EventsSettings
from crm_kit.settings import env_address, env_float, env_int, env_str, env_url

from crm_gateway.ratelimit import RateLimitSettings

SERVICES = ("customer", "sales", "support", "loyalty")
DEFAULT_PORTS = {"customer": 50051, "sales": 50052, "support": 50053, "loyalty": 50054}


@dataclass(frozen=True)
class GatewaySettings:
    targets: dict[str, str]
    grpc_timeout_seconds: float
    list_timeout_seconds: float
    max_body_bytes: int
    redis_url: str
    idempotency_ttl_seconds: int
    auth: AuthSettings
    log_level: str
    rate_limits: RateLimitSettings | None = None  # None: no limits (tests that build settings by hand)
    # The 360 card's deadline budget: every section in parallel within it (card.py).
    card_budget_seconds: float = 1.0
    proxy_hops: int = 0  # trusted proxies in front that append to X-Forwarded-For
    # The event Redis: the gateway consumes customer.erased (erasure.py). None: no consumer.
    events: EventsSettings | None = None

    @classmethod
    def from_env(cls) -> "GatewaySettings":
        return cls(
            targets={name: env_address(f"{name.upper()}_GRPC_TARGET", f"127.0.0.1:{DEFAULT_PORTS[name]}")
                     for name in SERVICES},
            grpc_timeout_seconds=env_float("GATEWAY_GRPC_TIMEOUT_SECONDS", 2.0, minimum=0.05),
            # Lists filter on non-key fields: a scan on FerretDB/SQLite (see README).
            list_timeout_seconds=env_float("GATEWAY_LIST_TIMEOUT_SECONDS", 15.0, minimum=0.05),
            max_body_bytes=env_int("GATEWAY_MAX_BODY_BYTES", 64 * 1024, minimum=1024, maximum=16 * 1024 * 1024),
            redis_url=env_url("GATEWAY_REDIS_URL", "redis://127.0.0.1:6379/1", schemes=("redis", "rediss")),
            idempotency_ttl_seconds=env_int("GATEWAY_IDEMPOTENCY_TTL_SECONDS", 24 * 3600, minimum=60),
            auth=AuthSettings.from_env(),
            log_level=env_str("CRM_LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")),
            rate_limits=RateLimitSettings.from_env(),
            # The client address (the anonymous rate-limit key) is the one the
            # n-th proxy from the right saw; 0 trusts no header (spoofable otherwise).
            card_budget_seconds=env_float("GATEWAY_CARD_BUDGET_SECONDS", 1.0, minimum=0.05),
            proxy_hops=env_int("GATEWAY_PROXY_HOPS", 0, minimum=0, maximum=5),
            events=EventsSettings.from_env(),
        )
