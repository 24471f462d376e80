"""A loyalty service over real gRPC with real Redis and the real customer
service, whose clock a test sets (expiry, tier windows and reviews)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import grpc
import pytest

from crm.customer.v1 import customer_service_pb2_grpc
from crm.loyalty.v1 import loyalty_service_pb2 as lpb, loyalty_service_pb2_grpc
from crm_kit.grpc_server import ServiceHost
from crm_kit.redis_store import RedisSettings
from tests.conftest import server_settings
from tests.service.support import as_, create

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


class Clock:
    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += dt.timedelta(**delta)


@dataclass
class Loyalty:
    stub: loyalty_service_pb2_grpc.LoyaltyServiceStub
    customers: customer_service_pb2_grpc.CustomerServiceStub
    app: object
    clock: Clock

    @property
    def accounts(self):
        return self.app.features["accounts"]

    def customer(self, phone, owner="rep-a") -> str:
        return create(self.customers, phone(), as_(owner)).id

    def account(self, customer_id, who=None) -> lpb.Account:
        return self.stub.GetAccount(lpb.GetAccountRequest(customer_id=customer_id), metadata=who or as_("adm", "admin"))

    def ledger(self, customer_id, who=None) -> list:
        return list(self.stub.ListLedger(lpb.ListLedgerRequest(customer_id=customer_id, page_size=200),
                                         metadata=who or as_("adm", "admin")).entries)

    def adjust(self, customer_id, points, who=None, reason="goodwill", request_id=None):
        return self.stub.AdjustPoints(lpb.AdjustPointsRequest(
            customer_id=customer_id, points=points, reason=reason, request_id=request_id or uuid.uuid4().hex),
            metadata=who or as_("adm", "admin"))


MID_AUTUMN_2026 = dt.date(2026, 9, 25)


def greet(app, customer_id: str, day: dt.date = MID_AUTUMN_2026):
    """One day's greetings for this one customer, by a loyalty app's own greetings feature (its store, contacts
    and settings), not every account in the shared Redis. A customer with no consent on file is skipped and
    logged (no_consent): no channel is involved."""
    from crm_loyalty.greetings.service import GreetingService

    own = app.features["greetings"]
    return GreetingService(own.store, own.contacts, own.channels, own.settings,
                           lambda ids: {customer_id}.intersection(ids),
                           clock=own.clock).run(day)


def start_loyalty(stores, services, *, at: dt.datetime, **settings_fields):
    """A loyalty host with events off (tests drive the ledger directly) and a settable clock."""
    from crm_loyalty.bootstrap import SERVICE_NAMES, build
    from crm_loyalty.settings import LoyaltySettings

    clock = Clock(at)
    settings = LoyaltySettings(server_settings("loyalty"), RedisSettings(stores.redis_url),
                               customer_target=services.targets["customer"], **settings_fields)
    app = build(settings, clock=clock)
    host = ServiceHost(settings.server, SERVICE_NAMES, app.register)
    port = host.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    customer_channel = grpc.insecure_channel(services.targets["customer"])
    loyalty = Loyalty(loyalty_service_pb2_grpc.LoyaltyServiceStub(channel),
                      customer_service_pb2_grpc.CustomerServiceStub(customer_channel), app, clock)
    return loyalty, lambda: (channel.close(), customer_channel.close(), host.stop(0.5))


def code_and_detail(fn):
    with pytest.raises(grpc.RpcError) as err:
        fn()
    return err.value.code(), err.value.details()
