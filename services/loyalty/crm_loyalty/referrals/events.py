"""Events the referral rewards consume (group "loyalty-referrals"):
referral.linked and customer.created (its referred_by) record the link,
order.paid marks the first paid order."""

from __future__ import annotations

import redis

from crm_kit.events.bus import stream_for
from crm_kit.events.consumer import EventConsumer
from crm_kit.events.envelope import CUSTOMER_CREATED, ORDER_PAID, REFERRAL_LINKED, Envelope, payload_of
from crm_kit.ids import matches

from crm_loyalty.access import CUSTOMER_ID
from crm_loyalty.referrals.service import ReferralService

GROUP = "loyalty-referrals"


def handle(referrals: ReferralService, env: Envelope) -> None:
    if env.type == REFERRAL_LINKED:
        msg = payload_of(env)
        if matches(CUSTOMER_ID, msg.referrer_id) and matches(CUSTOMER_ID, msg.referred_id):
            referrals.linked(msg.referrer_id, msg.referred_id)
    elif env.type == CUSTOMER_CREATED:
        msg = payload_of(env)
        if matches(CUSTOMER_ID, msg.referred_by) and matches(CUSTOMER_ID, msg.customer_id):
            referrals.linked(msg.referred_by, msg.customer_id)
    elif env.type == ORDER_PAID:
        msg = payload_of(env)
        if matches(CUSTOMER_ID, msg.customer_id) and msg.order_id:
            referrals.order_paid(msg.customer_id, msg.order_id)


def handle_batch(referrals: ReferralService, envelopes: list[Envelope]) -> None:
    """A read's entries in order; runs of order.paid are marked in one round trip."""
    paid: list[tuple[str, str]] = []
    for env in envelopes:
        if env.type == ORDER_PAID:
            msg = payload_of(env)
            if matches(CUSTOMER_ID, msg.customer_id) and msg.order_id:
                paid.append((msg.customer_id, msg.order_id))
            continue
        if paid:
            referrals.orders_paid(paid)
            paid = []
        handle(referrals, env)
    if paid:
        referrals.orders_paid(paid)


def consumer(events: redis.Redis, referrals: ReferralService, name: str) -> EventConsumer:
    return EventConsumer(events, GROUP, name, [stream_for("customer"), stream_for("sales")], None,
                         batch_handler=lambda envelopes: handle_batch(referrals, envelopes), count=100)
