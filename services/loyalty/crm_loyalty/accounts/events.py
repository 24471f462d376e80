"""Events the ledger consumes (group "loyalty-accounts"): order.paid awards,
payment.refunded claws back, customer.created opens the account,
customer.erased erases its personal data. Each effect is deduplicated in
its own script (by order id, refund id), so a redelivery changes nothing."""

from __future__ import annotations

import redis

from crm_kit.events.bus import stream_for
from crm_kit.events.consumer import EventConsumer
from crm_kit.events.envelope import (CUSTOMER_CREATED, CUSTOMER_ERASED, ORDER_PAID, PAYMENT_REFUNDED, Envelope,
                                     payload_of)
from crm_kit.ids import matches

from crm_loyalty.access import CUSTOMER_ID
from crm_loyalty.accounts.service import AccountService

GROUP = "loyalty-accounts"


def handle(accounts: AccountService, env: Envelope) -> None:
    if env.type not in (ORDER_PAID, PAYMENT_REFUNDED, CUSTOMER_CREATED, CUSTOMER_ERASED):
        return
    msg = payload_of(env)
    if not matches(CUSTOMER_ID, msg.customer_id):
        return  # not one of ours (a contract's refund names its customer too; nothing else is useful)
    if env.type == ORDER_PAID:
        if msg.order_id:
            accounts.award_order(msg.customer_id, msg.order_id, msg.total.minor_units, msg.total.currency_code)
    elif env.type == PAYMENT_REFUNDED:
        if msg.order_id and msg.refund_id:
            accounts.claw_back(msg.customer_id, msg.order_id, msg.refund_id, msg.amount.minor_units)
    elif env.type == CUSTOMER_CREATED:
        accounts.open(msg.customer_id)
    else:
        accounts.erase(msg.customer_id)


def handle_batch(accounts: AccountService, envelopes: list[Envelope]) -> None:
    """A read's entries in order; runs of order.paid go in one round trip. Any other event first lets
    the awards before it land (a refund must find its order's award)."""
    awards: list[tuple[str, str, int, str]] = []
    for env in envelopes:
        if env.type == ORDER_PAID:
            msg = payload_of(env)
            if matches(CUSTOMER_ID, msg.customer_id) and msg.order_id:
                awards.append((msg.customer_id, msg.order_id, msg.total.minor_units, msg.total.currency_code))
            continue
        if awards:
            accounts.award_orders(awards)
            awards = []
        handle(accounts, env)
    if awards:
        accounts.award_orders(awards)


def consumer(events: redis.Redis, accounts: AccountService, name: str) -> EventConsumer:
    return EventConsumer(events, GROUP, name, [stream_for("sales"), stream_for("customer")], None,
                         batch_handler=lambda envelopes: handle_batch(accounts, envelopes), count=100)
