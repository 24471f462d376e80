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
