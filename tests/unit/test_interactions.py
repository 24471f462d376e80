"""Interaction log rules, pure: validation, money, "the last quote", buckets,
who may read and record. No store, no network."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from crm_kit.money import validate_currency, validate_money
from crm_customer.interactions import model as rules
from crm_customer.customers.model.record import Customer, Profile
from crm_customer.interactions.model import Interaction, Money, QuoteLine
from crm_kit import paging
from crm_kit.auth import Principal
from crm_kit.errors import InvalidArgument, PermissionDenied

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
REP = Principal("rep-a", "rep", "east")
OTHER_REP = Principal("rep-b", "rep", "east")


def draft(**overrides):
    fields = dict(channel="call", direction="inbound", summary="asked for a price", occurred_at=None, now=NOW)
    fields.update(overrides)
    return rules.build_draft(**fields)


def violations(**overrides) -> list[str]:
    with pytest.raises(InvalidArgument) as err:
        draft(**overrides)
    return [v.field for v in err.value.violations]


def entry(seq: int, at: datetime = NOW, **fields) -> Interaction:
    return Interaction("cus_" + "a" * 24, seq, "call", "inbound", "rep-a", at, at, "rep-a", "s", **fields)


def test_a_valid_draft_is_normalized():
    d = draft(summary="  第一行\n第二行  ", occurred_at=datetime(2026, 3, 1, 11, 0, 0, 999999, tzinfo=timezone.utc),
              quote_lines=[QuoteLine(" 空调 ", 2, Money(329900, "CNY"))], commitments=["周五送货"],
              next_follow_up=(2026, 3, 8))
    assert d.summary == "第一行\n第二行"
    assert d.occurred_at == datetime(2026, 3, 1, 11, 0, 0, 999000, tzinfo=timezone.utc)  # BSON keeps ms
    assert d.quote_lines == (QuoteLine("空调", 2, Money(329900, "CNY")),)
    assert rules.quote_total(d.quote_lines) == Money(659800, "CNY")
    assert d.next_follow_up == date(2026, 3, 8)


def test_every_problem_is_reported_at_once():
    fields = violations(channel="fax", direction="sideways", summary=" ", next_follow_up=(2026, 2, 30),
                        occurred_at=NOW + timedelta(hours=1), rep_id="r" * 129,
                        quote_lines=[QuoteLine("", 0, Money(-5, "cny"))], commitments=["x" * 501])
    assert fields == ["channel", "direction", "summary", "occurred_at", "quote_lines[0].item",
                      "quote_lines[0].quantity", "quote_lines[0].unit_price.minor_units",
                      "quote_lines[0].unit_price.currency_code", "commitments[0]", "next_follow_up", "rep_id"]


@pytest.mark.parametrize("code", ["CNY", "USD", "EUR", "JPY", "HKD", "XOF"])
def test_real_currencies_are_accepted(code):
    assert validate_currency(code, "c") == code


@pytest.mark.parametrize("code", ["cny", "CN", "CNYY", "ABC", "XXX", "XTS", "XAU", "", "人民币", {"$ne": 1}, 156])
def test_other_currency_codes_are_refused(code):
    with pytest.raises(InvalidArgument):
        validate_currency(code, "c")


@pytest.mark.parametrize("amount", [-1, 10**15 + 1, 1.5, True, "100", {"$gt": 0}, None])
def test_amounts_are_whole_non_negative_minor_units(amount):
    with pytest.raises(InvalidArgument):
        validate_money(Money(amount, "CNY"), "price")


def test_a_quote_has_one_currency_and_a_bounded_total():
    assert violations(quote_lines=[QuoteLine("a", 1, Money(1, "CNY")), QuoteLine("b", 1, Money(1, "USD"))]) == \
        ["quote_lines"]
    assert violations(quote_lines=[QuoteLine("a", 1_000, Money(10**13, "CNY"))]) == ["quote_lines[0]"]
    assert violations(quote_lines=[QuoteLine("a", 1, Money(10**15, "CNY"))] * 2) == ["quote_lines"]
    assert violations(quote_lines=[QuoteLine("a", 1, Money(1, "CNY"))] * 51) == ["quote_lines"]


@given(st.lists(st.tuples(st.integers(1, 1000), st.integers(0, 10**9)), min_size=1, max_size=20))
def test_the_quote_total_is_the_exact_sum_of_its_lines(lines):
    quote = tuple(QuoteLine("item", qty, Money(price, "CNY")) for qty, price in lines)
    assert rules.validate_quote_lines(quote) == quote
    assert rules.quote_total(quote) == Money(sum(q * p for q, p in lines), "CNY")


@pytest.mark.parametrize("value", [{"$ne": 1}, ["a"], 5, None])
def test_operator_objects_and_non_strings_are_not_text(value):
    assert "summary" in violations(summary=value)


def test_times_must_have_an_offset_and_not_lie_ahead():
    assert violations(occurred_at=datetime(2026, 3, 1)) == ["occurred_at"]
    assert violations(occurred_at=datetime(1999, 12, 31, tzinfo=timezone.utc)) == ["occurred_at"]
    assert draft(occurred_at=NOW + timedelta(minutes=4)).occurred_at == NOW + timedelta(minutes=4)  # clock skew
    assert violations(next_follow_up=(2037, 1, 1)) == ["next_follow_up"]
    assert violations(next_follow_up=("2026", "x", None)) == ["next_follow_up"]


def test_request_ids_are_printable_ascii():
    assert rules.validate_request_id("erp:order-42/7") == "erp:order-42/7"
    for bad in ("with space", "ünï", "x" * 129, "tab\t"):
        with pytest.raises(InvalidArgument):
            rules.validate_request_id(bad)


def test_the_fingerprint_tells_a_retry_from_other_content():
    assert rules.fingerprint(draft()) == rules.fingerprint(draft())
    assert rules.fingerprint(draft()) != rules.fingerprint(draft(summary="other"))
    assert rules.fingerprint(draft()) != rules.fingerprint(draft(occurred_at=NOW))


def test_a_later_occurrence_takes_the_summary_slots_an_older_backfill_does_not():
    quote = (QuoteLine("a", 1, Money(100, "CNY")),)
    state = rules.advance(rules.LogState(), entry(5, NOW, quote_lines=quote))
    assert state == rules.LogState(last_quote=rules.Slot(5, NOW), last_contact_at=NOW)
    newer = rules.advance(state, entry(6, NOW + timedelta(minutes=1), quote_lines=quote, commitments=("x",)))
    assert (newer.last_quote.sequence, newer.last_commitment.sequence) == (6, 6)
    backfill = rules.advance(state, entry(7, NOW - timedelta(days=1), quote_lines=quote,
                                          next_follow_up=date(2026, 4, 1)))
    assert (backfill.last_quote.sequence, backfill.last_follow_up.sequence) == (5, 7)
    assert backfill.last_contact_at == NOW  # contact time never moves back
    same_time = rules.advance(state, entry(8, NOW, quote_lines=quote))
    assert same_time.last_quote.sequence == 8  # equal times: recorded later wins
    assert rules.advance(state, entry(9, NOW + timedelta(hours=1))) == \
        rules.LogState(last_quote=rules.Slot(5, NOW), last_contact_at=NOW + timedelta(hours=1))


@given(st.lists(st.tuples(st.integers(0, 10**6), st.booleans()), min_size=1, max_size=40))
def test_the_folded_state_names_the_latest_quote_whatever_the_recording_order(items):
    """Folding entries one by one (as each link of the chain does) gives the
    same answer as looking at all of them at once."""
    state = rules.LogState()
    entries = []
    for seq, (minutes, quoted) in enumerate(items, start=1):
        e = entry(seq, NOW + timedelta(minutes=minutes),
                  quote_lines=(QuoteLine("a", 1, Money(seq, "CNY")),) if quoted else ())
        entries.append(e)
        state = rules.advance(state, e)
    quoted = [e for e in entries if e.quote_lines]
    latest = max(quoted, key=lambda e: (e.occurred_at, e.sequence)) if quoted else None
    assert (state.last_quote.sequence if state.last_quote else None) == (latest.sequence if latest else None)
    assert state.last_contact_at == max(e.occurred_at for e in entries)


@given(st.integers(1, 10**9))
def test_each_sequence_has_one_bucket_of_fifty(seq):
    bucket = rules.bucket_of(seq)
    assert seq in rules.bucket_range(bucket) and len(rules.bucket_range(bucket)) == rules.BUCKET_SIZE
    assert rules.seals_bucket(seq) == (seq == rules.bucket_range(bucket)[-1])


def customer(owner="rep-a", team="east") -> Customer:
    return Customer("cus_" + "b" * 24, Profile(display_name="张三"), owner, team, NOW, NOW)


def test_who_may_read_and_record_the_log():
    mine, pool = customer(), customer(owner="")
    rules.require_read_right(REP, mine)
    rules.require_record_right(REP, mine)
    for who, c in ((OTHER_REP, mine), (OTHER_REP, pool)):
        with pytest.raises(PermissionDenied):
            rules.require_read_right(who, c)
        with pytest.raises(PermissionDenied):
            rules.require_record_right(who, c)
    agent = Principal("agent-1", "agent")
    rules.require_read_right(agent, mine)
    with pytest.raises(PermissionDenied):
        rules.require_record_right(agent, mine)
    erp = Principal("erp", "integration", scopes=frozenset({"customers:read"}))
    rules.require_read_right(erp, mine)
    with pytest.raises(PermissionDenied):
        rules.require_record_right(erp, mine)
    rules.require_record_right(replace(erp, scopes=frozenset({"customers:write"})), mine)


def test_reps_record_as_themselves_others_may_name_the_rep():
    assert rules.rep_for_interaction(REP, "") == "rep-a"
    with pytest.raises(PermissionDenied):
        rules.rep_for_interaction(REP, "rep-b")
    assert rules.rep_for_interaction(Principal("boss", "manager", "east"), "rep-b") == "rep-b"


def test_page_tokens_round_trip_and_belong_to_their_query():
    tokn = paging.encode({"below": 7}, {"customer": "c1"})
    assert paging.decode(tokn, {"customer": "c1"}) == {"below": 7}
    assert paging.decode("", {"customer": "c1"}) is None
    for bad, query in ((tokn, {"customer": "c2"}), ("!!!", {}), ("e30", {}), ("x" * 600, {})):
        with pytest.raises(InvalidArgument):
            paging.decode(bad, query)
