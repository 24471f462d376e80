"""Roll-up use cases: figures over a period per customer, product and rep,
series month by month, and the rebuild. No rights here: the callers
(ProfitReports below, other profitability features) check them.

A period is whole months, both ends included. A report over a period reads
(quarters and months) x shards bucket documents by `_id` (never a scan of orders); a
customer's series is one read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, tzinfo

from crm_kit.errors import FieldViolation, InvalidArgument

from crm_sales.profitability.months import Month, covering, months_between
from crm_sales.profitability.rollups.changes import (
    LineFacts, OrderFacts, cash_changes, expense_changes, order_changes)
from crm_sales.profitability.rollups.model import CUSTOMER, PRODUCT, REP, ZERO, Attributed, Figures
from crm_sales.profitability.rollups.store import SHARDS, RollupStore, Row, apply_change, bucket_id, merge_text

# The longest period one report covers.
MAX_MONTHS = 60
# Bucket documents read at once by a report.
READS_IN_FLIGHT = 4
# How far before a period new_customers_by_rep looks for an earlier order.
NEW_CUSTOMER_LOOKBACK_MONTHS = 24


@dataclass(frozen=True)
class ApprovedExpense:
    """What the rebuild needs of an approved expense (from the expenses feature)."""

    expense_id: str
    owner_id: str
    customer_id: str
    currency: str
    amount: int
    spent_on: date


def check_period(start: Month, end: Month) -> None:
    if end < start:
        raise InvalidArgument(FieldViolation("end_month", "must not be before start_month"))
    if end.index - start.index + 1 > MAX_MONTHS:
        raise InvalidArgument(FieldViolation("end_month", f"a period covers at most {MAX_MONTHS} months"))


class RollupService:
    def __init__(self, store: RollupStore, tz: tzinfo, *, orders: Callable[[], Iterable] | None = None,
                 plans: Callable[[], Iterable] | None = None,
                 expenses: Callable[[], Iterable[ApprovedExpense]] | None = None):
        self.store = store
        self.tz = tz
        self._orders = orders
        self._plans = plans
        # Set by the expenses feature once it exists (app.features["rollups"].expenses_source = ...).
        self.expenses_source = expenses

    # --- periods ----------------------------------------------------------------------

    def _period(self, dimension: str, start: Month, end: Month, currency: str) -> dict[str, Attributed]:
        """Every member's figures over the period: (quarters and months) x shards bucket reads, a few in flight, merged
        in the order of the months (a member's attributes are those of its latest counted order)."""
        check_period(start, end)
        totals: dict[str, list] = {}
        for text in self._texts(bucket_ids_of(dimension, currency, start, end)):
            merge_text(totals, text)
        return {key: Attributed(Figures(a[0], a[1], a[2], a[3], a[4]), a[5], a[6], a[7], a[8], a[9])
                for key, a in totals.items() if any(a[:5])}

    def customers(self, start: Month, end: Month, currency: str) -> dict[str, Attributed]:
        return self._period(CUSTOMER, start, end, currency)

    def reps(self, start: Month, end: Month, currency: str) -> dict[str, Attributed]:
        return self._period(REP, start, end, currency)

    def products(self, start: Month, end: Month, currency: str) -> dict[str, Attributed]:
        return self._period(PRODUCT, start, end, currency)

    # --- series -------------------------------------------------------------------------

    def customer_series(self, customer_id: str, start: Month, end: Month, currency: str
                        ) -> list[tuple[Month, Figures]]:
        return self.customer_series_and_year_before(customer_id, start, end, currency)[0]

    def customer_series_and_year_before(self, customer_id: str, start: Month, end: Month, currency: str
                                        ) -> tuple[list[tuple[Month, Figures]], list[tuple[Month, Figures]]]:
        """The period month by month and the same months a year earlier, from
        one read of the customer's series document (it holds every month)."""
        check_period(start, end)
        rows = self.store.series(currency, customer_id)

        def of(months: list[Month]) -> list[tuple[Month, Figures]]:
            return [(m, rows[str(m)].figures if str(m) in rows else ZERO) for m in months]

        return of(months_between(start, end)), of(months_between(start.year_earlier(), end.year_earlier()))

    def _bucket_series(self, dimension: str, member: str, start: Month, end: Month, currency: str
                       ) -> list[tuple[Month, Figures]]:
        check_period(start, end)
        out = []
        for month in months_between(start, end):
            row = self.store.member_row(dimension, currency, month, member)
            out.append((month, row.figures if row else ZERO))
        return out

    def rep_series(self, rep_id: str, start: Month, end: Month, currency: str) -> list[tuple[Month, Figures]]:
        return self._bucket_series(REP, rep_id, start, end, currency)

    def product_series(self, product_id: str, start: Month, end: Month, currency: str
                       ) -> list[tuple[Month, Figures]]:
        return self._bucket_series(PRODUCT, product_id, start, end, currency)

    def new_customers_by_rep(self, start: Month, end: Month, currency: str) -> dict[str, int]:
        """Customers whose first counted order falls in the period (none in
        the NEW_CUSTOMER_LOOKBACK_MONTHS before it), credited to the owner of
        their first month's orders in the period. Reads the lookback by
        quarters and the period by months, parsing only ids, counts and owners."""
        check_period(start, end)
        lookback = bucket_ids_of(CUSTOMER, currency, start.plus(-NEW_CUSTOMER_LOOKBACK_MONTHS), start.prev())
        earlier: set[str] = set()
        for text in self._texts(lookback):
            earlier.update(_ordering(text))
        credited: dict[str, str] = {}
        for month in months_between(start, end):
            ids = [bucket_id(CUSTOMER, currency, month, s) for s in range(SHARDS[CUSTOMER])]
            for text in self._texts(ids):
                for key, owner in _ordering(text).items():
                    if key not in earlier and key not in credited and owner:
                        credited[key] = owner
        out: dict[str, int] = {}
        for rep in credited.values():
            out[rep] = out.get(rep, 0) + 1
        return out

    def _texts(self, doc_ids: list[str]) -> list[str]:
        with ThreadPoolExecutor(READS_IN_FLIGHT) as pool:
            return list(pool.map(self.store.text, doc_ids))

    # --- rebuild ------------------------------------------------------------------------

    def recomputed(self) -> dict[str, dict[str, Row]]:
        """Every roll-up document as the stores say it should be: confirmed
        orders that are not cancelled with their current lines, every receipt
        and refund of every plan, every approved expense."""
        docs: dict[str, dict[str, Row]] = {}

        def add(changes) -> None:
            for doc_id, change in changes:
                apply_change(docs.setdefault(doc_id, {}), change)

        for order in (self._orders() if self._orders else ()):
            if order.confirmed_at is None or order.state == "cancelled" or not order.lines:
                continue
            add(order_changes(facts_of_order(order), self.tz))
        for plan in (self._plans() if self._plans else ()):
            for receipt in plan.receipts:
                add(cash_changes(plan.customer_id, plan.owner_id, plan.currency, receipt.amount,
                                 receipt.received_on))
                for refund in receipt.refunds:
                    add(cash_changes(plan.customer_id, plan.owner_id, plan.currency, -refund.amount,
                                     refund.refunded_on))
        for e in (self.expenses_source() if self.expenses_source else ()):
            add(expense_changes(e.owner_id, e.customer_id, e.currency, e.amount, e.spent_on))
        return docs

    def rebuild(self) -> tuple[int, int]:
        """Recompute every roll-up document from the stores and write the
        ones that differ (documents no longer backed by anything emptied).
        Run it while no events are being applied (a quiet moment, or the
        consumer stopped): an event applied during the run may count twice
        or not at all until the next rebuild. Returns (documents, written)."""
        wanted = self.recomputed()
        written = 0
        for doc_id in sorted(set(wanted) | set(self.store.all_ids())):
            rows = {k: r for k, r in wanted.get(doc_id, {}).items() if not (r.figures.is_zero and not r.as_of)}
            if _same(self.store.rows(doc_id), rows):
                continue
            self.store.replace(doc_id, rows)
            written += 1
        return len(wanted), written


def _ordering(text: str) -> dict[str, str]:
    """{member: owner} of the rows with orders counted, from stored rows."""
    out = {}
    for line in text.split("\n") if text else ():
        parts = line.split("\t", 7)
        if int(parts[4]) > 0:
            out[parts[0]] = parts[6]
    return out


def _same(a: dict[str, Row], b: dict[str, Row]) -> bool:
    def figures(rows):
        return {k: r.figures for k, r in rows.items() if not r.figures.is_zero}
    return figures(a) == figures(b) and {k: r.as_of for k, r in a.items()} == {k: r.as_of for k, r in b.items()}


def facts_of_order(order) -> OrderFacts:
    """An order (crm_sales.orders.model.Order) as the roll-ups count it."""
    return OrderFacts(order.customer_id, order.owner_id, order.team_id, order.region, order.currency_code,
                      order.confirmed_at, tuple(LineFacts(line.product_id, line.margin_grade, line.total.minor_units,
                                                          line.cost.minor_units) for line in order.lines))


def bucket_ids_of(dimension: str, currency: str, start: Month, end: Month) -> list[str]:
    """The buckets a period's figures are the sum of: its whole quarters and ragged months, every shard."""
    return [bucket_id(dimension, currency, period, s) for period in covering(start, end)
            for s in range(SHARDS[dimension])]
