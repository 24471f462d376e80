"""Targets, attainment and rankings: the pure rules (integers only)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from crm_kit.errors import InvalidArgument
from crm_sales.profitability.months import Month
from crm_sales.profitability.targets.model import Goals, MonthFigures, attainment_bp, clean_goals, clean_range, \
    clean_subject, rank, total


def test_attainment_is_basis_points_of_the_target_rounded_down_and_undefined_without_a_target():
    assert attainment_bp(10_000, 10_000) == 10_000
    assert attainment_bp(15_000, 10_000) == 15_000
    assert attainment_bp(1, 3) == 3_333
    assert attainment_bp(0, 500) == 0
    assert attainment_bp(-1, 3) == -3_334  # a month of refunds: below zero, never rounded up to 0
    assert attainment_bp(123, 0) is None


def test_a_range_sums_targets_and_actuals_before_dividing():
    rows = [MonthFigures("2026-01", Goals(100, 50, 0), Goals(50, 10, 5)),
            MonthFigures("2026-02", Goals(100, 50, 0), Goals(250, 90, 5))]
    whole = total(rows)
    assert whole.label == "2026-01..2026-02"
    assert (whole.revenue_bp, whole.margin_bp, whole.cash_bp) == (15_000, 10_000, None)


def test_equal_figures_share_a_rank_and_the_next_rank_skips():
    ranked = rank({"b": (7, "t"), "a": (5, "t"), "c": (5, "t"), "d": (1, "t")})
    assert [(r.rank, r.rep_id) for r in ranked] == [(1, "b"), (2, "a"), (2, "c"), (4, "d")]


@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=3), st.integers(-10**12, 10**12), max_size=30))
def test_ranks_never_improve_down_the_list_and_a_larger_figure_always_ranks_better(values):
    ranked = rank({rep: (v, "t") for rep, v in values.items()})
    assert sorted(r.rep_id for r in ranked) == sorted(values)
    assert all(a.rank <= b.rank and a.value >= b.value for a, b in zip(ranked, ranked[1:]))
    by_rep = {r.rep_id: r for r in ranked}
    for a in values:
        for b in values:
            if values[a] > values[b]:
                assert by_rep[a].rank < by_rep[b].rank
            if values[a] == values[b]:
                assert by_rep[a].rank == by_rep[b].rank


@pytest.mark.parametrize("goals", [(0, 0, 0), (-1, 5, 5), (10**15 + 1, 0, 0), (1.5, 0, 0), (True, 0, 0), ("5", 0, 0)])
def test_bad_goals_are_refused(goals):
    with pytest.raises(InvalidArgument):
        clean_goals(*goals)


def test_ranges_are_ordered_and_bounded():
    assert clean_range("2026-01", "2026-03") == [Month(2026, 1), Month(2026, 2), Month(2026, 3)]
    assert clean_range("2026-05", "") == [Month(2026, 5)]
    for start, end in (("2026-03", "2026-01"), ("2020-01", "2026-01"), ("2026-13", ""), ("x", "")):
        with pytest.raises(InvalidArgument):
            clean_range(start, end)


@pytest.mark.parametrize("bad", ["", "$gt", "a b", "x" * 200, None, 5, {"$ne": 1}])
def test_subject_ids_are_plain_ids(bad):
    with pytest.raises(InvalidArgument):
        clean_subject(bad)
