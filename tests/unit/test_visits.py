"""Scheduled-visit rules, pure: validation, recurrence, due and overdue,
who may plan, list and change visits. No store, no network."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from crm_customer.visits import model as rules
from crm_customer.customers.model.record import Customer, Profile
from crm_kit.auth import Principal
from crm_kit.errors import InvalidArgument, PermissionDenied

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
CID = "cus_" + "c" * 24
REP = Principal("rep-a", "rep", "east")
MANAGER = Principal("boss", "manager", "east")
READER = Principal("erp", "integration", scopes=frozenset({"customers:read"}))
WRITER = Principal("erp", "integration", scopes=frozenset({"customers:write"}))


def draft(**overrides):
    fields = dict(customer_id=CID, scheduled_at=NOW + timedelta(days=1), purpose="季度回访", recurrence_days=0,
                  rep_id="", now=NOW)
    fields.update(overrides)
    return rules.build_draft(**fields)


def visit(at=NOW, state="scheduled", rep="rep-a", every=0) -> rules.Visit:
    return rules.new_visit(draft(scheduled_at=at, recurrence_days=every), visit_id="vis_" + "1" * 24, rep_id=rep,
                           created_by=rep, now=NOW) if state == "scheduled" else \
        rules.Visit("vis_" + "2" * 24, CID, rep, at, "p", every, state, NOW, rep)


def test_a_valid_plan_is_normalized():
    d = draft(purpose="  回访\n带样品 ", scheduled_at=datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=timezone.utc))
    assert d.purpose == "回访\n带样品"
    assert d.scheduled_at.microsecond == 123000


def test_every_problem_is_reported_at_once():
    with pytest.raises(InvalidArgument) as err:
        draft(customer_id="cus_x", scheduled_at=datetime(2026, 3, 2), purpose="", recurrence_days=-3,
              rep_id={"$ne": 1})
    assert [v.field for v in err.value.violations] == ["customer_id", "scheduled_at", "purpose", "recurrence_days",
                                                      "rep_id"]


@pytest.mark.parametrize("at", [NOW - timedelta(days=367), NOW + timedelta(days=5 * 366 + 1), None])
def test_times_too_far_back_or_ahead_or_missing_are_refused(at):
    with pytest.raises(InvalidArgument):
        draft(scheduled_at=at)


@pytest.mark.parametrize("days", [-1, 3651, 1.5, True, "90"])
def test_recurrence_is_a_whole_number_of_days(days):
    with pytest.raises(InvalidArgument):
        draft(recurrence_days=days)


@given(scheduled=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1),
                              timezones=st.just(timezone.utc)),
       every=st.integers(1, rules.MAX_RECURRENCE_DAYS),
       delay=st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=4000)))
def test_the_next_occurrence_is_the_first_on_the_cadence_after_completion(scheduled, every, delay):
    done = scheduled + delay
    nxt = rules.next_occurrence(scheduled, every, done)
    period = timedelta(days=every)
    assert nxt > done and nxt > scheduled  # never planned in the past
    assert (nxt - scheduled) % period == timedelta(0)  # keeps the cadence (and the time of day)
    assert nxt - period <= max(done, scheduled)  # and is the first such time


def test_examples_of_the_cadence():
    every_90 = timedelta(days=90)
    assert rules.next_occurrence(NOW, 90, NOW) == NOW + every_90  # done on time
    assert rules.next_occurrence(NOW, 90, NOW - timedelta(days=10)) == NOW + every_90  # done early
    assert rules.next_occurrence(NOW, 90, NOW + timedelta(days=100)) == NOW + 2 * every_90  # done very late


def test_completing_plans_the_next_of_a_recurring_visit_only():
    once, recurring = visit(), visit(every=30)
    assert rules.next_visit(once, done_at=NOW, created_by="rep-a", now=NOW) is None
    nxt = rules.next_visit(recurring, done_at=NOW + timedelta(hours=1), created_by="boss", now=NOW)
    assert (nxt.scheduled_at, nxt.state, nxt.created_by, nxt.recurrence_days) == \
        (NOW + timedelta(days=30), "scheduled", "boss", 30)
    assert nxt.id == rules.next_visit(recurring, done_at=NOW, created_by="x", now=NOW).id != recurring.id
    assert rules.VISIT_ID.match(nxt.id)


def test_overdue_means_open_and_past_its_time():
    assert visit(at=NOW - timedelta(minutes=1)).is_overdue(NOW)
    assert not visit(at=NOW + timedelta(minutes=1)).is_overdue(NOW)
    assert not visit(at=NOW - timedelta(days=1), state="completed").is_overdue(NOW)


@given(st.dictionaries(st.from_regex(r"vis_[0-9a-f]{24}", fullmatch=True),
                       st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1),
                                    timezones=st.just(timezone.utc)), max_size=60),
       st.integers(1, 25), st.booleans())
def test_due_pages_cover_each_due_visit_once_in_time_order(open_visits, limit, filtered):
    due_before = datetime(2026, 7, 1, tzinfo=timezone.utc) if filtered else None
    seen, after = [], None
    while True:
        ids, more = rules.due_page(open_visits, due_before=due_before, after=after, limit=limit)
        assert len(ids) <= limit
        seen.extend(ids)
        if not more:
            break
        after = (open_visits[ids[-1]], ids[-1])
    expected = sorted((at, vid) for vid, at in open_visits.items() if due_before is None or at < due_before)
    assert seen == [vid for _, vid in expected]


def test_a_retry_asks_for_the_same_plan():
    a = visit()
    assert rules.same_plan(a, rules.Visit(**{**a.__dict__, "created_at": NOW + timedelta(seconds=1)}))
    assert not rules.same_plan(a, rules.Visit(**{**a.__dict__, "purpose": "other"}))


def customer(owner="rep-a") -> Customer:
    return Customer(CID, Profile(display_name="李四"), owner, "east", NOW, NOW)


def test_reps_plan_for_themselves_others_default_to_the_owner():
    assert rules.rep_for_visit(REP, "", customer()) == "rep-a"
    with pytest.raises(PermissionDenied):
        rules.rep_for_visit(REP, "rep-b", customer())
    assert rules.rep_for_visit(MANAGER, "", customer()) == "rep-a"
    assert rules.rep_for_visit(MANAGER, "rep-b", customer()) == "rep-b"
    assert rules.rep_for_visit(MANAGER, "", customer(owner="")) == "boss"


def test_whose_visits_each_role_lists():
    assert rules.rep_to_list(REP, "") == "rep-a"
    with pytest.raises(PermissionDenied):
        rules.rep_to_list(REP, "rep-b")
    assert rules.rep_to_list(MANAGER, "rep-b") == "rep-b"
    assert rules.rep_to_list(Principal("root", "admin"), "") == "root"
    assert rules.rep_to_list(READER, "rep-b") == "rep-b"
    with pytest.raises(InvalidArgument):
        rules.rep_to_list(READER, "")
    for role in ("agent", "finance"):
        with pytest.raises(PermissionDenied):
            rules.rep_to_list(Principal("x", role), "rep-a")
    with pytest.raises(PermissionDenied):
        rules.rep_to_list(WRITER, "rep-a")  # write scope alone does not read


def test_who_may_see_and_change_a_visit_follows_its_customer():
    ours = Customer("cus_" + "a" * 24, Profile(display_name="张三"), "rep-a", "east", NOW, NOW, 1)
    assert rules.may_see(REP, ours) and rules.may_see(MANAGER, ours) and rules.may_see(READER, ours)
    assert not rules.may_see(Principal("rep-b", "rep"), ours)
    assert not rules.may_see(Principal("boss-west", "manager", "west"), ours)
    assert not rules.may_see(Principal("agent", "agent"), ours)  # contact details, not the rep's plans
    rules.require_change_right(REP, ours)
    rules.require_change_right(WRITER, ours)
    for who in (READER, Principal("rep-b", "rep"), Principal("boss-west", "manager", "west"),
                Principal("agent", "agent")):
        with pytest.raises(PermissionDenied):
            rules.require_change_right(who, ours)
    # After a transfer the previous owner has no right left.
    moved = replace(ours, owner_id="rep-b")
    assert not rules.may_see(REP, moved) and rules.may_see(Principal("rep-b", "rep"), moved)


def test_open_visits_follow_the_customer_to_its_new_owner_but_not_into_the_pool():
    v = visit()
    assert rules.following_owner(v, "rep-b").rep_id == "rep-b"
    assert rules.following_owner(v, v.rep_id) is None
    assert rules.following_owner(v, "") is None  # released to the pool: the next claimer gets it
    assert rules.following_owner(replace(v, state="completed"), "rep-b") is None


def test_an_erased_customers_open_visit_is_cancelled_and_every_visit_loses_its_purpose():
    later = NOW + timedelta(hours=1)
    gone = rules.erased(visit(), later)
    assert (gone.state, gone.purpose, gone.closed_at) == ("cancelled", "", later)
    done = rules.erased(visit(state="completed"), later)
    assert (done.state, done.purpose, done.closed_at) == ("completed", "", None)
    assert rules.export_json(gone)["closed_at"] == later.isoformat()
