"""The customer service's configuration, from the environment only
(validated at start-up; a bad value names its variable)."""

from __future__ import annotations

from dataclasses import dataclass, field

import phonenumbers

from crm_kit.events.bus import EventsSettings
from crm_kit.grpc_server import ServerSettings
from crm_kit.mongo import MongoSettings
from crm_kit.settings import SettingsError, env_int, env_str


@dataclass(frozen=True)
class CustomerSettings:
    server: ServerSettings
    store: MongoSettings
    default_phone_region: str
    protection_days: int = 30
    pool_release_interval_seconds: int = 3600
    # A revision claimed this long ago whose write never landed was left by a
    # writer that died: the next writer, or the outbox sweep, completes it.
    abandoned_write_seconds: int = 30
    # The 360 card skips the interaction log and visit list of a customer without an activity mark once this
    # process has backfilled the marks (crm_customer.activity): at start, and once more this long after, which
    # marks what an older replica began while this one rolled out (CUSTOMER_PRESENCE_BACKFILL_SECONDS; a paced
    # scan of the logs' and lists' hints and of the marks; 0: no skipping, the card reads both).
    presence_backfill_seconds: int = 900
    # Built in code (tests, tools) without events unless given; from the environment they are on.
    events: EventsSettings = field(default_factory=lambda: EventsSettings(enabled=False))

    @classmethod
    def from_env(cls) -> "CustomerSettings":
        region = env_str("CUSTOMER_DEFAULT_PHONE_REGION", "CN").upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise SettingsError(f"environment variable CUSTOMER_DEFAULT_PHONE_REGION={region!r} "
                                "is not a known region code (e.g. CN, US, GB)")
        return cls(
            server=ServerSettings.from_env("customer", 50051, 9101),
            store=MongoSettings.from_env("customer"),
            default_phone_region=region,
            protection_days=env_int("CUSTOMER_PROTECTION_DAYS", 30, minimum=1, maximum=3650),
            pool_release_interval_seconds=env_int("CUSTOMER_POOL_RELEASE_INTERVAL_SECONDS", 3600, minimum=0),
            abandoned_write_seconds=env_int("CUSTOMER_ABANDONED_WRITE_SECONDS", 30, minimum=1, maximum=3600),
            presence_backfill_seconds=env_int("CUSTOMER_PRESENCE_BACKFILL_SECONDS", 900, minimum=0, maximum=86400),
            events=EventsSettings.from_env(),
        )
