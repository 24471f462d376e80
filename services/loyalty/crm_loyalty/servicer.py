"""gRPC transport for LoyaltyService: messages in, use cases, messages out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import common_pb2
from crm.loyalty.v1 import loyalty_service_pb2 as pb
from crm.loyalty.v1 import loyalty_service_pb2_grpc as pb_grpc
from crm_kit.errors import FieldViolation, InvalidArgument
from crm_kit.grpc_server import current_principal

from crm_loyalty import access
from crm_loyalty.accounts.service import AccountService, AccountView, Entry
from crm_loyalty.greetings.servicer import delivery_pb
from crm_loyalty.greetings.store import Delivery
from crm_loyalty.rewards.service import Redemption, Reward, RewardInput, RewardService
from crm_loyalty.tiers.service import TierService


def date_pb(day: dt.date | None) -> common_pb2.Date | None:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day) if day else None


def date_from_pb(msg: common_pb2.Date, field_name: str) -> dt.date | None:
    if not (msg.year or msg.month or msg.day):
        return None
    try:
        return dt.date(msg.year, msg.month, msg.day)
    except ValueError:
        raise InvalidArgument(FieldViolation(field_name, "is not a valid calendar date")) from None


def ts(moment: dt.datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def account_pb(view: AccountView) -> pb.Account:
    t = view.tier
    return pb.Account(
        customer_id=view.customer_id, balance=view.balance, expiring_within_30_days=view.expiring_within_30_days,
        next_expiry_date=date_pb(view.next_expiry_date),
        tier=pb.TierStatus(code=t.code, name=t.name, basis=t.basis, qualifying_currency=t.qualifying_currency,
                           qualifying_value=t.qualifying_value, next_code=t.next_code,
                           next_threshold=t.next_threshold, to_next=t.to_next, review_date=date_pb(t.review_date),
                           downgrade_warning_to=t.downgrade_warning_to, multiplier_percent=t.multiplier_percent,
                           birthday_gift_points=t.birthday_gift_points),
        earned_total=view.earned_total, redeemed_total=view.redeemed_total, expired_total=view.expired_total,
        clawed_back_total=view.clawed_back_total, opened_at=ts(view.opened_at))


def entry_pb(e: Entry) -> pb.LedgerEntry:
    return pb.LedgerEntry(entry_id=e.entry_id, kind=e.kind, points=e.points, balance_after=e.balance_after,
                          reference=e.reference, reason=e.reason, actor=e.actor, at=ts(e.at),
                          expires_on=date_pb(e.expires_on))


def reward_pb(r: Reward) -> pb.Reward:
    return pb.Reward(reward_id=r.reward_id, name=r.name, description=r.description, points_cost=r.points_cost,
                     stock=r.stock, per_customer_limit=r.per_customer_limit, valid_from=date_pb(r.valid_from),
                     valid_until=date_pb(r.valid_until), active=r.active, created_at=ts(r.created_at),
                     updated_at=ts(r.updated_at))


def reward_input(msg: pb.Reward) -> RewardInput:
    return RewardInput(msg.name, msg.description, msg.points_cost, msg.stock, msg.per_customer_limit,
                       date_from_pb(msg.valid_from, "reward.valid_from"),
                       date_from_pb(msg.valid_until, "reward.valid_until"), msg.active)


def redemption_pb(r: Redemption) -> pb.Redemption:
    return pb.Redemption(redemption_id=r.redemption_id, customer_id=r.customer_id, reward_id=r.reward_id,
                         points=r.points, state=r.state, redeemed_at=ts(r.redeemed_at),
                         cancelled_at=ts(r.cancelled_at))


class LoyaltyServicer(pb_grpc.LoyaltyServiceServicer):
    def __init__(self, accounts: AccountService, tiers: TierService, rewards: RewardService,
                 last_greeting: Callable[[str], Delivery | None] = lambda customer_id: None):
        self.accounts = accounts
        self.tiers = tiers
        self.rewards = rewards
        self.last_greeting = last_greeting  # the greetings feature's log; no rights check of its own

    def _account_pb(self, view: AccountView) -> pb.Account:
        """The account with its last greeting: only ever called once the
        caller's right to the customer was checked (one customer-service
        call answers both)."""
        msg = account_pb(view)
        last = self.last_greeting(view.customer_id)
        if last is not None:
            msg.last_greeting.CopyFrom(delivery_pb(last))
        return msg

    def GetAccount(self, request, context):
        return self._account_pb(self.accounts.get(current_principal(), request.customer_id))

    def ListLedger(self, request, context):
        entries, token = self.accounts.ledger(current_principal(), request.customer_id, request.page_size,
                                              request.page_token)
        return pb.ListLedgerResponse(entries=[entry_pb(e) for e in entries], next_page_token=token)

    def AdjustPoints(self, request, context):
        entry, view = self.accounts.adjust(current_principal(), request.customer_id, request.points,
                                           request.reason, request.request_id)
        return pb.AdjustPointsResponse(entry=entry_pb(entry), account=self._account_pb(view))

    def CreateReward(self, request, context):
        return reward_pb(self.rewards.create(current_principal(), reward_input(request.reward), request.request_id))

    def GetReward(self, request, context):
        return reward_pb(self.rewards.get(current_principal(), request.reward_id))

    def ListRewards(self, request, context):
        rewards, token = self.rewards.list(current_principal(), request.available_only, request.page_size,
                                           request.page_token)
        return pb.ListRewardsResponse(rewards=[reward_pb(r) for r in rewards], next_page_token=token)

    def UpdateReward(self, request, context):
        return reward_pb(self.rewards.update(current_principal(), request.reward.reward_id,
                                             reward_input(request.reward), list(request.update_mask),
                                             request.add_stock))

    def DeleteReward(self, request, context):
        return reward_pb(self.rewards.retire(current_principal(), request.reward_id))

    def RedeemReward(self, request, context):
        return redemption_pb(self.rewards.redeem(current_principal(), request.customer_id, request.reward_id,
                                                 request.request_id))

    def CancelRedemption(self, request, context):
        return redemption_pb(self.rewards.cancel(current_principal(), request.customer_id, request.redemption_id))

    def ListRedemptions(self, request, context):
        found, token = self.rewards.list_redemptions(current_principal(), request.customer_id, request.page_size,
                                                     request.page_token)
        return pb.ListRedemptionsResponse(redemptions=[redemption_pb(r) for r in found], next_page_token=token)

    def RunExpiry(self, request, context):
        access.require_admin(current_principal())
        accounts, points = self.accounts.expire_all()
        return pb.RunExpiryResponse(accounts=accounts, points=points)

    def RunTierReview(self, request, context):
        access.require_admin(current_principal())
        reviewed, downgraded = self.tiers.review_all()
        return pb.RunTierReviewResponse(reviewed=reviewed, downgraded=downgraded)
