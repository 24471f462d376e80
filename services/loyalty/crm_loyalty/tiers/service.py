"""VIP tiers: the tier of an account, the review job, and tier.changed.

Upgrades happen inside the award script the moment a threshold is crossed;
downgrades only here, at the review date and by one level. Both stage
tier.changed in the account's outbox list in the same script; the relay
publishes it at once and the sweep picks up what a crash left
(crm_kit.events.redis_outbox)."""

from __future__ import annotations

import datetime as dt

from prometheus_client import Counter

from crm.events.v1 import events_pb2
from crm_kit.events.envelope import TIER_CHANGED, Envelope, new_event, new_event_id

from crm_loyalty.accounts.service import AccountService
from crm_loyalty.accounts.store import account_keys
from crm_loyalty.tiers.model import TierLadder

TIER_CHANGES = Counter("crm_loyalty_tier_changes_total", "Tier changes, by direction.", ["reason"])
PRODUCER = "loyalty"


def tier_changed_envelope(item: dict) -> Envelope:
    """The envelope of a staged tier change: its event id and time are the staged ones (a re-publish
    after a crash carries the same id)."""
    env = new_event(TIER_CHANGED, item["customer_id"], events_pb2.TierChanged(
        customer_id=item["customer_id"], from_tier=item["from_tier"], to_tier=item["to_tier"],
        reason=item["reason"]), PRODUCER)
    env.event_id = item["event_id"]
    env.occurred_at.FromDatetime(dt.datetime.fromtimestamp(int(item["at"]) / 1000, dt.timezone.utc))
    TIER_CHANGES.labels(item["reason"]).inc()
    return env


class TierService:
    def __init__(self, accounts: AccountService, ladder: TierLadder):
        self.accounts = accounts
        self.ladder = ladder

    def tier_of(self, customer_id: str) -> str:
        """The account's tier code (the lowest for an account not opened)."""
        code = self.accounts.redis.hget(account_keys(customer_id)[0], "tier")
        return self.ladder.get(code.decode() if code else self.ladder.lowest.code).code

    def review(self, customer_id: str) -> tuple[bool, bool]:
        result = self.accounts.scripts.run("review", customer_id, self.accounts.clock(),
                                           self.accounts.today(), new_event_id())
        reviewed, downgraded = bool(int(result[0])), bool(int(result[1]))
        if downgraded:
            self.accounts.relay(customer_id)  # the tier.changed the script staged
        return reviewed, downgraded

    def review_all(self) -> tuple[int, int]:
        """Accounts whose review date has come: kept, or moved down one level (idempotent per date)."""
        reviewed = downgraded = 0
        for batch in self.accounts.account_batches():
            now = self.accounts.clock()
            answers = self.accounts.scripts.run_many("review", [(c, new_event_id()) for c in batch], now,
                                                     self.accounts.today(now))
            for customer_id, (was_reviewed, was_downgraded) in zip(batch, answers):
                reviewed += int(was_reviewed)
                if int(was_downgraded):
                    downgraded += 1
                    self.accounts.relay(customer_id)  # the tier.changed the script staged
        return reviewed, downgraded

