"""Pipeline rules: the stage configuration, stage moves, following the
owner, forecast arithmetic and funnel conversion."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_kit.errors import FailedPrecondition, InvalidArgument
from crm_kit.money import Money
from crm_kit.settings import SettingsError
from crm_sales.opportunities import model as rules
from crm_sales.opportunities.model import Stage
from crm_sales.profitability.months import DEFAULT_ZONE

STAGES = rules.parse_stages("qualify:10,propose:40,negotiate:70")
T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.timezone.utc)
TODAY = T0.date()


def opp(amount=10000, stage="qualify", close=dt.date(2026, 4, 15), owner="rep-a", team="t1", code="CNY", oid="o1"):
    draft = rules.build_draft(customer_id="cus_1", title="空调", amount=Money(amount, code), expected_close=close,
                              stage="qualify", owner_id="", stages=STAGES, today=TODAY)
    made = rules.new_opportunity(draft, opportunity_id=oid, owner_id=owner, team_id=team, by=owner, now=T0)
    path = {"qualify": [], "propose": ["propose"], "negotiate": ["propose", "negotiate"]}
    for i, step in enumerate(path.get(stage, ["propose", "negotiate", stage])):
        made = rules.move_stage(made, step, "因为" if step in rules.TERMINAL else "", STAGES, owner,
                                T0 + dt.timedelta(days=i + 1))
    return made


def test_stages_parse_in_order_and_bad_ones_name_the_variable():
    assert STAGES.stages == (Stage("qualify", 10), Stage("propose", 40), Stage("negotiate", 70))
    for raw in ("", "qualify", "qualify:100", "qualify:-1", "Qualify:10", "won:50", "a:1,a:2", "a:1,,b:2"):
        with pytest.raises(SettingsError, match="SALES_OPPORTUNITY_STAGES"):
            rules.parse_stages(raw)


def test_weighted_amount_rounds_down_to_the_minor_unit():
    assert rules.weighted(Money(12345, "CNY"), 10) == Money(1234, "CNY")
    assert rules.weighted(Money(999, "JPY"), 70) == Money(699, "JPY")


def test_closing_needs_a_reason_and_is_final():
    o = opp()
    with pytest.raises(InvalidArgument) as err:
        rules.move_stage(o, "lost", " ", STAGES, "rep-a", T0)
    assert [v.field for v in err.value.violations] == ["reason"]
    lost = rules.move_stage(o, "lost", "太贵", STAGES, "rep-a", T0)
    assert not lost.is_open and lost.closed_at == T0 and lost.close_reason == "太贵"
    assert rules.move_stage(lost, "lost", "太贵", STAGES, "rep-a", T0) is None
    with pytest.raises(FailedPrecondition):
        rules.move_stage(lost, "qualify", "", STAGES, "rep-a", T0)
    assert rules.move_stage(o, "qualify", "", STAGES, "rep-a", T0) is None  # already there


def test_following_the_owner_skips_closed_ones_and_older_changes():
    o = opp()
    later = T0 + dt.timedelta(hours=1)
    moved = rules.following_owner(o, "rep-b", "t2", later, later)
    assert (moved.owner_id, moved.team_id, moved.owner_since, moved.team_since) == ("rep-b", "t2", later, later)
    assert rules.following_owner(moved, "rep-a", "t1", T0 + dt.timedelta(minutes=30), later) is None
    assert rules.following_owner(moved, "rep-b", "t2", later, later) is None  # the same event again
    assert rules.following_owner(opp(stage="won"), "rep-b", "t2", later, later) is None


def test_forecast_totals_round_once_per_row_not_per_item():
    opps = [opp(335, oid="a"), opp(335, oid="b"), opp(335, oid="c")]  # 33.5 each at 10 %
    (row,) = rules.forecast(opps, STAGES, "owner", zone=DEFAULT_ZONE)
    assert (row.month, row.group, row.count, row.amount) == ("2026-04", "rep-a", 3, Money(1005, "CNY"))
    assert row.weighted == Money(100, "CNY")  # 100.5 rounded down once; per item it would be 3 × 33 = 99


def test_forecast_groups_by_month_owner_team_and_currency_and_skips_lost():
    opps = [opp(1000, owner="rep-a", oid="a"), opp(1000, owner="rep-b", oid="b"),
            opp(500, owner="rep-b", code="USD", oid="c"), opp(7000, stage="lost", oid="d"),
            opp(2000, stage="won", close=dt.date(2026, 9, 1), oid="e"),
            opp(4000, stage="negotiate", close=dt.date(2026, 5, 2), oid="f")]
    by_owner = [(r.month, r.group, r.currency, r.count, r.weighted.minor_units, r.won.minor_units)
                for r in rules.forecast(opps, STAGES, "owner", zone=DEFAULT_ZONE)]
    won_month = "2026-03"  # the won one counts when it was won (T0 + 3 days), not its planned close
    assert by_owner == [(won_month, "rep-a", "CNY", 1, 2000, 2000), ("2026-04", "rep-a", "CNY", 1, 100, 0),
                        ("2026-04", "rep-b", "CNY", 1, 100, 0), ("2026-04", "rep-b", "USD", 1, 50, 0),
                        ("2026-05", "rep-a", "CNY", 1, 2800, 0)]
    by_team = rules.forecast(opps, STAGES, "team", from_month="2026-04", to_month="2026-04", zone=DEFAULT_ZONE)
    assert [(r.group, r.currency, r.count, r.amount.minor_units) for r in by_team] == \
        [("t1", "CNY", 2, 2000), ("t1", "USD", 1, 500)]


def test_funnel_conversion_uses_the_furthest_stage_each_reached():
    opps = [opp(stage="qualify", oid="a"), opp(stage="propose", oid="b"), opp(stage="lost", oid="c"),
            opp(stage="won", oid="d"), opp(stage="negotiate", oid="e")]
    rows = {r.stage: r for r in rules.funnel(opps, STAGES)}
    # the lost one went through negotiate before it was lost
    assert [rows[s].reached for s in ("qualify", "propose", "negotiate", "won")] == [5, 4, 3, 1]
    assert [rows[s].conversion_bp for s in ("qualify", "propose", "negotiate")] == [8000, 7500, 3333]
    assert rows["won"].conversion_bp is None and rows["lost"].count == 1
    assert rules.funnel([], STAGES)[0].conversion_bp is None  # nothing reached: no rate, not a division by zero


def test_a_draft_refuses_bad_amounts_dates_and_closing_stages():
    with pytest.raises(InvalidArgument) as err:
        rules.build_draft(customer_id="", title="", amount=Money(0, "CNY"), expected_close=dt.date(2040, 1, 1),
                          stage="won", owner_id="", stages=STAGES, today=TODAY)
    assert {v.field for v in err.value.violations} == \
        {"customer_id", "title", "amount.minor_units", "expected_close", "stage"}
    with pytest.raises(InvalidArgument):
        rules.parse_month("2026-3", "from_month")


@pytest.mark.parametrize("variable,value", [("SALES_OPPORTUNITY_STAGES", "qualify:10,won:90"),
                                            ("SALES_MARGIN_GRADES", "A:1000,B:2000")])
def test_the_service_refuses_to_start_on_bad_stage_or_grade_settings(monkeypatch, variable, value):
    from crm_sales.settings import SalesSettings
    monkeypatch.setenv("CRM_JWT_DEV_SECRET", "unit-test-secret-unit-test-secret")
    monkeypatch.delenv("CRM_JWT_JWKS_FILE", raising=False)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        SalesSettings.from_env()


def test_stage_and_grade_settings_come_from_the_environment(monkeypatch):
    from crm_sales.settings import SalesSettings
    monkeypatch.setenv("CRM_JWT_DEV_SECRET", "unit-test-secret-unit-test-secret")
    monkeypatch.delenv("CRM_JWT_JWKS_FILE", raising=False)
    monkeypatch.setenv("SALES_OPPORTUNITY_STAGES", "lead:5,demo:30,trial:60")
    monkeypatch.setenv("SALES_MARGIN_GRADES", "HIGH:3000,LOW:0")
    settings = SalesSettings.from_env()
    assert settings.opportunity_stages.names == ("lead", "demo", "trial")
    assert [b.grade for b in settings.margin_grades] == ["HIGH", "LOW"]


def test_a_won_opportunity_counts_in_the_month_of_the_business_day_it_was_won():
    late_on_the_31st = dt.datetime(2026, 3, 31, 20, tzinfo=dt.timezone.utc)  # 04:00 on 1 April in Shanghai
    won = rules.move_stage(opp(2000, stage="negotiate", close=dt.date(2026, 9, 1)), "won", "签了", STAGES, "rep-a",
                           late_on_the_31st)
    assert won.closed_at == late_on_the_31st
    assert rules.forecast_month(won, DEFAULT_ZONE) == "2026-04"
    assert rules.forecast_month(won, dt.timezone.utc) == "2026-03"
