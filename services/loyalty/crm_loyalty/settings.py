"""The loyalty service's configuration, from the environment only (validated
at start-up; a bad value names its variable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_kit.events.bus import EventsSettings
from crm_kit.grpc_server import ServerSettings
from crm_kit.money import validate_currency
from crm_kit.errors import InvalidArgument
from crm_kit.redis_store import RedisSettings
from crm_kit.settings import SettingsError, env_int, env_str

from crm_loyalty.accounts.model import DEFAULT_EARN_RULES, DEFAULT_EXPIRY, EarnRules, ExpiryRule
from crm_loyalty.greetings.settings import GreetingSettings
from crm_loyalty.tiers.model import BASES, DEFAULT_TIERS, TierLadder


@dataclass(frozen=True)
class LoyaltySettings:
    server: ServerSettings
    # The ledger's Redis (LOYALTY_REDIS_URL): AOF with `appendfsync always` (deploy and local stores).
    store: RedisSettings
    # The customer service, asked as the caller whether a customer may be seen.
    customer_target: str = "127.0.0.1:50051"
    # Built in code (tests, tools) without events unless given; from the environment they are on.
    events: EventsSettings = field(default_factory=lambda: EventsSettings(enabled=False))
    # The business day (expiry dates, review dates, the yearly referral cap) is this zone's.
    timezone: str = "Asia/Shanghai"
    # Points per currency unit (LOYALTY_EARN_RULES, e.g. "CNY:1:100" = 1 point per 100 fen).
    earn_rules: EarnRules = EarnRules.parse(DEFAULT_EARN_RULES)
    # When a lot expires (LOYALTY_POINTS_EXPIRY: "months:N" or "end_of_next_year").
    expiry: ExpiryRule = ExpiryRule.parse(DEFAULT_EXPIRY)
    # Tiers, lowest first (LOYALTY_TIERS) and what qualifies (LOYALTY_TIER_BASIS, LOYALTY_TIER_CURRENCY).
    tiers: TierLadder = TierLadder.parse(DEFAULT_TIERS, "paid_amount", "CNY")
    # Days before a review in which a coming downgrade is warned of (GetAccount).
    downgrade_warning_days: int = 30
    # Referral rewards: points to the referrer, at most this many rewarded referrals a calendar year.
    referral_points: int = 500
    referral_yearly_cap: int = 10
    # Jobs: expiry and tier review (idempotent, hourly), the tier.changed outbox sweep.
    expiry_interval_seconds: int = 3600
    tier_review_interval_seconds: int = 3600
    outbox_sweep_seconds: int = 30
    # Care plans (crm_loyalty/greetings/settings.py); built in code: no scheduled run unless given.
    greetings: GreetingSettings = field(default_factory=lambda: GreetingSettings(check_seconds=0))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls) -> "LoyaltySettings":
        zone = env_str("LOYALTY_TIMEZONE", "Asia/Shanghai")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"environment variable LOYALTY_TIMEZONE={zone!r} is not a time zone") from None
        basis = env_str("LOYALTY_TIER_BASIS", "paid_amount", choices=BASES)
        currency = env_str("LOYALTY_TIER_CURRENCY", "CNY")
        try:
            validate_currency(currency, "LOYALTY_TIER_CURRENCY")
        except InvalidArgument:
            raise SettingsError(f"environment variable LOYALTY_TIER_CURRENCY={currency!r} "
                                "is not an ISO 4217 code") from None
        return cls(
            server=ServerSettings.from_env("loyalty", 50054, 9104),
            store=RedisSettings.from_env("loyalty"),
            customer_target=env_str("CUSTOMER_GRPC_TARGET", "127.0.0.1:50051"),
            events=EventsSettings.from_env(),
            timezone=zone,
            earn_rules=_parsed("LOYALTY_EARN_RULES", DEFAULT_EARN_RULES, EarnRules.parse),
            expiry=_parsed("LOYALTY_POINTS_EXPIRY", DEFAULT_EXPIRY, ExpiryRule.parse),
            tiers=_parsed("LOYALTY_TIERS", DEFAULT_TIERS, lambda raw: TierLadder.parse(raw, basis, currency)),
            downgrade_warning_days=env_int("LOYALTY_DOWNGRADE_WARNING_DAYS", 30, minimum=0, maximum=366),
            referral_points=env_int("LOYALTY_REFERRAL_POINTS", 500, minimum=0, maximum=10_000_000),
            referral_yearly_cap=env_int("LOYALTY_REFERRAL_YEARLY_CAP", 10, minimum=0, maximum=10_000),
            expiry_interval_seconds=env_int("LOYALTY_EXPIRY_INTERVAL_SECONDS", 3600, minimum=0, maximum=86400),
            tier_review_interval_seconds=env_int("LOYALTY_TIER_REVIEW_INTERVAL_SECONDS", 3600, minimum=0,
                                                 maximum=86400),
            outbox_sweep_seconds=env_int("LOYALTY_OUTBOX_SWEEP_SECONDS", 30, minimum=1, maximum=3600),
            greetings=GreetingSettings.from_env(),
        )


def _parsed(name: str, default: str, parse):
    raw = env_str(name, default)
    try:
        return parse(raw)
    except ValueError as err:
        raise SettingsError(f"environment variable {name}: {err}") from None
