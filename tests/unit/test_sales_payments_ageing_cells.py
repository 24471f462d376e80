"""The ageing roll-up is exact: a book's summary (the sum of its plans'
cells) gives, as of any date, the same report as ageing the plans one by
one; and taking a plan's old cells off while adding its new ones (what each
write sends to the summaries) keeps the sum equal to the plans as they are."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

from crm_kit.errors import FailedPrecondition, InvalidArgument
from crm_sales.payments import model
from crm_sales.payments.model import AgeingCells, Receipt
from tests.unit.test_sales_payments_ageing import NOW, START, _apply, _plan, step

plan_story = st.tuples(
    st.integers(1, 20000),
    st.lists(st.tuples(st.integers(-120, 200), st.integers(1, 10)), min_size=1, max_size=4),
    st.lists(step, max_size=10),
    st.integers(-40, 40),  # start offset
    st.sampled_from(["CNY", "USD"]),
)


def _story(total, parts, steps, start_offset, currency, n: int):
    """The plan's states, first to last (refused steps leave no state)."""
    plan = replace(_plan(total, parts), debt_id=f"ord_{n}", currency=currency)
    plan = replace(plan, starts_on=plan.starts_on + timedelta(days=start_offset))
    states = [plan]
    for i, action in enumerate(steps):
        try:
            plan = replace(_apply(plan, action, i), revision=plan.revision + 1)
        except (FailedPrecondition, InvalidArgument):
            continue
        states.append(plan)
    return states


def _rows(reports):
    return [(a.currency, a.buckets, a.plans) for a in reports]


@settings(max_examples=300, deadline=None)
@given(stories=st.lists(plan_story, min_size=1, max_size=5),
       days=st.lists(st.integers(-200, 1200), min_size=1, max_size=8))
def test_summed_cells_age_like_the_plans_themselves(stories, days):
    plans = [_story(*s, n)[-1] for n, s in enumerate(stories)]
    cells = AgeingCells()
    for plan in plans:
        cells.add(model.ageing_cells(plan))
    for offset in [*days, -10_000, 10_000]:
        as_of = START + timedelta(days=offset)
        assert _rows(model.ageing_from_cells(cells, as_of)) == _rows(model.ageing(plans, as_of))


@settings(max_examples=200, deadline=None)
@given(stories=st.lists(plan_story, min_size=1, max_size=4), moves=st.lists(st.booleans(), max_size=4),
       days=st.lists(st.integers(-200, 1200), min_size=1, max_size=6))
def test_the_changes_of_every_write_add_up_to_the_books_as_they_are(stories, moves, days):
    """Each write's change (new cells on the books the plan is in, old ones
    off those it was in, an owner or team change included) summed per book."""
    books: dict[str, AgeingCells] = {}
    final = []
    for n, s in enumerate(stories):
        states = _story(*s, n)
        previous = None
        for i, state in enumerate(states):
            if i < len(moves) and moves[i]:  # the plan changes hands with this write
                state = replace(state, owner_id=f"rep{i % 2}", team_id=f"team{i % 3}")
            for book, change in model.cells_change(previous, state).items():
                books.setdefault(book, AgeingCells()).add(change)
            previous = state
        final.append(previous)
    for book in {b for p in final for b in model.ageing_books(p)} | set(books):
        members = [p for p in final if book in model.ageing_books(p)]
        for offset in days:
            as_of = START + timedelta(days=offset)
            assert _rows(model.ageing_from_cells(books.get(book, AgeingCells()), as_of)) == \
                _rows(model.ageing(members, as_of)), book


def test_a_plan_paid_before_it_is_due_leaves_a_row_of_zeros_and_no_outstanding_plan():
    plan = _plan(1000, [(30, 1)])
    paid = model.add_receipt(plan, Receipt("rct_1", "cash", 1000, START + timedelta(days=5), "", "fin", NOW), None)
    cells = model.ageing_cells(paid)
    assert cells.amounts == {("CNY", START, date(2026, 1, 31)): 1000, ("CNY", START + timedelta(days=5),
                                                                      date(2026, 1, 31)): -1000}
    (row,) = model.ageing_from_cells(cells, START + timedelta(days=10))
    assert row.outstanding == 0 and row.plans == 0
    (row,) = model.ageing_from_cells(cells, START + timedelta(days=2))
    assert row.outstanding == 1000 and row.plans == 1
