"""Daily reports' rules: the deadline (same day or the morning after, in the
business time zone), what may change before and after it, late reports,
contacts counted once per interaction, erased customers left out, rosters."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crm_kit.errors import FailedPrecondition, InvalidArgument
from crm_sales.profitability.daily_reports import model as rules
from crm_sales.profitability.daily_reports.model import Contact, Deadline, Report, Roster

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 10)
DEADLINE = Deadline.parse("21:00").of(DAY, SHANGHAI)


def at(hour: int, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(timezone.utc)


def submit(report: Report, now: datetime, **text):
    return rules.submit(report, team_id="team-1", work_done=text.get("work_done", "visited two shops"),
                        tomorrow_plan=text.get("tomorrow_plan", ""), problems=text.get("problems", ""),
                        deadline=DEADLINE, now=now, today=rules.local_day(now, SHANGHAI), late_days=7)


def test_the_deadline_is_local_time_on_the_day_or_the_morning_after():
    assert DEADLINE == datetime(2026, 3, 10, 13, 0, tzinfo=timezone.utc)
    assert Deadline.parse("09:30+1").of(DAY, SHANGHAI) == datetime(2026, 3, 11, 1, 30, tzinfo=timezone.utc)
    assert str(Deadline.parse("09:30+1")) == "09:30+1"
    for bad in ("24:00", "9:30", "21:00+2", "", "noon"):
        with pytest.raises(ValueError):
            Deadline.parse(bad)


def test_a_timestamp_belongs_to_its_local_day():
    assert rules.local_day(datetime(2026, 3, 9, 16, 30, tzinfo=timezone.utc), SHANGHAI) == DAY  # 00:30 local


def test_before_the_deadline_a_report_is_submitted_and_edited_freely():
    first = submit(Report("rep-1", "", DAY), at(18), work_done="first")
    assert first.submitted and not first.late and first.team_id == "team-1" and first.revision == 1
    edited = submit(first, at(20), work_done="second", problems="late delivery")
    assert (edited.work_done, edited.problems, edited.revision) == ("second", "late delivery", 2)
    assert edited.submitted_at == first.submitted_at and edited.updated_at == at(20)
    assert rules.editable(edited, DEADLINE, at(20), DAY, 7)


def test_after_the_deadline_a_submitted_report_is_frozen():
    first = submit(Report("rep-1", "", DAY), at(18))
    with pytest.raises(FailedPrecondition):
        submit(first, at(22), work_done="changed after the deadline")
    assert not rules.editable(first, DEADLINE, at(22), DAY, 7)


def test_a_missed_report_may_come_late_once_within_the_late_days():
    late = submit(Report("rep-1", "", DAY), at(9, DAY + timedelta(days=3)))
    assert late.late and late.submitted
    with pytest.raises(FailedPrecondition):
        submit(late, at(10, DAY + timedelta(days=3)))
    with pytest.raises(FailedPrecondition):
        submit(Report("rep-1", "", DAY), at(9, DAY + timedelta(days=8)))


def test_no_report_for_a_future_day_and_text_is_checked():
    with pytest.raises(InvalidArgument, match="day"):
        submit(Report("rep-1", "", DAY + timedelta(days=1)), at(18))
    with pytest.raises(InvalidArgument, match="work_done"):
        submit(Report("rep-1", "", DAY), at(18), work_done="   ")
    with pytest.raises(InvalidArgument, match="problems"):
        submit(Report("rep-1", "", DAY), at(18), problems="x" * (rules.MAX_TEXT + 1))


def test_contacts_count_each_interaction_once_per_customer_in_first_contact_order():
    contacts = [Contact("cus_b#1", "visit", at(11)), Contact("cus_a#3", "call", at(10)),
                Contact("cus_a#4", "email", at(15)), Contact("cus_a#3", "call", at(10)),  # delivered twice
                Contact("cus_gone#1", "call", at(9))]
    out = rules.contacted(contacts, erased={"cus_gone"})
    assert [c.customer_id for c in out] == ["cus_a", "cus_b"]
    a, b = out
    assert (a.channels, a.interaction_count, a.visit_count, a.first_at, a.last_at) == \
        (("call", "email"), 2, 0, at(10), at(15))
    assert (b.channels, b.interaction_count, b.visit_count) == (("visit",), 1, 1)


def test_the_roster_is_the_set_one_else_who_submitted_in_the_last_30_days():
    roster = Roster("team-1", submitters={"rep-old": DAY - timedelta(days=31), "rep-new": DAY - timedelta(days=2)})
    assert roster.expected(DAY) == (("rep-new",), "recent")
    assert Roster("team-1", ("rep-x", "rep-y"), roster.submitters).expected(DAY) == (("rep-x", "rep-y"), "set")
    known = rules.with_submitter(roster, "rep-old", DAY)
    assert known.expected(DAY) == (("rep-new", "rep-old"), "recent")
    assert rules.with_submitter(known, "rep-old", DAY - timedelta(days=1)) is None  # already knew a later day


def test_roster_ids_are_checked_and_deduplicated():
    assert rules.roster_ids(["b", "a", "b"]) == ("a", "b")
    with pytest.raises(InvalidArgument, match=r"rep_ids\[1\]"):
        rules.roster_ids(["ok", "no|pipe"])
    with pytest.raises(InvalidArgument, match="rep_ids"):
        rules.roster_ids([f"r{i}" for i in range(rules.MAX_ROSTER + 1)])
