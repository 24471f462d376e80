"""Referral rewards: when a referred customer's first order is paid, whoever
referred them earns the reward, once.

The link (referral.linked, or customer.created's referred_by) is kept on the
referred customer's account; the first paid order is marked there too (the
first order.paid wins). Whichever of the two arrives second triggers the
reward, so the order of the two streams does not matter. The reward goes to
the referrer's account deduplicated by the referred customer's id (once,
ever) and counted against the referrer's yearly cap in the same script.
Self-referrals and cycles (the referrer was, directly or up the chain,
referred by the referred customer) earn nothing.
"""

from __future__ import annotations

from crm_kit.events.envelope import new_event_id

from crm_loyalty.accounts.service import AccountService, _s
from crm_loyalty.accounts.store import account_keys

MAX_CHAIN = 20


class ReferralService:
    def __init__(self, accounts: AccountService, points: int, yearly_cap: int):
        self.accounts = accounts
        self.points = points
        self.yearly_cap = yearly_cap

    def _script(self, name: str, customer_id: str, *args):
        now = self.accounts.clock()
        return self.accounts.scripts.run(name, customer_id, now, self.accounts.today(now), new_event_id(), *args)

    def linked(self, referrer_id: str, referred_id: str) -> bool:
        """referral.linked: remembered on the referred account; rewards at once
        if its first order is paid already. True when a reward was given."""
        if not referrer_id or not referred_id or referrer_id == referred_id:
            return False
        referred_by, first_paid = (_s(v) for v in self._script("referred", referred_id, referrer_id))
        if referred_by != referrer_id or not first_paid:
            return False
        return self._reward(referrer_id, referred_id)

    def order_paid(self, customer_id: str, order_id: str) -> bool:
        """order.paid: on the customer's first paid order their referrer earns the reward."""
        return self.orders_paid([(customer_id, order_id)]) == [True]

    def orders_paid(self, paid: list[tuple[str, str]]) -> list[bool]:
        """Many order.paid (customer_id, order_id) marked in one round trip; rewards where due."""
        now = self.accounts.clock()
        answers = self.accounts.scripts.run_many(
            "first_paid", [(customer_id, new_event_id(), order_id) for customer_id, order_id in paid], now,
            self.accounts.today(now))
        rewarded = []
        for (customer_id, order_id), answer in zip(paid, answers):
            first, referrer = (_s(v) for v in answer)
            rewarded.append(first == order_id and bool(referrer) and self._reward(referrer, customer_id))
        return rewarded

    def _in_cycle(self, referrer_id: str, referred_id: str) -> bool:
        """Whether `referred_id` appears up `referrer_id`'s chain of referrers."""
        current, seen = referrer_id, {referrer_id}
        for _ in range(MAX_CHAIN):
            up = self.accounts.redis.hget(account_keys(current)[0], "referred_by")
            if not up:
                return False
            current = _s(up)
            if current == referred_id:
                return True
            if current in seen:
                return False
            seen.add(current)
        return True  # a chain this long is treated as suspect

    def _reward(self, referrer_id: str, referred_id: str) -> bool:
        if referrer_id == referred_id or self.points <= 0 or self._in_cycle(referrer_id, referred_id):
            return False
        year = self.accounts.today().year
        qualify = self.accounts.ladder.basis == "points"
        result = self.accounts._award(
            referrer_id, f"referral:{referred_id}", "referral_award", self.points, reference=referred_id,
            qualify_member=f"r:{referred_id}" if qualify else "", qualify_value=-1,
            cap_field=f"referrals:{year}", cap=self.yearly_cap)
        return result.status == "applied"
