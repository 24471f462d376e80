"""Greetings against the real customer service, real Redis, a real SMTP
server and a real HTTP SMS endpoint (the local sink, crm_cli.sink): exactly
one greeting per customer, occasion and year, only with consent granted at
the moment of sending, never twice after a restart or with two runs at once."""

from __future__ import annotations

import socket
import threading
import time
from datetime import date, datetime, timezone

import grpc
import pytest
from lunardate import LunarDate
from prometheus_client import REGISTRY

from crm.common.v1 import common_pb2
from crm.customer.v1 import customer_service_pb2 as cpb
from crm.loyalty.v1 import greeting_service_pb2 as gpb, greeting_service_pb2_grpc as gpb_grpc
from crm_cli.sink import Sink
from crm_kit.events.bus import connect as connect_events
from crm_kit.grpc_server import ServiceHost
from crm_kit.redis_store import connect
from crm_loyalty.greetings.channels import SmsChannel, SmtpChannel, sign
from crm_loyalty.greetings.contacts import CustomerContacts, SystemToken
from crm_loyalty.greetings.events import erasure_follower
from crm_loyalty.greetings.service import DailySchedule, GreetingService
from crm_loyalty.greetings.servicer import GreetingServicer
from crm_loyalty.greetings.settings import GreetingSettings
from crm_loyalty.greetings.store import GreetingStore
from tests.conftest import AUTH, server_settings
from tests.service.support import as_, code_of, create

MID_AUTUMN_2026 = date(2026, 9, 25)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sink():
    running = Sink(smtp_port=_free_port(), http_port=0).start()
    yield running
    running.stop()


@pytest.fixture
def make_service(services, stores, sink):
    """A fresh greeting service each call, as a new process would build it."""
    made = []

    def build(customer_ids, clock=None, loyalty=None, page_size=0, **overrides) -> GreetingService:
        """`customer_ids`: the run's customers as a list, or a callable answering which of a page's ids are."""
        settings = GreetingSettings(smtp_port=sink.smtp_port, sms_url=f"{sink.url}/sms", solar_holidays={},
                                    workers=4, **overrides)
        store = GreetingStore(connect(stores.redis_url), lease_seconds=settings.lease_seconds,
                              max_attempts=settings.max_attempts)
        contacts = CustomerContacts.connect(services.targets["customer"], SystemToken(AUTH), page_size)
        channels = {"sms": SmsChannel(settings.sms_url, settings.sms_key),
                    "email": SmtpChannel("127.0.0.1", sink.smtp_port, settings.smtp_from)}
        core = {}
        if loyalty is not None:  # the loyalty core of the running service: accounts, tiers, the ladder
            ladder = loyalty.settings.tiers
            core = {"accounts": loyalty.features["accounts"], "tier_of": loyalty.features["tiers"].tier_of,
                    "birthday_gift_points": lambda code: ladder.get(code).birthday_gift_points}
        source = customer_ids if callable(customer_ids) else \
            (lambda page, wanted=frozenset(customer_ids): wanted.intersection(page))
        service = GreetingService(store, contacts, channels, settings, source,
                                  **({"clock": clock} if clock else {}), **core)
        made.append(service)
        return service

    return build


@pytest.fixture(scope="module")
def customers(services):
    from crm.customer.v1 import customer_service_pb2_grpc

    channel = grpc.insecure_channel(services.targets["customer"])
    yield customer_service_pb2_grpc.CustomerServiceStub(channel)
    channel.close()


def _sent_to(sink, addresses) -> list[dict]:
    wanted = set(addresses)
    return [m for m in sink.messages()
            if (m["to"] in wanted if m["channel"] == "sms" else bool(wanted & set(m["to"])))]


def test_mid_autumn_greets_each_customer_with_sms_consent_exactly_once(customers, make_service, sink, phone):
    granted = [create(customers, phone(), consent_sms=cpb.Consent(state="granted")) for _ in range(3)]
    unknown = create(customers, phone())
    withdrawn = create(customers, phone(), consent_sms=cpb.Consent(state="withdrawn"))
    everyone = [c.id for c in (*granted, unknown, withdrawn)]
    numbers = [c.phones[0] for c in (*granted, unknown, withdrawn)]

    def counted(channel, outcome):
        return REGISTRY.get_sample_value("crm_loyalty_greetings_total",
                                         {"occasion": "mid_autumn", "channel": channel, "outcome": outcome}) or 0

    before = counted("sms", "sent"), counted("none", "skipped")
    first = make_service(everyone).run(MID_AUTUMN_2026)
    assert (counted("sms", "sent") - before[0], counted("none", "skipped") - before[1]) == (3, 2)

    got = _sent_to(sink, numbers)
    assert sorted(m["to"] for m in got) == sorted(c.phones[0] for c in granted)
    assert all(m["channel"] == "sms" and "中秋" in m["text"] and m["idempotency_key"] == m["message_id"] for m in got)
    assert (first.sent, first.skipped, first.failed) == (3, 2, 0)
    # The run's record: who, when, the same counts, ended.
    assert make_service(everyone).store.get_run(first.run_id) == first
    assert first.started_by == "system:greetings" and first.finished_at >= first.started_at
    assert first.stopped_reason == "" and first.customers == 5

    # A restarted service (new instance, same stores) sends nothing new.
    second = make_service(everyone).run(MID_AUTUMN_2026)
    assert len(_sent_to(sink, numbers)) == 3
    assert (second.sent, second.skipped, second.failed) == (0, 0, 0)
    assert second.already_done == 5

    log = make_service(everyone).store.deliveries(unknown.id, 10)
    assert [(d.occasion, d.year, d.outcome, d.reason) for d in log] == [("mid_autumn", 2026, "skipped", "no_consent")]
    log = make_service(everyone).store.deliveries(granted[0].id, 10)
    assert [(d.occasion, d.channel, d.outcome) for d in log] == [("mid_autumn", "sms", "sent")]


def test_two_runs_at_once_send_each_greeting_once(customers, make_service, sink, phone):
    people = [create(customers, phone(), consent_sms=cpb.Consent(state="granted")) for _ in range(8)]
    ids = [c.id for c in people]
    replicas = [make_service(ids), make_service(ids)]
    summaries = []
    threads = [threading.Thread(target=lambda s=s: summaries.append(s.run(MID_AUTUMN_2026))) for s in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = _sent_to(sink, [c.phones[0] for c in people])
    assert sorted(m["to"] for m in got) == sorted(c.phones[0] for c in people)
    assert sum(s.sent for s in summaries) == 8


def test_a_greeting_held_by_a_live_run_waits_and_one_left_by_a_dead_run_is_taken_over(customers, make_service, sink,
                                                                                       phone):
    from datetime import timedelta

    held, left = (create(customers, phone(), consent_sms=cpb.Consent(state="granted")) for _ in range(2))
    store = make_service([]).store
    now = datetime.now(timezone.utc)
    assert store.claim(held.id, "mid_autumn:2026", "run_alive", now)[0] == "new"
    assert store.claim(left.id, "mid_autumn:2026", "run_dead", now - timedelta(seconds=store.lease_ms / 1000 + 60))[0] \
        == "new"
    summary = make_service([held.id, left.id]).run(MID_AUTUMN_2026)
    assert summary.sent == 1
    assert _sent_to(sink, held.phones) == [] and len(_sent_to(sink, left.phones)) == 1
    assert store.state_of(held.id, "mid_autumn:2026") == "queued"  # still the live run's to finish
    assert not store.done_on([held.id], MID_AUTUMN_2026)  # so a later run asks again


def test_with_the_customer_service_down_the_run_stops_and_a_later_one_greets(customers, make_service, sink, phone):
    person = create(customers, phone(), consent_sms=cpb.Consent(state="granted"))
    down = make_service([person.id])
    down.contacts = CustomerContacts.connect(f"127.0.0.1:{_free_port()}", SystemToken(AUTH))  # nothing listens
    stopped = down.run(MID_AUTUMN_2026)
    assert (stopped.stopped_reason, stopped.errors, stopped.sent) == ("customer_service_unavailable", 1, 0)
    assert stopped.finished_at is not None
    assert down.store.get_run(stopped.run_id) == stopped
    assert down.store.state_of(person.id, "mid_autumn:2026") == ""  # nothing claimed, nothing sent
    assert make_service([person.id]).run(MID_AUTUMN_2026).sent == 1
    assert len(_sent_to(sink, person.phones)) == 1


def test_consent_is_read_at_the_moment_of_sending(customers, make_service, sink, phone):
    from google.protobuf import field_mask_pb2

    person = create(customers, phone(), emails=[f"moon.{time.time_ns()}@example.com"],
                    consent_email=cpb.Consent(state="granted"))
    customers.UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=cpb.Customer(id=person.id, consent_email=cpb.Consent(state="withdrawn")),
        update_mask=field_mask_pb2.FieldMask(paths=["consent_email"]), etag=person.etag), metadata=as_())
    summary = make_service([person.id]).run(MID_AUTUMN_2026)
    assert summary.skipped == 1 and _sent_to(sink, person.emails) == []


def test_a_lunar_birthday_is_greeted_by_email_on_its_gregorian_day(customers, make_service, sink, phone):
    # Born on lunar 1991-08-30; the eighth month of 2026 has 29 days, so the day is lunar 8/29.
    address = f"li.{time.time_ns()}@example.com"
    person = create(customers, phone(), display_name="李四", emails=[address],
                    birthday=cpb.Anniversary(calendar="lunar", year=1991, month=8, day=30),
                    consent_email=cpb.Consent(state="granted"))
    day = LunarDate(2026, 8, 29).to_solar_date()
    assert day == date(2026, 10, 9)

    assert make_service([person.id]).run(date(2026, 10, 8)).sent == 0
    summary = make_service([person.id]).run(day)
    assert summary.sent == 1
    (mail,) = _sent_to(sink, [address])
    assert mail["subject"] == "生日快乐" and "李四" in mail["text"]
    assert make_service([person.id]).run(day).sent == 0
    log = make_service([person.id]).store.deliveries(person.id, 5)
    assert [(d.occasion, d.year, d.channel, d.outcome) for d in log] == [("birthday", 2026, "email", "sent")]


def test_a_leap_month_birthday_in_a_year_without_it_is_greeted_in_the_ordinary_month(customers, make_service, sink,
                                                                                      phone):
    # 1990 had a leap fifth month; 2026 has none: lunar 5/10 of 2026.
    person = create(customers, phone(), display_name="Ann Lee",
                    birthday=cpb.Anniversary(calendar="lunar", year=1990, month=5, day=10, leap_month=True),
                    consent_sms=cpb.Consent(state="granted"))
    summary = make_service([person.id]).run(LunarDate(2026, 5, 10).to_solar_date())
    assert summary.sent == 1
    (sms,) = _sent_to(sink, person.phones)
    assert sms["text"].startswith("Dear Ann Lee, happy birthday")


def test_a_failed_sms_is_retried_by_the_next_run_and_sent_once(customers, make_service, sink, phone):
    person = create(customers, phone(), consent_sms=cpb.Consent(state="granted"))
    sink.fail_sms = 1
    first = make_service([person.id]).run(MID_AUTUMN_2026)
    assert (first.sent, first.failed) == (0, 1)
    assert _sent_to(sink, person.phones) == []
    second = make_service([person.id]).run(MID_AUTUMN_2026)
    assert second.sent == 1
    assert len(_sent_to(sink, person.phones)) == 1
    log = make_service([person.id]).store.deliveries(person.id, 5)
    assert [(d.outcome, d.reason) for d in log] == [("sent", ""), ("failed", "sms: http 503")]
    assert log[0].message_id == log[1].message_id  # the same idempotency key on the retry


def test_the_sms_endpoint_refuses_a_bad_signature(sink):
    import urllib.error
    import urllib.request

    body = b'{"message_id":"msg_x","to":"+8613900000000","text":"hi"}'
    for signature in ("sha256=" + "0" * 64, sign(b"another-key-of-enough-length", body)):
        request = urllib.request.Request(f"{sink.url}/sms", data=body, method="POST",
                                         headers={"X-Signature": signature, "Idempotency-Key": "msg_x"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=5)
        assert err.value.code == 401
    assert not [m for m in sink.messages() if m.get("message_id") == "msg_x"]


def test_customer_erased_erases_the_delivery_log(customers, make_service, services, events_redis_url, phone):
    person = create(customers, phone(), consent_sms=cpb.Consent(state="granted"))
    service = make_service([person.id])
    service.run(MID_AUTUMN_2026)
    assert service.store.deliveries(person.id, 5)
    follower = erasure_follower(connect_events(events_redis_url), service.store, "test-greetings")
    follower.ensure_groups()
    customers.EraseCustomer(cpb.EraseCustomerRequest(id=person.id), metadata=as_("admin-1", "admin"))
    deadline = time.monotonic() + 20
    while service.store.deliveries(person.id, 5) and time.monotonic() < deadline:
        follower.poll_once(block_ms=200)
    assert service.store.deliveries(person.id, 5) == []
    assert service.store.state_of(person.id, "mid_autumn:2026") == ""
    # An erased customer is never greeted again.
    assert service.run(MID_AUTUMN_2026).sent == 0


def test_the_daily_schedule_runs_once_a_day_within_sending_hours(customers, make_service, stores, sink, phone):
    person = create(customers, phone(), consent_sms=cpb.Consent(state="granted"))
    now = {"at": datetime(2026, 9, 25, 0, 30, tzinfo=timezone.utc)}  # 08:30 in Shanghai: before 09:30
    service = make_service([person.id], clock=lambda: now["at"])
    redis_client = connect(stores.redis_url)
    redis_client.delete("loyalty:greetings:completed:2026-09-25", "loyalty:greetings:retry_after:2026-09-25")
    schedule = DailySchedule(service, redis_client)
    assert schedule.tick() == "not due"
    now["at"] = datetime(2026, 9, 25, 1, 45, tzinfo=timezone.utc)  # 09:45
    assert schedule.tick().startswith("sent 1")
    assert schedule.tick() == "done today"
    assert len(_sent_to(sink, person.phones)) == 1
    now["at"] = datetime(2026, 9, 25, 13, 30, tzinfo=timezone.utc)  # 21:30: outside the sending hours
    assert schedule.tick() == "not due"
    redis_client.delete("loyalty:greetings:completed:2026-09-25")


def test_a_birthday_brings_the_tiers_gift_points_once(customers, make_service, services, sink, phone):
    from crm_loyalty.greetings.wiring import accounts_among

    loyalty = services.hosts["loyalty"].app
    person = create(customers, phone(), display_name="Tom Wu", emails=[f"tom.{time.time_ns()}@example.com"],
                    birthday=cpb.Anniversary(calendar="gregorian", year=1980, month=2, day=29),
                    consent_email=cpb.Consent(state="granted"))
    loyalty.features["accounts"].open(person.id)
    assert accounts_among(loyalty.redis)([person.id, "cus_nobody"]) == {person.id}  # the run's: those with an account
    gift = loyalty.settings.tiers.lowest.birthday_gift_points
    assert gift > 0
    # 29 February in a common year: greeted on the 28th, with the tier's gift.
    for _ in range(2):
        make_service([person.id], loyalty=loyalty).run(date(2027, 2, 28))
    assert loyalty.features["accounts"].view(person.id).balance == gift
    (mail,) = _sent_to(sink, person.emails)
    assert mail["subject"] == "Happy birthday" and mail["text"].startswith("Dear Tom Wu")


# -- over gRPC ------------------------------------------------------------------------------------

ADMIN = as_("admin-1", "admin")


def _finished(stub, started: gpb.RunGreetingsResponse) -> gpb.RunGreetingsResponse:
    """Polls a started run (GetGreetingRun) until it has ended."""
    deadline = time.monotonic() + 60
    run = started
    while not run.HasField("finished_at"):
        assert time.monotonic() < deadline, f"run {started.run_id} did not end"
        time.sleep(0.05)
        run = stub.GetGreetingRun(gpb.GetGreetingRunRequest(run_id=started.run_id), metadata=ADMIN)
    return run


def _on(day: date) -> gpb.RunGreetingsRequest:
    return gpb.RunGreetingsRequest(on_date=common_pb2.Date(year=day.year, month=day.month, day=day.day))

@pytest.fixture
def greetings_grpc(make_service):
    served = []  # (host, channel) of every call

    def serve(customer_ids, clock=None, contacts=None, page_size=0):
        service = make_service(customer_ids, clock=clock, page_size=page_size)
        if contacts is not None:
            service.contacts = contacts
        host = ServiceHost(server_settings("greetings"), ["crm.loyalty.v1.GreetingService"],
                           lambda server: gpb_grpc.add_GreetingServiceServicer_to_server(GreetingServicer(service),
                                                                                         server))
        port = host.start()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        served.append((host, channel))
        return gpb_grpc.GreetingServiceStub(channel)

    yield serve
    for host, channel in served:
        channel.close()
        host.stop(0.2)


def test_templates_over_grpc_refuse_unknown_placeholders_and_are_for_admins(greetings_grpc, customers, sink, phone):
    stub = greetings_grpc([])
    admin = as_("admin-1", "admin")
    listed = stub.ListGreetingTemplates(gpb.ListGreetingTemplatesRequest(), metadata=admin).templates
    assert {(t.occasion, t.language) for t in listed} >= {("mid_autumn", "zh"), ("birthday", "en")}
    assert all(t.built_in for t in listed if t.occasion == "dragon_boat")

    with pytest.raises(grpc.RpcError) as err:
        stub.UpdateGreetingTemplate(gpb.UpdateGreetingTemplateRequest(template=gpb.GreetingTemplate(
            occasion="dragon_boat", language="en", subject="Hi", body="Dear {name}, {points} points!")), metadata=admin)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "template.body" in err.value.details() and "{points}" in err.value.details()

    assert code_of(lambda: stub.UpdateGreetingTemplate(gpb.UpdateGreetingTemplateRequest(
        template=gpb.GreetingTemplate(occasion="dragon_boat", language="en", subject="Hi", body="{name}")),
        metadata=as_())) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: stub.RunGreetings(gpb.RunGreetingsRequest(), metadata=as_())) == \
        grpc.StatusCode.PERMISSION_DENIED

    try:
        saved = stub.UpdateGreetingTemplate(gpb.UpdateGreetingTemplateRequest(template=gpb.GreetingTemplate(
            occasion="dragon_boat", language="en", subject="Zongzi time", body="Dear {name} ({tier} member)")),
            metadata=admin)
        assert not saved.built_in and saved.HasField("update_time")
        person = create(customers, phone(), display_name="Bo Chen", consent_sms=cpb.Consent(state="granted"))
        stub = greetings_grpc([person.id])
        ran = _finished(stub, stub.RunGreetings(_on(LunarDate(2026, 5, 5).to_solar_date()), metadata=admin))
        assert (ran.customers, ran.sent) == (1, 1)
        (sms,) = _sent_to(sink, person.phones)
        assert sms["text"] == "Dear Bo Chen ( member)"
    finally:
        reset = stub.ResetGreetingTemplate(gpb.ResetGreetingTemplateRequest(occasion="dragon_boat", language="en"),
                                           metadata=admin)
        assert reset.built_in


def test_a_run_now_keeps_to_the_sending_hours(greetings_grpc, customers, sink, phone):
    person = create(customers, phone(), consent_sms=cpb.Consent(state="granted"))
    night = datetime(2026, 9, 24, 19, 0, tzinfo=timezone.utc)  # 03:00 on Mid-Autumn in Shanghai
    stub = greetings_grpc([person.id], clock=lambda: night)
    admin = as_("admin-1", "admin")
    with pytest.raises(grpc.RpcError) as err:
        stub.RunGreetings(gpb.RunGreetingsRequest(), metadata=admin)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _sent_to(sink, person.phones) == []
    ran = _finished(stub, stub.RunGreetings(_on(MID_AUTUMN_2026), metadata=admin))  # the clock: the day's greeting time
    assert (ran.on_date.day, ran.sent) == (25, 1)


def test_the_delivery_log_follows_the_customers_rights(greetings_grpc, customers, phone):
    mine = create(customers, phone(), consent_sms=cpb.Consent(state="granted"), who=as_("rep-a"))
    stub = greetings_grpc([mine.id])
    _finished(stub, stub.RunGreetings(_on(MID_AUTUMN_2026), metadata=ADMIN))
    got = stub.ListGreetingDeliveries(gpb.ListGreetingDeliveriesRequest(customer_id=mine.id), metadata=as_("rep-a"))
    assert [(d.occasion, d.outcome, d.channel) for d in got.deliveries] == [("mid_autumn", "sent", "sms")]
    assert code_of(lambda: stub.ListGreetingDeliveries(gpb.ListGreetingDeliveriesRequest(customer_id=mine.id),
                                                       metadata=as_("rep-b"))) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: stub.ListGreetingDeliveries(gpb.ListGreetingDeliveriesRequest(
        customer_id=mine.id, page_size=1000), metadata=as_("rep-a"))) == grpc.StatusCode.INVALID_ARGUMENT


def test_a_run_answers_at_once_and_its_record_shows_progress_then_the_result(greetings_grpc, customers, sink, phone):
    people = [create(customers, phone(), consent_sms=cpb.Consent(state="granted")) for _ in range(3)]
    ids = {p.id for p in people}
    gate = threading.Event()

    def source(page):  # pages of one customer: the third waits until the test has seen the progress
        if people[2].id in page:
            assert gate.wait(60)
        return ids.intersection(page)

    stub = greetings_grpc(source, page_size=1)
    started = stub.RunGreetings(_on(MID_AUTUMN_2026), metadata=ADMIN)
    assert started.run_id and started.started_by == "admin-1" and started.HasField("started_at")
    assert not started.HasField("finished_at") and started.stopped_reason == ""
    try:
        deadline = time.monotonic() + 60
        progress = started
        while progress.customers < 2:
            assert time.monotonic() < deadline, "no progress recorded"
            time.sleep(0.05)
            progress = stub.GetGreetingRun(gpb.GetGreetingRunRequest(run_id=started.run_id), metadata=ADMIN)
        assert (progress.customers, progress.sent) == (2, 2) and not progress.HasField("finished_at")
        assert progress.updated_at.ToDatetime() >= started.updated_at.ToDatetime()
    finally:
        gate.set()
    done = _finished(stub, progress)
    assert (done.customers, done.sent, done.skipped, done.failed, done.errors) == (3, 3, 0, 0, 0)
    assert done.stopped_reason == "" and done.on_date.day == 25 and done.started_by == "admin-1"
    assert done.finished_at.ToDatetime() >= done.started_at.ToDatetime()
    assert sorted(m["to"] for m in _sent_to(sink, [p.phones[0] for p in people])) == \
        sorted(p.phones[0] for p in people)


def test_greeting_runs_are_read_by_admins_only_and_by_a_well_formed_id(greetings_grpc):
    stub = greetings_grpc([])
    ran = _finished(stub, stub.RunGreetings(_on(MID_AUTUMN_2026), metadata=ADMIN))
    assert (ran.customers, ran.stopped_reason) == (0, "")

    def read(run_id, who=ADMIN):
        return lambda: stub.GetGreetingRun(gpb.GetGreetingRunRequest(run_id=run_id), metadata=who)

    assert code_of(read(ran.run_id, as_())) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(read(ran.run_id, as_("mgr-1", "manager"))) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(read("greetings_20260925_20260925T014500_000000000000")) == grpc.StatusCode.NOT_FOUND
    for malformed in ("", "nope", "greetings_*", ran.run_id + "x", ran.run_id + "\n", "loyalty:greetings:templates"):
        assert code_of(read(malformed)) == grpc.StatusCode.INVALID_ARGUMENT, malformed


def test_a_run_refused_up_front_creates_no_run(greetings_grpc, stores):
    night = datetime(2026, 9, 24, 19, 0, tzinfo=timezone.utc)  # 03:00 in Shanghai
    stub = greetings_grpc([], clock=lambda: night)
    runs = connect(stores.redis_url)
    before = set(runs.scan_iter(match="loyalty:greetings:runs:*"))
    assert code_of(lambda: stub.RunGreetings(gpb.RunGreetingsRequest(), metadata=ADMIN)) == \
        grpc.StatusCode.FAILED_PRECONDITION
    assert code_of(lambda: stub.RunGreetings(gpb.RunGreetingsRequest(
        on_date=common_pb2.Date(year=2026, month=2, day=30)), metadata=ADMIN)) == grpc.StatusCode.INVALID_ARGUMENT
    assert set(runs.scan_iter(match="loyalty:greetings:runs:*")) == before


def test_a_run_that_cannot_reach_the_customer_service_ends_saying_so(greetings_grpc, customers, sink, phone):
    person = create(customers, phone(), consent_sms=cpb.Consent(state="granted"))
    nobody = CustomerContacts.connect(f"127.0.0.1:{_free_port()}", SystemToken(AUTH))  # nothing listens
    stub = greetings_grpc([person.id], contacts=nobody)
    stopped = _finished(stub, stub.RunGreetings(_on(MID_AUTUMN_2026), metadata=ADMIN))
    # The contacts stream could not open: no customer was reached, one error counted.
    assert (stopped.stopped_reason, stopped.customers, stopped.errors, stopped.sent) == \
        ("customer_service_unavailable", 0, 1, 0)
    assert _sent_to(sink, person.phones) == []
    # The customer service back: a new run greets.
    again = greetings_grpc([person.id])
    assert _finished(again, again.RunGreetings(_on(MID_AUTUMN_2026), metadata=ADMIN)).sent == 1


def test_an_error_in_the_run_ends_it_saying_so(greetings_grpc):
    def broken(_page):
        raise RuntimeError("the account lookup failed")

    stub = greetings_grpc(broken)
    stopped = _finished(stub, stub.RunGreetings(_on(MID_AUTUMN_2026), metadata=ADMIN))
    assert (stopped.stopped_reason, stopped.customers) == ("internal_error", 0)


def test_the_loyalty_service_serves_the_greetings(services):
    """The composition root wires the feature: its gRPC service answers on the loyalty port."""
    assert "greetings" in services.hosts["loyalty"].app.features
    channel = grpc.insecure_channel(services.targets["loyalty"])
    try:
        stub = gpb_grpc.GreetingServiceStub(channel)
        listed = stub.ListGreetingTemplates(gpb.ListGreetingTemplatesRequest(), metadata=as_("admin-1", "admin"))
        assert {t.occasion for t in listed.templates} >= {"birthday", "spring_festival", "dragon_boat", "mid_autumn"}
        assert code_of(lambda: stub.ListGreetingTemplates(gpb.ListGreetingTemplatesRequest(),
                                                          metadata=as_())) == grpc.StatusCode.PERMISSION_DENIED
    finally:
        channel.close()
