"""Care-plan rules: lunar and Gregorian dates mapped to this year's day,
the holidays of a day, templates and their placeholders, channel choice."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given, settings, strategies as st
from lunardate import LunarDate

from crm_kit.errors import InvalidArgument
from crm_loyalty.greetings import model
from crm_loyalty.greetings.model import Contact, RecordedDate


# -- dates ---------------------------------------------------------------------------

def test_lunar_festivals_fall_on_their_gregorian_days():
    assert model.holidays_on(date(2026, 9, 25), {}) == [model.Occurrence("mid_autumn", "mid_autumn", 2026)]
    assert model.holidays_on(date(2025, 10, 6), {}) == [model.Occurrence("mid_autumn", "mid_autumn", 2025)]
    assert model.holidays_on(date(2026, 2, 17), {})[0].code == "spring_festival"
    assert model.holidays_on(date(2026, 6, 19), {})[0].code == "dragon_boat"
    assert model.holidays_on(date(2026, 9, 24), {}) == []


def test_configured_solar_holidays():
    holidays = model.parse_solar_holidays("new_year=01-01, national_day=10-01")
    assert holidays == {"new_year": (1, 1), "national_day": (10, 1)}
    assert model.holidays_on(date(2026, 10, 1), holidays) == [model.Occurrence("national_day", "national_day", 2026)]
    for bad in ("x=13-01", "Bad=01-01", "mid_autumn=08-15", "new_year"):
        with pytest.raises(ValueError):
            model.parse_solar_holidays(bad)


def test_a_leap_month_date_in_a_year_without_that_leap_month_falls_in_the_ordinary_month():
    assert LunarDate.leap_month_for_year(2025) == 6 and LunarDate.leap_month_for_year(2026) is None
    # Born in the leap sixth month of 2025: greeted in the leap month in 2025 ...
    assert model.lunar_day(2025, 6, 10, leap_month=True) == LunarDate(2025, 6, 10, True).to_solar_date()
    # ... and in 2026, which has no leap month, in the ordinary sixth month.
    assert model.lunar_day(2026, 6, 10, leap_month=True) == LunarDate(2026, 6, 10).to_solar_date()
    # An ordinary-month date stays in the ordinary month in a year with that leap month.
    assert model.lunar_day(2025, 6, 10) == LunarDate(2025, 6, 10).to_solar_date()


def test_a_30th_in_a_29_day_month_falls_on_the_29th():
    with pytest.raises(ValueError):
        LunarDate(2026, 8, 30).to_solar_date()  # the eighth month of 2026 has 29 days
    assert model.lunar_day(2026, 8, 30) == LunarDate(2026, 8, 29).to_solar_date()
    assert model.lunar_day(2026, 9, 30) == LunarDate(2026, 9, 30).to_solar_date()  # a 30-day month keeps it
    # A 30th of a leap month, in a year without it and an ordinary month of 29 days.
    assert model.lunar_day(2026, 5, 30, leap_month=True) == LunarDate(2026, 5, 29).to_solar_date()


def test_a_lunar_birthday_falls_on_its_gregorian_day_once_per_lunar_year():
    birthday = RecordedDate("lunar", 8, 30)
    on = LunarDate(2026, 8, 29).to_solar_date()
    assert model.personal_occasions_on(on, birthday, []) == [model.Occurrence("birthday", "birthday", 2026)]
    assert model.personal_occasions_on(date(2026, 10, 10), birthday, []) == []
    # A twelfth-month birthday of lunar 2025 falls in January 2026 and counts for lunar year 2025.
    winter = RecordedDate("lunar", 12, 5)
    jan = LunarDate(2025, 12, 5).to_solar_date()
    assert jan.year == 2026
    assert model.personal_occasions_on(jan, winter, []) == [model.Occurrence("birthday", "birthday", 2025)]


def test_a_29_february_birthday_falls_on_the_28th_in_common_years():
    birthday = RecordedDate("gregorian", 2, 29)
    assert model.falls_on(birthday, date(2026, 2, 28)) == 2026
    assert model.falls_on(birthday, date(2026, 3, 1)) is None
    assert model.falls_on(birthday, date(2028, 2, 29)) == 2028
    assert model.falls_on(birthday, date(2028, 2, 28)) is None


def test_anniversaries_are_coded_without_their_label():
    wedding = RecordedDate("gregorian", 5, 20, label="wedding of Li Lei")
    found = model.personal_occasions_on(date(2026, 5, 20), None, [wedding])
    assert len(found) == 1 and found[0].kind == "anniversary"
    assert "Li" not in found[0].code and found[0].code.startswith("anniversary_")
    assert found[0].code == model.anniversary_code(wedding)


# -- templates --------------------------------------------------------------------------

def test_every_occasion_has_a_default_in_both_languages_with_known_placeholders():
    for occasion in (*model.BUILT_IN_OCCASIONS, "national_day"):
        for language in model.LANGUAGES:
            t = model.default_template(occasion, language)
            assert t.built_in and t.subject and "{name}" in t.body
            model.placeholders_in(t.body, "body")


def test_an_unknown_placeholder_is_refused_naming_it():
    with pytest.raises(InvalidArgument) as err:
        model.validated_template("birthday", "en", "Hi", "Dear {name}, your {points} points", model.BUILT_IN_OCCASIONS)
    assert err.value.violations[0].field == "template.body"
    assert "{points}" in err.value.violations[0].description
    for sneaky in ("{name.__class__}", "{name!r}", "{name:>10}", "{0}", "{}", "{tier[0]}"):
        with pytest.raises(InvalidArgument):
            model.validated_template("birthday", "en", "Hi", sneaky, model.BUILT_IN_OCCASIONS)
    with pytest.raises(InvalidArgument) as err:
        model.validated_template("birthday", "en", "Hi {nme}", "ok", model.BUILT_IN_OCCASIONS)
    assert err.value.violations[0].field == "template.subject"


def test_template_fields_are_validated():
    with pytest.raises(InvalidArgument) as err:
        model.validated_template("halloween", "fr", "x" * 201, "x" * 2001, model.BUILT_IN_OCCASIONS)
    assert {v.field for v in err.value.violations} == {
        "template.occasion", "template.language", "template.subject", "template.body"}
    with pytest.raises(InvalidArgument) as err:
        model.validated_template("birthday", "en", "Hi\nthere", " ", model.BUILT_IN_OCCASIONS)
    assert {v.field for v in err.value.violations} == {"template.subject", "template.body"}
    # No subject: SMS has none and e-mail takes the default's.
    assert model.validated_template("birthday", "en", "", "Dear {name}", model.BUILT_IN_OCCASIONS).subject == ""


def test_rendering_fills_name_and_tier_only():
    t = model.validated_template("birthday", "en", "For {name}", "Dear {name} ({tier}), {{braces}} stay",
                                 model.BUILT_IN_OCCASIONS)
    assert model.render(t.body, name="Ann {tier}", tier="gold") == "Dear Ann {tier} (gold), {braces} stay"


def test_language_follows_the_script_of_the_name():
    assert model.language_for("王小明", "zh") == "zh"
    assert model.language_for("Ann Lee", "zh") == "en"


# -- channels ----------------------------------------------------------------------------------

def _contact(sms="unknown", email="unknown", phone="+8613900000000", mail="a@example.com"):
    return Contact("cus_x", "Ann", phone, mail, sms, email, None, ())


def test_only_a_granted_consent_opens_a_channel():
    order = ("sms", "email")
    assert model.choose_channel(_contact(sms="granted"), order) == ("sms", "+8613900000000")
    assert model.choose_channel(_contact(sms="withdrawn", email="granted"), order) == ("email", "a@example.com")
    assert model.choose_channel(_contact(), order) == (None, "no_consent")
    assert model.choose_channel(_contact(sms="withdrawn", email="withdrawn"), order) == (None, "no_consent")
    assert model.choose_channel(_contact(sms="granted", phone=""), order) == (None, "no_contact")
    assert model.choose_channel(_contact(sms="granted", email="granted"), ("email",)) == ("email", "a@example.com")


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(year=st.integers(1901, 2098), month=st.integers(1, 12), day=st.integers(1, 30), leap=st.booleans())
def test_every_lunar_date_has_exactly_one_day_in_each_lunar_year(year, month, day, leap):
    """Every recorded lunar date lands on one Gregorian day of every lunar
    year: its own month (the leap one only when asked for and present), its
    own day or the month's last, and the day is recognised as the occasion."""
    on = model.lunar_day(year, month, day, leap)
    assert on is not None
    lunar = LunarDate.from_solar_date(on.year, on.month, on.day)
    assert (lunar.year, lunar.month) == (year, month)
    assert lunar.isLeapMonth == (leap and LunarDate.leap_month_for_year(year) == month)
    assert lunar.day == day or (day == 30 and lunar.day == 29)
    assert model.falls_on(RecordedDate("lunar", month, day, leap), on) == year


@settings(max_examples=200, deadline=None)
@given(year=st.integers(1901, 2098), month=st.integers(1, 12), day=st.integers(1, 31))
def test_every_gregorian_date_has_one_day_each_year(year, month, day):
    assume(day <= (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31))  # a date someone can record
    on = model.gregorian_day(year, month, day)
    assert on.year == year and model.falls_on(RecordedDate("gregorian", month, day), on) == year
