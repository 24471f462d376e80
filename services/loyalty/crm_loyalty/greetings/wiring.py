"""The care plans' wiring, called by the composition root (one block there)."""

from __future__ import annotations

from crm.loyalty.v1 import greeting_service_pb2, greeting_service_pb2_grpc
from crm_kit.jobs import PeriodicJob

from crm_loyalty.accounts.store import account_key
from crm_loyalty.greetings.channels import SmsChannel, SmtpChannel
from crm_loyalty.greetings.contacts import CustomerContacts, SystemToken
from crm_loyalty.greetings.events import erasure_follower
from crm_loyalty.greetings.service import DailySchedule, GreetingService
from crm_loyalty.greetings.servicer import GreetingServicer
from crm_loyalty.greetings.settings import GreetingSettings
from crm_loyalty.greetings.store import GreetingStore

SERVICE_NAME = greeting_service_pb2.DESCRIPTOR.services_by_name["GreetingService"].full_name


def accounts_among(redis_client):
    """Which of a page of customer ids have an account (the accounts feature
    opens one on customer.created): one pipelined round per page."""
    def among(customer_ids: list[str]) -> set[str]:
        pipe = redis_client.pipeline(transaction=False)
        for cid in customer_ids:
            pipe.exists(account_key(cid))
        return {cid for cid, found in zip(customer_ids, pipe.execute()) if found}
    return among


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
        store, contacts, channels, settings, accounts_among(app.redis),
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
