"""The sales service's configuration, from the environment only (validated
at start-up; a bad value names its variable)."""

from __future__ import annotations

from dataclasses import dataclass, field

from crm_kit.events.bus import EventsSettings
from crm_kit.grpc_server import ServerSettings
from crm_kit.mongo import MongoSettings
from crm_kit.settings import SettingsError, env_int, env_str

from crm_sales.opportunities.model import DEFAULT_STAGES, StageSet, parse_stages
from crm_sales.profitability.daily_reports.model import Deadline
from crm_sales.products.model import DEFAULT_GRADES, GradeBand, parse_grade_bands
from crm_sales.profitability.expenses.model import DEFAULT_CATEGORIES as DEFAULT_EXPENSE_CATEGORIES, \
    parse_categories
from crm_sales.profitability.grades.model import DEFAULT_BANDS as DEFAULT_VALUE_BANDS, ValueBands
from crm_sales.profitability.grades.model import parse_bands as parse_value_bands


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
    # Margin grades, best first: bands of margin rate in basis points (SALES_MARGIN_GRADES).
    margin_grades: tuple[GradeBand, ...] = parse_grade_bands(DEFAULT_GRADES)
    # Pipeline stages in order with win probabilities in percent (SALES_OPPORTUNITY_STAGES).
    opportunity_stages: StageSet = parse_stages(DEFAULT_STAGES)
    # Contracts: how often the expiry check runs (hourly: a restart never skips
    # a day; a reminder goes once per end date however often it runs; 0 off),
    # and how many days before a contract's end its reminder goes out.
    contract_check_interval_seconds: int = 3600
    contract_reminder_days: int = 30
    # Payments: a confirmed order's default plan is one instalment due this many days after confirmation.
    payment_terms_days: int = 30
    # How often the whole book's overdue gauge is recomputed (a scan of every plan; 0 off).
    overdue_refresh_seconds: int = 900
    # The 360 card skips the sales books of a customer without a presence mark once this process has
    # backfilled the marks (crm_sales.customer_sales.store): at start, and once more this long after, which
    # marks books an older replica began while this one rolled out (SALES_PRESENCE_BACKFILL_SECONDS; a paced
    # scan of the books' hints and of the marks; 0: no skipping, the card reads every book).
    presence_backfill_seconds: int = 900
    # The business time zone: it decides the month a timestamp counts in (profitability; SALES_TIMEZONE).
    timezone: str = "Asia/Shanghai"
    # Daily reports: due at this local time (SALES_TIMEZONE) of the day, "HH:MM", or "HH:MM+1" the morning
    # after (SALES_DAILY_REPORT_DEADLINE); a missed one may still be sent this many days late, marked late.
    daily_report_deadline: str = "21:00"
    daily_report_late_days: int = 7
    # Customer value grades: bands of cumulative share of last year's positive margin, best first
    # (SALES_VALUE_GRADE_BANDS; D = none or negative), counted in one currency (SALES_VALUE_GRADE_CURRENCY);
    # how often the yearly job looks whether the year that ended is graded (hourly; 0 off).
    value_grade_bands: ValueBands = parse_value_bands(DEFAULT_VALUE_BANDS)
    value_grade_currency: str = "CNY"
    value_grade_check_interval_seconds: int = 3600
    # How often the business gauges (margin and net contribution by value grade per month) are refreshed
    # from the roll-ups (SALES_BUSINESS_METRICS_REFRESH_SECONDS; 0 off).
    business_metrics_refresh_seconds: int = 300
    # Sales expenses: the categories a rep picks from (SALES_EXPENSE_CATEGORIES, comma-separated).
    expense_categories: tuple[str, ...] = parse_categories(DEFAULT_EXPENSE_CATEGORIES)

    @classmethod
    def from_env(cls) -> "SalesSettings":
        return cls(
            server=ServerSettings.from_env("sales", 50052, 9102),
            store=MongoSettings.from_env("sales"),
            customer_target=env_str("CUSTOMER_GRPC_TARGET", "127.0.0.1:50051"),
            abandoned_write_seconds=env_int("SALES_ABANDONED_WRITE_SECONDS", 30, minimum=1, maximum=3600),
            events=EventsSettings.from_env(),
            margin_grades=parse_grade_bands(env_str("SALES_MARGIN_GRADES", DEFAULT_GRADES)),
            opportunity_stages=parse_stages(env_str("SALES_OPPORTUNITY_STAGES", DEFAULT_STAGES)),
            contract_check_interval_seconds=env_int("SALES_CONTRACT_CHECK_INTERVAL_SECONDS", 3600, minimum=0,
                                                    maximum=86400),
            contract_reminder_days=env_int("SALES_CONTRACT_REMINDER_DAYS", 30, minimum=1, maximum=366),
            payment_terms_days=env_int("SALES_PAYMENT_TERMS_DAYS", 30, minimum=0, maximum=3650),
            overdue_refresh_seconds=env_int("SALES_OVERDUE_REFRESH_SECONDS", 900, minimum=0, maximum=86400),
            presence_backfill_seconds=env_int("SALES_PRESENCE_BACKFILL_SECONDS", 900, minimum=0, maximum=86400),
            timezone=_zone(env_str("SALES_TIMEZONE", "Asia/Shanghai")),
            daily_report_deadline=_deadline(env_str("SALES_DAILY_REPORT_DEADLINE", "21:00")),
            daily_report_late_days=env_int("SALES_DAILY_REPORT_LATE_DAYS", 7, minimum=0, maximum=366),
            value_grade_bands=parse_value_bands(env_str("SALES_VALUE_GRADE_BANDS", DEFAULT_VALUE_BANDS)),
            value_grade_currency=_currency("SALES_VALUE_GRADE_CURRENCY", env_str("SALES_VALUE_GRADE_CURRENCY", "CNY")),
            value_grade_check_interval_seconds=env_int("SALES_VALUE_GRADE_CHECK_INTERVAL_SECONDS", 3600, minimum=0,
                                                       maximum=86400),
            business_metrics_refresh_seconds=env_int("SALES_BUSINESS_METRICS_REFRESH_SECONDS", 300, minimum=0,
                                                     maximum=86400),
            expense_categories=parse_categories(env_str("SALES_EXPENSE_CATEGORIES", DEFAULT_EXPENSE_CATEGORIES)),
        )


def _currency(variable: str, code: str) -> str:
    from crm_kit.errors import InvalidArgument
    from crm_kit.money import validate_currency

    try:
        return validate_currency(code, variable)
    except InvalidArgument:
        raise SettingsError(f"environment variable {variable}: {code!r} is not an ISO 4217 currency code") from None


def _deadline(text: str) -> str:
    try:
        return str(Deadline.parse(text))
    except ValueError as err:
        raise SettingsError(f"SALES_DAILY_REPORT_DEADLINE: {err}") from None


def _zone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from crm_kit.settings import SettingsError
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"environment variable SALES_TIMEZONE: {name!r} is not a time zone") from None
    return name
