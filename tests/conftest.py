"""Shared fixtures: real FerretDB and Redis, started once per session on free
loopback ports in a temporary folder (or the servers named by
CUSTOMER_MONGODB_URI / LOYALTY_REDIS_URL when set), real gRPC servers."""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass

import pytest

from crm_kit.auth import AuthSettings, mint_dev_token, new_grant_keys
from crm_kit.clock import local_date, now_ms
from crm_kit.grpc_server import ServerSettings, ServiceHost
from crm_kit.localstores import start_local_stores
from crm_kit.mongo import MongoSettings

SECRET = "test-secret-" + "x" * 40
GRANT_SIGNING_KEY, GRANT_VERIFY_KEY = new_grant_keys()
# The gateway's: it relays customer grants and holds no grant key.
AUTH_WITHOUT_GRANTS = AuthSettings(issuer="crm", audience="crm", dev_secret=SECRET, jwks_file=None)
# The services' (the customer service signs grants, sales and loyalty read them; tests give all the pair).
AUTH = AuthSettings(issuer="crm", audience="crm", dev_secret=SECRET, jwks_file=None,
                    grant_signing_key=GRANT_SIGNING_KEY, grant_verify_key=GRANT_VERIFY_KEY)


def business_today():
    """Today in the sales service's default business time zone (SALES_TIMEZONE,
    Asia/Shanghai): the day its due dates, overdue counts and contract states
    go by. From 16:00 UTC on it is already tomorrow there."""
    from crm_sales.profitability.months import DEFAULT_ZONE

    return local_date(now_ms(), DEFAULT_ZONE)


@dataclass
class Stores:
    mongodb_uri: str
    redis_url: str
    # The event Redis (EVENTS_REDIS_URL when set, else a local one).
    events_redis_url: str = ""


@pytest.fixture(scope="session")
def stores(tmp_path_factory):
    mongo_uri, redis_url = os.environ.get("CUSTOMER_MONGODB_URI"), os.environ.get("LOYALTY_REDIS_URL")
    events_url = os.environ.get("EVENTS_REDIS_URL")
    if mongo_uri and redis_url:
        yield Stores(mongo_uri, redis_url, events_url or redis_url)
        return
    local = start_local_stores(tmp_path_factory.mktemp("stores"))
    try:
        yield Stores(local.mongodb_uri, local.redis_url, events_url or local.events_redis_url)
    finally:
        local.stop()


@pytest.fixture(scope="session")
def events_redis_url(stores) -> str:
    return stores.events_redis_url


def token(subject: str = "rep-a", role: str = "rep", **kw) -> str:
    return mint_dev_token(SECRET, subject, role, **kw)


@pytest.fixture
def phone():
    """A fresh, valid mainland mobile number each call (tests share one store)."""
    used: set[str] = set()

    def make() -> str:
        while True:
            number = f"+86139{random.randrange(10**8):08d}"
            if number not in used:
                used.add(number)
                return number
    return make


def server_settings(name: str) -> ServerSettings:
    return ServerSettings(name=name, listen_addr="127.0.0.1:0", metrics_port=0, workers=16, grace_seconds=1.0,
                          log_level="INFO", auth=AUTH)


@dataclass
class RunningServices:
    targets: dict[str, str]
    hosts: dict[str, ServiceHost]
    customer_db_name: str
    mongodb_uri: str
    sales_db_name: str = ""
    # The event Redis the services publish to and consume from.
    events_redis_url: str = ""


def start_customer_and_sales(mongodb_uri: str, events_url: str, suffix: str) -> RunningServices:
    """The customer and sales services as real gRPC servers in this process, on databases named by `suffix`
    (the customer service first: sales asks it who owns a customer)."""
    from crm_customer.bootstrap import build_host as build_customer
    from crm_customer.settings import CustomerSettings
    from crm_kit.events.bus import EventsSettings
    from crm_sales.bootstrap import build_host as build_sales
    from crm_sales.settings import SalesSettings

    customer_db, sales_db = f"crm_customer_test_{suffix}", f"crm_sales_test_{suffix}"
    events = EventsSettings(url=events_url)
    hosts = {"customer": build_customer(CustomerSettings(server_settings("customer"),
                                                         MongoSettings(mongodb_uri, customer_db), "CN",
                                                         events=events))}
    targets = {"customer": f"127.0.0.1:{hosts['customer'].start()}"}
    hosts["sales"] = build_sales(SalesSettings(server_settings("sales"), MongoSettings(mongodb_uri, sales_db),
                                               customer_target=targets["customer"], events=events))
    targets["sales"] = f"127.0.0.1:{hosts['sales'].start()}"
    return RunningServices(targets, hosts, customer_db, mongodb_uri, sales_db, events_url)


@pytest.fixture(scope="session")
def services(stores):
    """All four services as real gRPC servers in this process."""
    from crm_kit.events.bus import EventsSettings
    from crm_loyalty.main import LoyaltySettings, build_host as build_loyalty
    from crm_kit.redis_store import RedisSettings
    from crm_kit.mongo import MongoServiceSettings
    from crm_support.main import build_host as build_support

    suffix = uuid.uuid4().hex[:8]
    events = EventsSettings(url=stores.events_redis_url)
    running = start_customer_and_sales(stores.mongodb_uri, stores.events_redis_url, suffix)
    hosts, targets = running.hosts, running.targets
    hosts["support"] = build_support(MongoServiceSettings(server_settings("support"), MongoSettings(
        stores.mongodb_uri, f"crm_support_test_{suffix}")))
    # Loyalty asks the customer service who may see a customer and consumes events (its own groups).
    hosts["loyalty"] = build_loyalty(LoyaltySettings(server_settings("loyalty"), RedisSettings(stores.redis_url),
                                                     customer_target=targets["customer"], events=events))
    targets.update({name: f"127.0.0.1:{hosts[name].start()}" for name in ("support", "loyalty")})
    yield running
    for host in hosts.values():
        host.stop(0.5)


@pytest.fixture(scope="module")
def empty_platform(stores, tmp_path_factory):
    """A customer and a sales service of the module's own, on fresh databases and an event Redis of their own:
    a platform nobody has used yet (what `make run` seeds), for stories about everything the services hold
    (a value grading run grades every customer's year, the session's other sales included). The event Redis is
    its own because two sales services on one would share the `events:sales` stream and the sales consumer
    groups, each taking the other's events."""
    from crm_kit.localstores import start_events_redis, terminate

    folder = tmp_path_factory.mktemp("empty-platform-events")
    events_url, events_server = start_events_redis(folder, log_path=folder / "redis.log")
    try:
        running = start_customer_and_sales(stores.mongodb_uri, events_url, uuid.uuid4().hex[:8])
        try:
            yield running
        finally:
            for host in running.hosts.values():
                host.stop(0.5)
    finally:
        terminate([events_server], 5.0)


@pytest.fixture(scope="session")
def customer_db(services):
    from crm_kit.mongo import connect

    client = connect(services.mongodb_uri, "tests")
    yield client[services.customer_db_name]
    client.close()
