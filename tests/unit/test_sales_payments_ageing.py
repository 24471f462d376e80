"""The ageing identity as a property: whatever a plan went through
(instalments, receipts allocated oldest first or explicitly, refunds, voids,
amendments, a cancellation), as of any date the buckets add up exactly to
the outstanding total, future-due amounts included, no bucket is negative,
and as of the last day the outstanding total is what the plan's own books
say is unpaid. Also: collected never exceeds the total."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st

from crm_kit.errors import FailedPrecondition, InvalidArgument
from crm_kit.money import Money
from crm_sales.payments import model
from crm_sales.payments.model import Debt, Receipt, Refund

START = date(2026, 1, 1)
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

step = st.one_of(
    st.tuples(st.just("receipt"), st.integers(1, 5000), st.integers(0, 400), st.booleans()),
    st.tuples(st.just("refund"), st.integers(0, 30), st.integers(1, 3000), st.integers(0, 400)),
    st.tuples(st.just("void"), st.integers(0, 30), st.integers(0, 400)),
    st.tuples(st.just("allocate"), st.integers(0, 30), st.integers(1, 12), st.integers(1, 2000)),
    st.tuples(st.just("amend"), st.integers(0, 20000)),
    st.tuples(st.just("cancel"),),
)


def _plan(total: int, parts: list[tuple[int, int]]):
    plan = model.default_plan(Debt("order", "ord_x", "cus_x", "rep", "team", Money(total, "CNY"), START), 30, NOW)
    weights = [w for _offset, w in parts]
    amounts = [total * w // sum(weights) for w in weights]
    amounts[-1] += total - sum(amounts)  # integer split that adds up exactly
    wanted = [(START + timedelta(days=offset), amount) for (offset, _w), amount in zip(parts, amounts) if amount > 0]
    if wanted and sum(a for _d, a in wanted) == total:
        plan = model.replace_instalments(plan, model.build_instalments(wanted, total))
    return plan


def _apply(plan, action, n: int):
    kind = action[0]
    if kind == "receipt":
        _k, amount, day, explicit = action
        receipt = Receipt(f"rct_{n}", "cash", amount, START + timedelta(days=day), "", "fin", NOW)
        allocations = [(plan.instalments[-1].number, min(amount, plan.unpaid(plan.instalments[-1])))] \
            if explicit and plan.unpaid(plan.instalments[-1]) > 0 else None
        return model.add_receipt(plan, receipt, allocations)
    if not plan.receipts and kind in ("refund", "void", "allocate"):
        return plan
    if kind == "refund":
        _k, which, amount, day = action
        r = plan.receipts[which % len(plan.receipts)]
        return model.refund(plan, r.id, Refund(f"rfd_{n}", amount, r.received_on + timedelta(days=day), False, "",
                                               "fin", NOW))
    if kind == "void":
        _k, which, day = action
        r = plan.receipts[which % len(plan.receipts)]
        return model.refund(plan, r.id, Refund(f"rfd_{n}", 0, r.received_on + timedelta(days=day), True, "",
                                               "fin", NOW))
    if kind == "allocate":
        _k, which, number, amount = action
        r = plan.receipts[which % len(plan.receipts)]
        return model.allocate(plan, r.id, [(number, amount)])
    if kind == "amend":
        return model.resize(plan, action[1], START + timedelta(days=n))
    return model.cancel(plan, START + timedelta(days=n))


@settings(max_examples=400, deadline=None)
@given(total=st.integers(1, 20000),
       parts=st.lists(st.tuples(st.integers(-120, 200), st.integers(1, 10)), min_size=1, max_size=6),
       steps=st.lists(step, max_size=14),
       as_of_days=st.lists(st.integers(-10, 700), min_size=1, max_size=6))
def test_the_buckets_always_add_up_to_the_outstanding_total(total, parts, steps, as_of_days):
    plan = _plan(total, parts)
    cut = False  # only a cut of the total leaves more collected than owed (a credit to refund)
    for n, action in enumerate(steps):
        try:
            plan = replace(_apply(plan, action, n), revision=plan.revision + 1)
        except (FailedPrecondition, InvalidArgument):
            continue  # refused: the plan stays as it was
        cut = cut or action[0] in ("amend", "cancel")
        # Invariants of every stored state.
        assert sum(i.amount for i in plan.instalments) == plan.total
        assert all(0 <= plan.paid_to(i.number) <= i.amount for i in plan.instalments)
        assert all(r.unallocated >= 0 and r.net >= 0 for r in plan.receipts)
        assert plan.allocated <= plan.collected
        assert cut or plan.collected <= plan.total
    for days in as_of_days:
        as_of = START + timedelta(days=days)
        buckets = model.plan_buckets(plan, as_of)
        outstanding = sum(model.unpaid_as_of(plan, i, as_of) for i in plan.instalments) \
            if plan.starts_on <= as_of else 0
        assert all(v >= 0 for v in buckets.values())
        assert sum(buckets.values()) == outstanding
        (report,) = model.ageing([plan], as_of)
        assert report.outstanding == outstanding and report.overdue == outstanding - buckets["not_yet_due"]
    far = START + timedelta(days=10_000)  # after every receipt and refund: today's books
    assert sum(model.plan_buckets(plan, far).values()) == plan.total - plan.allocated


@settings(max_examples=200, deadline=None)
@given(total=st.integers(1, 10000), amounts=st.lists(st.integers(1, 5000), max_size=10))
def test_collected_never_exceeds_the_total(total, amounts):
    plan = _plan(total, [(30, 1)])
    for n, amount in enumerate(amounts):
        try:
            plan = model.add_receipt(plan, Receipt(f"rct_{n}", "cash", amount, START, "", "fin", NOW), None)
        except FailedPrecondition as refused:
            assert amount > plan.balance
            assert f"by {amount - plan.balance} CNY" in refused.message
    assert plan.collected <= plan.total


def test_the_buckets_by_days_past_due():
    assert [model.bucket_of(d) for d in (-5, 0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        "not_yet_due", "not_yet_due", "days_1_30", "days_1_30", "days_31_60", "days_31_60", "days_61_90",
        "days_61_90", "over_90", "over_90"]
