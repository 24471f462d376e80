"""The sales service's business metrics (Prometheus, on the service's
metrics port with the kit's RED metrics). Every name lives here, so the
alert rules (deploy/prometheus/alerts.yml) and the dashboard panels
(deploy/grafana/crm-overview.json) have one place to agree with.

Amounts are integer minor units, labelled by ISO 4217 currency (a bounded
set: codes are validated before anything is counted), never summed across
currencies. Counters count what this replica did (sum them across pods);
the overdue gauge is the whole book's figure as one replica last computed
it (take the max across pods, never the sum). No customer ids or names in
labels: ids and amounts stay in events and stores.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from crm_kit.money import Money

ORDERS_CONFIRMED = Counter("crm_sales_orders_confirmed_total", "Orders confirmed.")
REVENUE = Counter("crm_sales_revenue_minor_units_total",
                  "Totals of orders as confirmed, in minor units, by currency (later amendments are not counted).",
                  ["currency"])
RECEIPTS = Counter("crm_sales_receipts_total", "Receipts recorded, by payment method.", ["method"])
RECEIPTS_AMOUNT = Counter("crm_sales_receipts_minor_units_total", "Amounts received, in minor units, by currency.",
                          ["currency"])
OVERDUE = Gauge("crm_sales_overdue_minor_units",
                "Outstanding amounts past their due date across all plans, in minor units, by currency "
                "(the whole book as last computed; max across replicas).", ["currency"])
CONTRACT_REMINDERS = Counter("crm_sales_contract_reminders_total",
                             "Contract expiry reminders sent (contract.expiring), once per contract and end date.")
CONTRACT_RENEWALS = Counter("crm_sales_contract_renewals_total", "Contracts renewed automatically.")
# Profitability by customer value grade (a job refreshes them from the roll-ups: the whole book as one replica last
# computed it, so take the max across replicas, never the sum). `month` is bounded: the current month and the 12
# before it; `grade` is a configured value grade or "none" (never graded).
VALUE_GRADE_MARGIN = Gauge("crm_sales_value_grade_margin_minor_units",
                           "Gross margin per month of the customers of each current value grade, in minor units "
                           "(max across replicas).", ["grade", "month", "currency"])
VALUE_GRADE_NET = Gauge("crm_sales_value_grade_net_contribution_minor_units",
                        "Net contribution (margin less attributed expenses) per month of the customers of each "
                        "current value grade, in minor units (max across replicas).", ["grade", "month", "currency"])
VALUE_GRADE_CUSTOMERS = Gauge("crm_sales_value_grade_customers",
                              "Customers holding each value grade now (max across replicas).", ["grade"])
VALUE_GRADE_CHANGES = Counter("crm_sales_value_grade_changes_total",
                              "Value grades stored because they changed, by the grade given.", ["grade"])

# Commission and expenses: counted when a statement takes a line (a redelivered event counts once) and when an
# expense is approved; `category` is one of the configured expense categories (a bounded set).
COMMISSION_EARNED = Counter("crm_sales_commission_earned_minor_units_total",
                            "Commission earned on collected cash, in minor units, by currency.", ["currency"])
COMMISSION_CLAWED_BACK = Counter("crm_sales_commission_clawed_back_minor_units_total",
                                 "Commission clawed back by refunds, voids and amendments, in minor units, by "
                                 "currency.", ["currency"])
# Daily reports: `timing` is on_time or late for a first submission, edited for a change before the deadline.
DAILY_REPORTS = Counter("crm_sales_daily_reports_total", "Daily reports submitted (on_time, late) and edited.",
                        ["timing"])
EXPENSES_APPROVED = Counter("crm_sales_expenses_approved_total", "Sales expenses approved, by category.",
                            ["category"])
EXPENSES_APPROVED_AMOUNT = Counter("crm_sales_expenses_approved_minor_units_total",
                                   "Amounts of approved sales expenses, in minor units, by currency.", ["currency"])


def commission_posted(amounts: list[tuple[str, int]]) -> None:
    """(currency, amount) of each line a statement took: positive earned, negative clawed back."""
    for currency, amount in amounts:
        if amount > 0:
            COMMISSION_EARNED.labels(currency).inc(amount)
        elif amount < 0:
            COMMISSION_CLAWED_BACK.labels(currency).inc(-amount)


def expense_approved(category: str, amount: Money) -> None:
    EXPENSES_APPROVED.labels(category).inc()
    EXPENSES_APPROVED_AMOUNT.labels(amount.currency_code).inc(amount.minor_units)


def order_confirmed(total: Money) -> None:
    ORDERS_CONFIRMED.inc()
    REVENUE.labels(total.currency_code).inc(total.minor_units)


def receipt_recorded(method: str, amount: Money) -> None:
    RECEIPTS.labels(method).inc()
    RECEIPTS_AMOUNT.labels(amount.currency_code).inc(amount.minor_units)


def overdue_now(by_currency: dict[str, int]) -> None:
    """The overdue total per currency, as of now; a currency no longer overdue reads 0."""
    for currency in _overdue_currencies - set(by_currency):
        OVERDUE.labels(currency).set(0)
    for currency, amount in by_currency.items():
        OVERDUE.labels(currency).set(amount)
        _overdue_currencies.add(currency)


_overdue_currencies: set[str] = set()


def value_grade_changed(grade: str) -> None:
    VALUE_GRADE_CHANGES.labels(grade).inc()


def contribution_by_grade(currency: str, by_month: dict[str, dict[str, tuple[int, int]]],
                          customers_per_grade: dict[str, int]) -> None:
    """{month: {grade: (margin, net)}} as the whole book's figures now; label
    sets no longer reported (a month that left the window) are removed."""
    seen = set()
    for month, grades in by_month.items():
        for grade, (margin, net) in grades.items():
            VALUE_GRADE_MARGIN.labels(grade, month, currency).set(margin)
            VALUE_GRADE_NET.labels(grade, month, currency).set(net)
            seen.add((grade, month, currency))
    for labels in _contribution_labels - seen:
        VALUE_GRADE_MARGIN.remove(*labels)
        VALUE_GRADE_NET.remove(*labels)
    _contribution_labels.clear()
    _contribution_labels.update(seen)
    for grade, count in customers_per_grade.items():
        VALUE_GRADE_CUSTOMERS.labels(grade).set(count)


_contribution_labels: set[tuple[str, str, str]] = set()
