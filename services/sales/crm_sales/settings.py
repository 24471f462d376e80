"""The sales service's configuration, from the environment only (validated
at start-up; a bad value names its variable)."""

from __future__ import annotations

from dataclasses import dataclass, field

from crm_kit.events.bus import EventsSettings
from crm_kit.grpc_server import ServerSettings
from crm_kit.mongo import MongoSettings
from crm_kit.settings import env_int, env_str


@dataclass(frozen=True)
class SalesSettings:
    server: ServerSettings
    store: MongoSettings
    # The customer service, asked who owns a customer at the time of each call.
    customer_target: str
    # A revision claimed this long ago whose write never landed was left by a
    # writer that died: the next writer, or the outbox sweep, completes it.
    abandoned_write_seconds: int = 30
    # Built in code (tests, tools) without events unless given; from the environment they are on.
    events: EventsSettings = field(default_factory=lambda: EventsSettings(enabled=False))

    @classmethod
    def from_env(cls) -> "SalesSettings":
        return cls(
            server=ServerSettings.from_env("sales", 50052, 9102),
            store=MongoSettings.from_env("sales"),
            customer_target=env_str("CUSTOMER_GRPC_TARGET", "127.0.0.1:50051"),
            abandoned_write_seconds=env_int("SALES_ABANDONED_WRITE_SECONDS", 30, minimum=1, maximum=3600),
            events=EventsSettings.from_env(),
        )
