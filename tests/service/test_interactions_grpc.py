"""The interaction log over real gRPC, backed by real FerretDB: what a rep
taking a call and other enterprise systems rely on, roles enforced in the
service itself."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from crm.common.v1 import common_pb2
from crm.customer.v1 import interaction_service_pb2 as pb
from crm_kit.grpc_errors import details_of
from tests.service.support import all_pages, as_in, code_of, create, ts

TEAM = "team-log"
as_ = as_in(TEAM)
REP_A, REP_B = as_("rep-log-a"), as_("rep-log-b")
MANAGER, ADMIN = as_("boss-log", "manager"), as_("root-log", "admin", team="")


@pytest.fixture
def customer(stub, phone):
    """A new customer owned by rep-log-a; returns its id."""
    def make(who=REP_A, **fields) -> str:
        return create(stub, phone(), who, display_name="钱多多", **fields).id
    return make


def money(minor: int, code: str = "CNY") -> common_pb2.Money:
    return common_pb2.Money(minor_units=minor, currency_code=code)


def entry(summary="问了价格", channel=pb.INTERACTION_CHANNEL_CALL, direction=pb.INTERACTION_DIRECTION_INBOUND,
          **fields) -> pb.Interaction:
    return pb.Interaction(channel=channel, direction=direction, summary=summary, **fields)


def record(log, cid, who=REP_A, request_id="", **fields):
    return log.RecordInteraction(pb.RecordInteractionRequest(customer_id=cid, interaction=entry(**fields),
                                                             request_id=request_id), metadata=who)


def all_entries(log, cid, who=REP_A, page_size=0):
    return all_pages(lambda page_token: log.ListInteractions(pb.ListInteractionsRequest(
        customer_id=cid, page_size=page_size, page_token=page_token), metadata=who), "interactions")


def test_recording_returns_the_entry_with_quote_total_and_refreshes_last_contact(log, customer, customer_db):
    cid = customer()
    when = datetime.now(timezone.utc).replace(microsecond=123456) - timedelta(minutes=10)
    made = record(log, cid, summary="报价两台空调", occur_time=ts(when),
                  quote_lines=[pb.QuoteLine(item="空调 KFR-35", quantity=2, unit_price=money(329900)),
                               pb.QuoteLine(item="安装", quantity=1, unit_price=money(20000))],
                  commitments=["周五前送货"], next_follow_up_date=common_pb2.Date(year=2030, month=1, day=31))
    assert (made.customer_id, made.sequence, made.rep_id, made.recorded_by) == (cid, 1, "rep-log-a", "rep-log-a")
    assert made.quote_total == money(679800)
    assert made.occur_time.ToDatetime(tzinfo=timezone.utc) == when.replace(microsecond=123000)
    assert customer_db.customers.find_one({"_id": cid})["last_contact_at"] == when.replace(microsecond=123000)
    assert list(all_entries(log, cid)) == [made]


def test_list_is_newest_first_across_buckets_and_pages_cover_each_entry_once(log, customer):
    cid = customer()
    for i in range(57):  # more than one bucket of 50
        record(log, cid, summary=f"call {i}")
    pages = []
    tokn = ""
    while True:
        page = log.ListInteractions(pb.ListInteractionsRequest(customer_id=cid, page_size=20, page_token=tokn),
                                    metadata=REP_A)
        pages.append([i.sequence for i in page.interactions])
        tokn = page.next_page_token
        if not tokn:
            break
    assert [len(p) for p in pages] == [20, 20, 17]
    assert [s for p in pages for s in p] == list(range(57, 0, -1))


def test_summary_gives_last_quote_and_last_commitment_and_an_older_backfill_does_not_displace_them(log, customer):
    cid = customer()
    now = datetime.now(timezone.utc)
    first = record(log, cid, quote_lines=[pb.QuoteLine(item="A", quantity=1, unit_price=money(1000))],
                   commitments=["免运费"], occur_time=ts(now - timedelta(hours=2)))
    newest = record(log, cid, quote_lines=[pb.QuoteLine(item="A", quantity=1, unit_price=money(900))],
                    occur_time=ts(now - timedelta(hours=1)))
    record(log, cid, summary="昨天的拜访补记", quote_lines=[pb.QuoteLine(item="A", quantity=1, unit_price=money(1200))],
           commitments=["上门演示"], occur_time=ts(now - timedelta(days=1)))
    record(log, cid, summary="只是寒暄")
    summary = log.GetInteractionSummary(pb.GetInteractionSummaryRequest(customer_id=cid), metadata=REP_A)
    assert summary.last_quote == newest and summary.last_quote.quote_total == money(900)
    assert summary.last_commitment == first
    assert not summary.HasField("last_follow_up")
    assert summary.last_contact_time.ToDatetime(tzinfo=timezone.utc) >= now - timedelta(seconds=1)


def test_a_summary_with_recent_entries_answers_the_card_in_one_call(log, customer):
    cid = customer()
    quoted = record(log, cid, quote_lines=[pb.QuoteLine(item="A", quantity=1, unit_price=money(1000))])
    later = [record(log, cid, summary=f"回访 {n}") for n in range(3)]
    summary = log.GetInteractionSummary(pb.GetInteractionSummaryRequest(customer_id=cid, recent=2), metadata=REP_A)
    assert list(summary.recent) == later[::-1][:2]  # newest first, as the log lists them
    assert summary.last_quote == quoted  # a slot older than the recent ones is still read
    full = log.GetInteractionSummary(pb.GetInteractionSummaryRequest(customer_id=cid, recent=50), metadata=REP_A)
    assert list(full.recent) == [*later[::-1], quoted]
    plain = log.GetInteractionSummary(pb.GetInteractionSummaryRequest(customer_id=cid), metadata=REP_A)
    assert list(plain.recent) == []
    for bad in (-1, 51):
        assert code_of(lambda: log.GetInteractionSummary(pb.GetInteractionSummaryRequest(
            customer_id=cid, recent=bad), metadata=REP_A)) == grpc.StatusCode.INVALID_ARGUMENT


def test_a_customer_without_interactions_has_an_empty_summary_and_log(log, customer):
    cid = customer()
    summary = log.GetInteractionSummary(pb.GetInteractionSummaryRequest(customer_id=cid), metadata=REP_A)
    assert summary.customer_id == cid and not summary.HasField("last_quote") and not summary.HasField("last_contact_time")
    assert all_entries(log, cid) == []


def test_a_retry_with_the_same_request_id_returns_the_first_entry(log, customer):
    cid = customer()
    first = record(log, cid, request_id="erp-42", summary="同一个请求")
    again = record(log, cid, request_id="erp-42", summary="同一个请求")
    assert again == first
    assert [i.sequence for i in all_entries(log, cid)] == [first.sequence]
    with pytest.raises(grpc.RpcError) as err:
        record(log, cid, request_id="erp-42", summary="别的内容")
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    # Request ids are per caller: a manager's "erp-42" is another request.
    assert record(log, cid, MANAGER, request_id="erp-42", summary="同一个请求").sequence != first.sequence


def test_concurrent_retries_of_one_request_write_one_entry(log, customer):
    cid = customer()
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: record(log, cid, request_id="burst-1", summary="并发重试"), range(8)))
    assert len({m.sequence for m in made}) == 1
    assert len(all_entries(log, cid)) == 1


def test_concurrent_records_on_one_customer_each_get_their_own_number(log, customer):
    """FerretDB loses concurrent updates of one document; numbers come from inserts, so none is lost."""
    cid = customer()
    writers = [REP_A, MANAGER, ADMIN]
    with ThreadPoolExecutor(9) as pool:
        made = list(pool.map(lambda i: record(log, cid, writers[i % 3], summary=f"并发 {i}", rep_id="rep-log-a",
                                              commitments=[f"承诺 {i}"]), range(27)))
    assert sorted(m.sequence for m in made) == list(range(1, 28))
    listed = all_entries(log, cid)
    assert [i.sequence for i in listed] == list(range(27, 0, -1))
    assert listed == sorted(made, key=lambda m: -m.sequence)
    summary = log.GetInteractionSummary(pb.GetInteractionSummaryRequest(customer_id=cid), metadata=REP_A)
    latest = max(made, key=lambda m: (m.occur_time.ToDatetime(), m.sequence))
    assert summary.last_commitment == latest


def test_a_lagging_chain_hint_is_caught_up_by_readers_and_writers(log, customer, customer_db):
    cid = customer()
    for i in range(3):
        record(log, cid, summary=f"note {i}")
    customer_db.interaction_heads.update_one({"_id": cid}, {"$set": {"top": 1}})  # as if two hint updates were lost
    assert [i.sequence for i in all_entries(log, cid)] == [3, 2, 1]
    assert record(log, cid, summary="after").sequence == 4


def test_a_request_abandoned_by_a_crashed_attempt_is_taken_over_once(log, customer, customer_db):
    from crm_customer.interactions.service import request_key
    from crm_customer.interactions.model import build_draft, fingerprint

    cid = customer()
    long_ago = datetime.now(timezone.utc) - timedelta(minutes=5)
    draft = build_draft(channel="call", direction="inbound", summary="崩溃前的请求", occurred_at=None,
                        rep_id="rep-log-a", now=long_ago)
    customer_db.interaction_requests.insert_one({"_id": f"{cid}#{request_key('rep-log-a', 'crashed-1')}",
                                                 "fingerprint": fingerprint(draft), "seq": 0, "created_at": long_ago})
    made = record(log, cid, request_id="crashed-1", summary="崩溃前的请求")
    assert record(log, cid, request_id="crashed-1", summary="崩溃前的请求") == made
    assert [i.sequence for i in all_entries(log, cid)] == [made.sequence]
    customer_db.interaction_requests.insert_one({"_id": f"{cid}#{request_key('rep-log-a', 'in-flight')}",
                                                 "fingerprint": fingerprint(draft), "seq": 0,
                                                 "created_at": datetime.now(timezone.utc)})
    assert code_of(lambda: record(log, cid, request_id="in-flight", summary="崩溃前的请求")) == \
        grpc.StatusCode.FAILED_PRECONDITION


def test_full_buckets_are_sealed_and_pages_read_them(log, customer, customer_db):
    cid = customer()
    for i in range(52):
        record(log, cid, summary=f"第 {i + 1} 次")
    assert customer_db.interaction_buckets.find_one({"_id": f"{cid}#b00000000"}) is not None
    assert [i.summary for i in all_entries(log, cid, page_size=7)] == [f"第 {n} 次" for n in range(52, 0, -1)]


@pytest.mark.parametrize("bad,field", [
    (dict(summary=""), "summary"),
    (dict(summary="x" * 4001), "summary"),
    (dict(channel=pb.INTERACTION_CHANNEL_UNSPECIFIED), "channel"),
    (dict(channel=99), "channel"),
    (dict(direction=pb.INTERACTION_DIRECTION_UNSPECIFIED), "direction"),
    (dict(summary="bad\x00byte"), "summary"),
    (dict(quote_lines=[pb.QuoteLine(item="A", quantity=1, unit_price=money(100, "cny"))]),
     "quote_lines[0].unit_price.currency_code"),
    (dict(quote_lines=[pb.QuoteLine(item="A", quantity=1, unit_price=money(100, "ABC"))]),
     "quote_lines[0].unit_price.currency_code"),
    (dict(quote_lines=[pb.QuoteLine(item="A", quantity=1, unit_price=money(-1))]),
     "quote_lines[0].unit_price.minor_units"),
    (dict(quote_lines=[pb.QuoteLine(item="A", quantity=0, unit_price=money(1))]), "quote_lines[0].quantity"),
    (dict(quote_lines=[pb.QuoteLine(item="A", quantity=1, unit_price=money(1)),
                       pb.QuoteLine(item="B", quantity=1, unit_price=money(1, "USD"))]), "quote_lines"),
    (dict(commitments=["x" * 501]), "commitments[0]"),
    (dict(next_follow_up_date=common_pb2.Date(year=2026, month=2, day=30)), "next_follow_up"),
    (dict(occur_time=Timestamp(seconds=4_000_000_000)), "occurred_at"),
    (dict(occur_time=Timestamp(seconds=10**15)), "occurred_at"),
    (dict(rep_id="r" * 129), "rep_id"),
])
def test_bad_input_is_invalid_argument_naming_the_field_and_nothing_is_written(log, customer, customer_db, bad, field):
    cid = customer()
    with pytest.raises(grpc.RpcError) as err:
        record(log, cid, MANAGER, **bad)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in [v.field for d in details_of(err.value) for v in d.field_violations]
    assert customer_db.interaction_heads.find_one({"_id": cid}) is None
    assert customer_db.customers.find_one({"_id": cid}).get("last_contact_at") is None


def test_bad_page_tokens_and_sizes_are_refused(log, customer):
    mine, other = customer(), customer()
    for _ in range(3):
        record(log, mine)
    tokn = log.ListInteractions(pb.ListInteractionsRequest(customer_id=mine, page_size=1), metadata=REP_A).next_page_token
    assert tokn
    for request in (pb.ListInteractionsRequest(customer_id=other, page_token=tokn),
                    pb.ListInteractionsRequest(customer_id=mine, page_token="garbage"),
                    pb.ListInteractionsRequest(customer_id=mine, page_size=201)):
        assert code_of(lambda: log.ListInteractions(request, metadata=REP_A)) == grpc.StatusCode.INVALID_ARGUMENT


def test_a_forged_page_token_past_the_end_of_the_log_is_refused(log, customer):
    """Tokens are readable JSON: one claiming to start below entry 10**30 of a
    three-entry log must not walk the numbers in between (one read each)."""
    from crm_kit import paging

    mine = customer()
    for _ in range(3):
        record(log, mine)
    forged = paging.encode({"below": 10**30}, {"customer": mine})
    request = pb.ListInteractionsRequest(customer_id=mine, page_token=forged)
    assert code_of(lambda: log.ListInteractions(request, metadata=REP_A, timeout=5)) == \
        grpc.StatusCode.INVALID_ARGUMENT
    honest = paging.encode({"below": 4}, {"customer": mine})
    page = log.ListInteractions(pb.ListInteractionsRequest(customer_id=mine, page_token=honest), metadata=REP_A)
    assert [i.sequence for i in page.interactions] == [3, 2, 1]


def test_another_reps_customer_is_not_found_for_every_method(log, customer):
    cid = customer()
    record(log, cid)
    assert code_of(lambda: record(log, cid, REP_B)) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: log.ListInteractions(pb.ListInteractionsRequest(customer_id=cid), metadata=REP_B)) == \
        grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: log.GetInteractionSummary(pb.GetInteractionSummaryRequest(customer_id=cid),
                                                     metadata=REP_B)) == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: record(log, "cus_000000000000000000000000")) == grpc.StatusCode.NOT_FOUND


def test_reps_record_only_as_themselves_managers_and_admins_for_a_rep(log, customer):
    cid = customer()
    assert code_of(lambda: record(log, cid, rep_id="rep-log-b")) == grpc.StatusCode.PERMISSION_DENIED
    for who in (MANAGER, ADMIN):
        made = record(log, cid, who, rep_id="rep-log-a")
        assert made.rep_id == "rep-log-a" and made.recorded_by != "rep-log-a"
    assert len(all_entries(log, cid, ADMIN)) == 2


def test_roles_that_only_read_the_customer_cannot_record(log, customer):
    cid = customer()
    record(log, cid, summary="rep's note")
    agent = as_("agent-log", "agent")
    assert len(all_entries(log, cid, agent)) == 1  # support sees what sales told the customer
    assert code_of(lambda: record(log, cid, agent)) == grpc.StatusCode.PERMISSION_DENIED
    reader = as_("erp-log", "integration", team="", scopes="customers:read")
    assert len(all_entries(log, cid, reader)) == 1
    assert code_of(lambda: record(log, cid, reader)) == grpc.StatusCode.PERMISSION_DENIED
    writer = as_("erp-log", "integration", team="", scopes="customers:read customers:write")
    assert record(log, cid, writer).recorded_by == "erp-log"
    unscoped = as_("erp-log", "integration", team="")
    assert code_of(lambda: all_entries(log, cid, unscoped)) == grpc.StatusCode.PERMISSION_DENIED


def test_a_pool_customers_log_waits_for_whoever_claims_it(log, customer):
    cid = customer(ADMIN)  # an admin's customer without an owner is in the public pool
    record(log, cid, ADMIN, summary="old owner's notes")
    assert code_of(lambda: all_entries(log, cid, REP_B)) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(lambda: record(log, cid, REP_B)) == grpc.StatusCode.PERMISSION_DENIED


def test_calls_without_a_token_are_unauthenticated(log):
    assert code_of(lambda: log.GetInteractionSummary(pb.GetInteractionSummaryRequest(customer_id="cus_x"))) == \
        grpc.StatusCode.UNAUTHENTICATED


def test_health_and_reflection_name_both_new_services(channel):
    health = health_pb2_grpc.HealthStub(channel)
    reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
    answer = next(reflect.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    names = {s.name for s in answer.list_services_response.service}
    for name in ("crm.customer.v1.InteractionService", "crm.customer.v1.VisitService"):
        assert health.Check(health_pb2.HealthCheckRequest(service=name)).status == health_pb2.HealthCheckResponse.SERVING
        assert name in names
