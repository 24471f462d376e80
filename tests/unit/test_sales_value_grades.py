"""Customer value grades: bands over cumulative shares of a year's positive
margin; ties, boundaries and the no-margin grade; the bands partition the
customers and a larger margin never gets a worse grade."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from crm_kit.settings import SettingsError
from crm_sales.profitability.grades.model import DEFAULT_BANDS, counts, grade_customers, parse_bands

BANDS = parse_bands(DEFAULT_BANDS)


def test_default_bands_read_best_first_with_the_no_margin_grade_last():
    assert BANDS.grades == ("A", "B", "C", "D")
    assert [b.share_percent for b in BANDS.bands] == [50, 30, 20]


@pytest.mark.parametrize("raw", ["A:50,B:30", "A:50,B:30,C:30", "A:50,A:50", "A:50,D:50", "a:50,b:50",
                                 "A50,B50", "A:0,B:100", "A:-5,B:105", "", "A:50,B:30,C:20,"])
def test_bad_bands_are_refused_naming_the_variable(raw):
    with pytest.raises(SettingsError, match="SALES_VALUE_GRADE_BANDS"):
        parse_bands(raw)


def test_a_customer_crossing_a_boundary_belongs_to_the_band_above_it():
    # 100 in all: x alone makes 40 %, y takes the running share from 40 to 70 % (crosses 50 %).
    grades = grade_customers({"x": 40, "y": 30, "z": 20, "w": 10}, BANDS)
    assert grades == {"x": "A", "y": "A", "z": "B", "w": "C"}


def test_exactly_on_a_boundary_the_next_customer_starts_the_next_band():
    # x makes exactly 50 %: the margin ahead of y is 50 %, not below it, so y is B.
    assert grade_customers({"x": 50, "y": 30, "z": 20}, BANDS) == {"x": "A", "y": "B", "z": "C"}


def test_one_customer_making_most_of_the_margin_leaves_the_middle_band_empty():
    grades = grade_customers({"big": 90, "s1": 5, "s2": 5}, BANDS)
    assert grades == {"big": "A", "s1": "C", "s2": "C"}
    assert counts(grades, BANDS) == {"A": 1, "B": 0, "C": 2, "D": 0}


def test_equal_margins_get_the_same_grade_whatever_their_ids():
    grades = grade_customers({"a": 25, "z": 25, "m": 25, "b": 25}, BANDS)
    assert set(grades.values()) == {"A"}


def test_no_or_negative_margin_is_the_no_margin_grade():
    assert grade_customers({"zero": 0, "loss": -500, "gain": 1}, BANDS) == {"zero": "D", "loss": "D", "gain": "A"}


def test_nobody_with_margin_grades_everyone_d_and_nothing_is_empty():
    assert grade_customers({"a": 0, "b": -1}, BANDS) == {"a": "D", "b": "D"}
    assert grade_customers({}, BANDS) == {}


def test_many_low_margin_orders_lose_to_a_few_high_margin_ones():
    # The story: X's margin is smaller however many orders made it.
    grades = grade_customers({"X": 40 * 100, "Y": 3 * 5_000, "others": 1_000}, BANDS)
    assert BANDS.rank(grades["Y"]) < BANDS.rank(grades["X"])


margins = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=4),
                          st.integers(min_value=-10**6, max_value=10**12), max_size=40)
band_sets = st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=5).filter(
    lambda shares: sum(shares) <= 100)


def _bands_of(shares: list[int]):
    shares = [*shares, 100 - sum(shares)] if sum(shares) < 100 else shares
    return parse_bands(",".join(f"G{i}:{s}" for i, s in enumerate(shares)))


@given(margins, band_sets)
def test_bands_partition_the_customers_and_larger_margins_never_grade_worse(margins, shares):
    bands = _bands_of(shares)
    grades = grade_customers(margins, bands)
    assert set(grades) == set(margins)                       # everyone graded, once
    assert all(g in bands.grades for g in grades.values())
    assert sum(counts(grades, bands).values()) == len(margins)
    for a, ma in margins.items():
        for b, mb in margins.items():
            if ma > mb:
                assert bands.rank(grades[a]) <= bands.rank(grades[b])
            if ma == mb:
                assert grades[a] == grades[b]
        assert (grades[a] == bands.no_margin_grade) == (ma <= 0)


@given(margins)
def test_the_first_band_holds_at_least_its_share_of_the_margin(margins):
    grades = grade_customers(margins, BANDS)
    total = sum(m for m in margins.values() if m > 0)
    in_a = sum(m for c, m in margins.items() if grades[c] == "A")
    assert in_a * 100 >= 50 * total
    # ... and without its smallest member it would be below the share (the band is not too big)
    a_margins = sorted(m for c, m in margins.items() if grades[c] == "A")
    if a_margins:
        smallest = a_margins[0]
        ahead = sum(m for m in margins.values() if m > smallest)
        assert ahead * 100 < 50 * total


def test_figures_sum_by_current_grade_and_the_never_graded_are_none():
    from crm_sales.profitability.grades.model import by_grade

    figures = {"a": (100, 90), "b": (50, 50), "c": (-10, -20), "new": (7, 7)}
    assert by_grade(figures, {"a": "A", "b": "A", "c": "D"}) == {"A": (150, 140), "D": (-10, -20), "none": (7, 7)}
