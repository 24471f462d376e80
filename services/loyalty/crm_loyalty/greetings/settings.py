"""The care plans' configuration, from the environment (validated at start-up;
a bad value names its variable)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_kit.settings import SettingsError, env_int, env_optional, env_str, env_url

from crm_loyalty.greetings.model import CHANNELS, LANGUAGES, parse_solar_holidays

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DEV_SMS_KEY = "dev-sms-signing-key-not-for-production"


@dataclass(frozen=True)
class GreetingSettings:
    # The daily run starts at this local time (LOYALTY_GREETING_TIME), in LOYALTY_TIMEZONE.
    greeting_time: time = time(9, 30)
    timezone: str = "Asia/Shanghai"
    # Nothing is sent outside [start, end) local time (LOYALTY_SENDING_HOURS "09:00-21:00").
    sending_hours: tuple[time, time] = (time(9, 0), time(21, 0))
    # Configured solar holidays (LOYALTY_SOLAR_HOLIDAYS "new_year=01-01,national_day=10-01").
    solar_holidays: dict[str, tuple[int, int]] = field(default_factory=lambda: {"new_year": (1, 1)})
    # Channels in order of preference (LOYALTY_GREETING_CHANNELS); the first with consent is used.
    channels: tuple[str, ...] = ("sms", "email")
    default_language: str = "zh"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_from: str = "greetings@crm.local"
    sms_url: str = "http://127.0.0.1:8025/sms"
    sms_key: str = DEV_SMS_KEY
    # Sends in flight at once during a run.
    workers: int = 8
    # A failed greeting is tried at most this many times (one per run).
    max_attempts: int = 3
    # How long a run holds a claim before another may take it over (a run that died mid-send).
    lease_seconds: int = 300
    # How often the scheduler looks whether today's run is due (0: no scheduled runs).
    check_seconds: int = 60
    # The service's own token for the customer service (production); minted from the dev secret when empty.
    service_token: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def within_sending_hours(self, local: time) -> bool:
        start, end = self.sending_hours
        return start <= local < end

    @classmethod
    def from_env(cls) -> "GreetingSettings":
        zone = env_str("LOYALTY_TIMEZONE", "Asia/Shanghai")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"environment variable LOYALTY_TIMEZONE={zone!r} is not a time zone") from None
        greeting_time = _clock("LOYALTY_GREETING_TIME", env_str("LOYALTY_GREETING_TIME", "09:30"))
        start, _, end = env_str("LOYALTY_SENDING_HOURS", "09:00-21:00").partition("-")
        hours = (_clock("LOYALTY_SENDING_HOURS", start), _clock("LOYALTY_SENDING_HOURS", end))
        if not hours[0] < hours[1]:
            raise SettingsError("environment variable LOYALTY_SENDING_HOURS must be HH:MM-HH:MM, start before end")
        if not hours[0] <= greeting_time < hours[1]:
            raise SettingsError("environment variable LOYALTY_GREETING_TIME must lie within LOYALTY_SENDING_HOURS")
        try:
            holidays = parse_solar_holidays(os.environ.get("LOYALTY_SOLAR_HOLIDAYS", "new_year=01-01"))  # "" = none
        except ValueError as err:
            raise SettingsError(f"environment variable LOYALTY_SOLAR_HOLIDAYS: {err}") from None
        channels = tuple(c.strip() for c in env_str("LOYALTY_GREETING_CHANNELS", "sms,email").split(",") if c.strip())
        if not channels or any(c not in CHANNELS for c in channels) or len(set(channels)) != len(channels):
            raise SettingsError("environment variable LOYALTY_GREETING_CHANNELS must list sms and/or email")
        sms_key = env_str("LOYALTY_SMS_KEY", DEV_SMS_KEY)
        if len(sms_key) < 16:
            raise SettingsError("environment variable LOYALTY_SMS_KEY must be at least 16 characters")
        sender = env_str("LOYALTY_SMTP_FROM", "greetings@crm.local")
        if "@" not in sender or any(c in sender for c in "\r\n"):
            raise SettingsError("environment variable LOYALTY_SMTP_FROM must be an e-mail address")
        return cls(
            greeting_time=greeting_time, timezone=zone, sending_hours=hours, solar_holidays=holidays,
            channels=channels,
            default_language=env_str("LOYALTY_GREETING_LANGUAGE", "zh", choices=LANGUAGES),
            smtp_host=env_str("LOYALTY_SMTP_HOST", "127.0.0.1"),
            smtp_port=env_int("LOYALTY_SMTP_PORT", 2525, minimum=1, maximum=65535),
            smtp_from=sender,
            sms_url=env_url("LOYALTY_SMS_URL", "http://127.0.0.1:8025/sms", schemes=("http", "https")),
            sms_key=sms_key,
            workers=env_int("LOYALTY_GREETING_WORKERS", 8, minimum=1, maximum=64),
            max_attempts=env_int("LOYALTY_GREETING_MAX_ATTEMPTS", 3, minimum=1, maximum=20),
            lease_seconds=env_int("LOYALTY_GREETING_LEASE_SECONDS", 300, minimum=30, maximum=86400),
            check_seconds=env_int("LOYALTY_GREETING_CHECK_SECONDS", 60, minimum=0, maximum=3600),
            service_token=env_optional("LOYALTY_SERVICE_TOKEN") or "",
        )


def _clock(name: str, raw: str) -> time:
    m = _CLOCK.match(raw.strip())
    if not m:
        raise SettingsError(f"environment variable {name}: {raw!r} is not HH:MM")
    return time(int(m.group(1)), int(m.group(2)))
