"""Loyalty rules without I/O: earning, expiry days, clawback shares, tier ladders, settings."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from crm_loyalty.accounts.model import EarnRules, ExpiryRule, add_months, clawback_target
from crm_loyalty.tiers.model import DEFAULT_TIERS, TierLadder, warning


def test_earn_rules_round_down_and_ignore_other_currencies():
    rules = EarnRules.parse("CNY:1:100,USD:7:100")
    assert rules.base_points(12_399, "CNY") == 123
    assert rules.base_points(100, "USD") == 7
    assert rules.base_points(10_000, "EUR") == 0
    assert rules.base_points(-5, "CNY") == 0


@pytest.mark.parametrize("raw", ["CNY:1", "cny:1:100", "CNY:x:100", "CNY:1:0", "CNY:1:100,CNY:2:100"])
def test_bad_earn_rules_are_refused(raw):
    with pytest.raises(ValueError):
        EarnRules.parse(raw)


def test_expiry_rules():
    assert ExpiryRule.parse("end_of_next_year").expires_on(dt.date(2026, 1, 1)) == dt.date(2027, 12, 31)
    assert ExpiryRule.parse("months:12").expires_on(dt.date(2026, 3, 15)) == dt.date(2027, 3, 15)
    assert ExpiryRule.parse("months:1").expires_on(dt.date(2026, 1, 31)) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)
    for bad in ("months:0", "months:x", "weeks:3", ""):
        with pytest.raises(ValueError):
            ExpiryRule.parse(bad)


@given(awarded=st.integers(0, 10**12), total=st.integers(1, 10**15), parts=st.lists(st.integers(0, 10**15), max_size=6))
def test_clawbacks_never_exceed_the_award_and_a_full_refund_takes_all(awarded, total, parts):
    refunded, previous = 0, 0
    for part in parts:
        refunded = min(total, refunded + part)
        target = clawback_target(awarded, total, refunded)
        assert previous <= target <= awarded
        previous = target
    assert clawback_target(awarded, total, total) == awarded


def test_the_ladder():
    ladder = TierLadder.parse(DEFAULT_TIERS)
    assert [t.code for t in ladder.tiers] == ["member", "silver", "gold", "platinum"]
    assert ladder.tiers[ladder.qualified(2_000_000)].code == "gold"
    # a review moves down one level at most, never up
    assert ladder.tiers[ladder.after_review("platinum", 0)].code == "gold"
    assert ladder.tiers[ladder.after_review("silver", 9_000_000)].code == "silver"
    assert ladder.get("retired-tier").code == "member"


def test_the_warning_only_near_the_review_and_only_for_a_downgrade():
    ladder = TierLadder.parse(DEFAULT_TIERS)
    review, today = dt.date(2026, 6, 30), dt.date(2026, 6, 10)
    assert warning(ladder, "gold", 0, review, today, 30) == "silver"
    assert warning(ladder, "gold", 0, review, dt.date(2026, 5, 1), 30) == ""
    assert warning(ladder, "gold", 2_000_000, review, today, 30) == ""
    assert warning(ladder, "member", 0, review, today, 30) == ""


@pytest.mark.parametrize("raw", ["", "member:M:10:100:0", "a:A:0:100:0,b:B:0:100:0", "A:A:0:100:0",
                                 "a:A:0:100", "a:A:0:5000:0"])
def test_bad_ladders_are_refused(raw):
    with pytest.raises(ValueError):
        TierLadder.parse(raw)


def test_settings_name_the_bad_variable(monkeypatch):
    from crm_kit.settings import SettingsError
    from crm_loyalty.settings import LoyaltySettings

    monkeypatch.setenv("CRM_JWT_DEV_SECRET", "s" * 40)
    monkeypatch.delenv("CRM_JWT_JWKS_FILE", raising=False)
    for name, value in (("LOYALTY_POINTS_EXPIRY", "weeks:2"), ("LOYALTY_TIER_BASIS", "visits"),
                        ("LOYALTY_TIERS", "x"), ("LOYALTY_EARN_RULES", "CNY"), ("LOYALTY_TIMEZONE", "Mars/Base"),
                        ("LOYALTY_REFERRAL_YEARLY_CAP", "-1"), ("LOYALTY_TIER_CURRENCY", "XXXX")):
        monkeypatch.setenv(name, value)
        with pytest.raises(SettingsError, match=name):
            LoyaltySettings.from_env()
        monkeypatch.delenv(name)
    assert LoyaltySettings.from_env().expiry == ExpiryRule(0)
