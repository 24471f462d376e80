"""The care plans' wiring, called by the composition root (one block there)."""

from __future__ import annotations

from crm.loyalty.v1 import greeting_service_pb2, greeting_service_pb2_grpc
from crm_kit.jobs import PeriodicJob

from crm_loyalty.accounts.store import ACCOUNT_PATTERN, customer_of_key
from crm_loyalty.greetings.channels import SmsChannel, SmtpChannel
from crm_loyalty.greetings.contacts import CustomerContacts, SystemToken
from crm_loyalty.greetings.events import erasure_follower
from crm_loyalty.greetings.service import DailySchedule, GreetingService
from crm_loyalty.greetings.servicer import GreetingServicer
from crm_loyalty.greetings.settings import GreetingSettings
from crm_loyalty.greetings.store import GreetingStore

SERVICE_NAME = greeting_service_pb2.DESCRIPTOR.services_by_name["GreetingService"].full_name


def account_customer_ids(redis_client):
    """Every account's customer id (the accounts feature opens one on
    customer.created), streamed by SCAN: 100,000 accounts never sit in one list."""
    def scan():
        for key in redis_client.scan_iter(match=ACCOUNT_PATTERN, count=1000):
            yield customer_of_key(key.decode() if isinstance(key, bytes) else key)
    return scan


def wire_greetings(app, contacts: CustomerContacts | None = None) -> GreetingService:
    settings: GreetingSettings = getattr(app.settings, "greetings", None) or GreetingSettings(check_seconds=0)
    store = GreetingStore(app.redis, lease_seconds=settings.lease_seconds, max_attempts=settings.max_attempts)
    if contacts is None:
        contacts = CustomerContacts.connect(app.settings.customer_target,
                                            SystemToken(app.settings.server.auth, settings.service_token))
    channels = {"sms": SmsChannel(settings.sms_url, settings.sms_key),
                "email": SmtpChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from)}
    accounts, tiers = app.features.get("accounts"), app.features.get("tiers")
    ladder = getattr(app.settings, "tiers", None)
    service = GreetingService(
        store, contacts, channels, settings, account_customer_ids(app.redis),
        accounts=accounts, tier_of=tiers.tier_of if tiers is not None else None,
        birthday_gift_points=(lambda code: ladder.get(code).birthday_gift_points) if ladder is not None else None,
        clock=app.clock)
    app.features["greetings"] = service
    app.registrations.append(lambda server: greeting_service_pb2_grpc.add_GreetingServiceServicer_to_server(
        GreetingServicer(service), server))
    if settings.check_seconds:
        app.jobs.append(PeriodicJob("greetings", settings.check_seconds, DailySchedule(service, app.redis).tick))
    if app.events is not None:
        app.jobs.append(erasure_follower(app.events, store, app.consumer))
    return service
