"""The composition root: every store, service, servicer, job and event
consumer of the loyalty process, wired in one place. Tests build the same
graph (`build`) with their own Redis, clock or customer directory.

Consumer groups are per feature (like sales): "loyalty-accounts" (awards,
clawbacks, account opening and erasure), "loyalty-referrals"; each feature
below adds its own."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
import redis

from crm.loyalty.v1 import greeting_service_pb2, loyalty_service_pb2
from crm_kit.grpc_server import ServiceHost

from crm_loyalty.settings import LoyaltySettings

PRODUCER = "loyalty"
log = logging.getLogger("crm.loyalty")

# Each feature adds its gRPC service names here; LoyaltyService first (health checks and alerts ask for it).
SERVICE_NAMES: list[str] = [loyalty_service_pb2.DESCRIPTOR.services_by_name["LoyaltyService"].full_name]
SERVICE_NAMES.append(greeting_service_pb2.DESCRIPTOR.services_by_name["GreetingService"].full_name)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def fsync_policy(store: redis.Redis) -> str:
    """The ledger Redis's `appendfsync` ("" when AOF is off or CONFIG is not allowed, as on some managed Redis)."""
    def value(name: str) -> str:
        answer = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                  for k, v in store.config_get(name).items()}
        return answer.get(name, "")

    try:
        return value("appendfsync") if value("appendonly") == "yes" else ""
    except redis.RedisError:
        return ""


def warn_unless_fsync_always(store: redis.Redis) -> None:
    """An acknowledged award must survive a crash: the ledger's Redis runs AOF with `appendfsync always`."""
    policy = fsync_policy(store)
    if policy != "always":
        log.warning("the loyalty Redis does not run appendfsync always; acknowledged changes may be lost "
                    "in a crash", extra={"fields": {"appendfsync": policy or "unknown"}})


@dataclass
class LoyaltyApp:
    settings: LoyaltySettings
    redis: redis.Redis
    # The event Redis (None with events off) and this process's consumer name for every group.
    events: redis.Redis | None
    consumer: str
    clock: Callable[[], dt.datetime]
    # Feature services by name ("accounts", "tiers", "rewards", "referrals", ...), for tests and tools.
    features: dict = field(default_factory=dict)
    registrations: list = field(default_factory=list)
    jobs: list = field(default_factory=list)

    def register(self, server: grpc.Server) -> None:
        for add in self.registrations:
            add(server)


def build(settings: LoyaltySettings, store: redis.Redis | None = None, *, customers=None,
          clock: Callable[[], dt.datetime] = utc_now) -> LoyaltyApp:
    store = store if store is not None else settings.store.open()
    store.ping()  # fail at start-up, not on first call
    warn_unless_fsync_always(store)
    events = settings.events.open() if settings.events.enabled else None
    app = LoyaltyApp(settings, store, events, f"{socket.gethostname()}-{os.getpid()}", clock)
    # --- features are wired below, one block each -------------------------------
    from crm_loyalty import wiring  # the L1 core (accounts, tiers, rewards, referrals)
    wiring.wire_core(app, customers=customers)
    # greetings: care plans (birthday, anniversary and holiday greetings), their templates and delivery log
    from crm_loyalty.greetings.wiring import wire_greetings
    wire_greetings(app)
    return app


def build_host(settings: LoyaltySettings) -> ServiceHost:
    app = build(settings)
    host = ServiceHost(settings.server, SERVICE_NAMES, app.register, jobs=tuple(app.jobs))
    host.app = app  # tests and tools reach a running host's features (host.app.features)
    return host
