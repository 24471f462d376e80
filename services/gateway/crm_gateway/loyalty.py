"""Loyalty: REST in, the loyalty service's LoyaltyService gRPC out: a
customer's account (balance, expiring points, tier and the way to the next,
the last greeting), its ledger, audited adjustments, the rewards catalogue,
redemptions and their cancellation, and the admins' expiry and tier-review
runs.

Rights are the service's (it asks the customer service as the caller); the
policies here only turn away roles that may never do a thing. A POST with
`Idempotency-Key` passes the key on as the service's request id (the
service's own retry check); without one each POST is a new request.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated

from flask import Blueprint, g, request
from pydantic import BaseModel, Field

from crm.loyalty.v1 import loyalty_service_pb2 as pb
from crm.loyalty.v1 import loyalty_service_pb2_grpc as pb_grpc

from crm_gateway.fields import NEXT_PAGE, Body, CustomerPath, DateIn, Id, NullableTime, Out, PagingQuery, Query, \
    QueryBool, Time, date_json, date_pb, optional, text
from crm_gateway.interactions import request_id
from crm_gateway.loyalty_greetings import GreetingDelivery
from crm_gateway.routing import Args, Ok, Policy, route

bp = Blueprint("loyalty", __name__, url_prefix="/api/v1")

ANY = ("admin", "manager", "rep", "agent", "finance", "integration")
# Accounts are read by whoever may see the customer (the service decides per customer).
READ = Policy(ANY, scope="loyalty:read")
# Adjustments are admins' (audited); integrations with loyalty:write.
ADJUST = Policy(("admin", "integration"), scope="loyalty:write")
# Redemptions are made by whoever may change the customer.
REDEEM = Policy(("admin", "manager", "rep", "integration"), scope="loyalty:write")
# The catalogue is kept by managers and admins, read by every caller.
CATALOGUE = Policy(("admin", "manager", "integration"), scope="loyalty:write")
RUNS = Policy(("admin",))
SERVICE = "loyalty"
_NOT_FOUND = {404: "No such customer, or not one you may see."}
_REWARD_NOT_FOUND = {404: "No such reward."}
DateOut = Annotated[str | None, Field(json_schema_extra={"format": "date"})]
LastGreeting = Annotated[GreetingDelivery | None, Field(description="The latest greeting attempt (sent, failed or "
                                                                    "skipped for want of consent); null before any.")]


def stub() -> pb_grpc.LoyaltyServiceStub:
    return g.downstream.stub("loyalty", pb_grpc.LoyaltyServiceStub)


def post_request_id() -> str:
    """The Idempotency-Key's request id, or a fresh one: the service needs
    one for every change, and without a key the POST is meant once. Bound
    to the caller, as the gateway's replay is: two callers' requests under
    one key (say "1") stay two requests, not the first one's answer."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return "gw:" + secrets.token_hex(16)
    return "idem:" + hashlib.sha256(f"{g.principal.subject}|{key}".encode()).hexdigest()[:40]


def _date(d) -> str | None:
    return date_json(d) if d.year else None


def _time(message, name: str) -> str | None:
    return getattr(message, name).ToJsonString() if message.HasField(name) else None


# --- answers -----------------------------------------------------------------------------

class Tier(Out):
    code: Annotated[str, Field(description="The tier's code, e.g. silver.")]
    name: str
    basis: Annotated[str, Field(description="What qualifies: paid_amount (minor units of qualifying_currency paid "
                                            "over the last 12 months) or points (earned over the last 12 months).")]
    qualifying_currency: str
    qualifying_value: Annotated[int, Field(description="The qualifying total over the rolling 12 months, now.")]
    next_code: Annotated[str, Field(description="The next tier up; empty at the top.")]
    next_threshold: int
    to_next: Annotated[int, Field(description="What is still missing for the next tier (0 at the top).")]
    review_date: Annotated[DateOut, Field(description="A downgrade happens only on this day.")]
    downgrade_warning_to: Annotated[str, Field(description="Set when the qualifying total would not keep the tier "
                                                           "at the review: the tier it would move down to.")]
    multiplier_percent: Annotated[int, Field(description="Points multiplier in percent (100 = x1).")]
    birthday_gift_points: int

    @staticmethod
    def from_pb(t: pb.TierStatus) -> dict:
        return {"code": t.code, "name": t.name, "basis": t.basis, "qualifying_currency": t.qualifying_currency,
                "qualifying_value": t.qualifying_value, "next_code": t.next_code,
                "next_threshold": t.next_threshold, "to_next": t.to_next, "review_date": _date(t.review_date),
                "downgrade_warning_to": t.downgrade_warning_to, "multiplier_percent": t.multiplier_percent,
                "birthday_gift_points": t.birthday_gift_points}


class Account(Out):
    customer_id: str
    balance: Annotated[int, Field(description="Points held now: the sum of the lots (negative after a clawback of "
                                              "points already spent).")]
    expiring_within_30_days: int
    next_expiry_date: Annotated[DateOut, Field(description="The first day some of those points expire.")]
    tier: Tier
    earned_total: int
    redeemed_total: int
    expired_total: int
    clawed_back_total: int
    opened_at: Annotated[NullableTime, Field(description="Null while the account is not yet opened.")]
    last_greeting: LastGreeting

    @staticmethod
    def from_pb(a: pb.Account) -> dict:
        return {"customer_id": a.customer_id, "balance": a.balance,
                "expiring_within_30_days": a.expiring_within_30_days,
                "next_expiry_date": _date(a.next_expiry_date), "tier": Tier.from_pb(a.tier),
                "earned_total": a.earned_total, "redeemed_total": a.redeemed_total,
                "expired_total": a.expired_total, "clawed_back_total": a.clawed_back_total,
                "opened_at": _time(a, "opened_at"),
                "last_greeting": GreetingDelivery.from_pb(a.last_greeting) if a.HasField("last_greeting") else None}


class LedgerEntry(Out):
    id: str
    kind: Annotated[str, Field(description="order_award, referral_award, care_gift, adjustment, redemption, "
                                           "redemption_cancelled, expiry or clawback.")]
    points: Annotated[int, Field(description="Signed: what it added or took.")]
    balance_after: int
    reference: Annotated[str, Field(description="An order id, the referred customer's id or a redemption id.")]
    reason: str
    actor: Annotated[str, Field(description="Who made an adjustment; system otherwise.")]
    at: Time
    expires_on: Annotated[DateOut, Field(description="For an entry that added a lot: when its points expire.")]

    @staticmethod
    def from_pb(e: pb.LedgerEntry) -> dict:
        return {"id": e.entry_id, "kind": e.kind, "points": e.points, "balance_after": e.balance_after,
                "reference": e.reference, "reason": e.reason, "actor": e.actor, "at": e.at.ToJsonString(),
                "expires_on": _date(e.expires_on)}


class LedgerPage(Out):
    items: Annotated[list[LedgerEntry], Field(description="Newest first.")]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(r: pb.ListLedgerResponse) -> dict:
        return {"items": [LedgerEntry.from_pb(e) for e in r.entries], "next_page_token": r.next_page_token}


class Adjusted(Out):
    entry: LedgerEntry
    account: Account

    @staticmethod
    def from_pb(r: pb.AdjustPointsResponse) -> dict:
        return {"entry": LedgerEntry.from_pb(r.entry), "account": Account.from_pb(r.account)}


class Reward(Out):
    id: str
    name: str
    description: str
    points_cost: int
    stock: Annotated[int, Field(description="Units left (0: exhausted).")]
    per_customer_limit: Annotated[int, Field(description="Active redemptions one customer may hold (0: no limit).")]
    valid_from: DateOut
    valid_until: DateOut
    active: bool
    created_at: NullableTime
    updated_at: NullableTime

    @staticmethod
    def from_pb(r: pb.Reward) -> dict:
        return {"id": r.reward_id, "name": r.name, "description": r.description, "points_cost": r.points_cost,
                "stock": r.stock, "per_customer_limit": r.per_customer_limit, "valid_from": _date(r.valid_from),
                "valid_until": _date(r.valid_until), "active": r.active, "created_at": _time(r, "created_at"),
                "updated_at": _time(r, "updated_at")}


class RewardPage(Out):
    items: list[Reward]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(r: pb.ListRewardsResponse) -> dict:
        return {"items": [Reward.from_pb(x) for x in r.rewards], "next_page_token": r.next_page_token}


class Redemption(Out):
    id: str
    customer_id: str
    reward_id: str
    points: int
    state: Annotated[str, Field(description="active or cancelled.")]
    redeemed_at: NullableTime
    cancelled_at: NullableTime

    @staticmethod
    def from_pb(r: pb.Redemption) -> dict:
        return {"id": r.redemption_id, "customer_id": r.customer_id, "reward_id": r.reward_id, "points": r.points,
                "state": r.state, "redeemed_at": _time(r, "redeemed_at"), "cancelled_at": _time(r, "cancelled_at")}


class RedemptionPage(Out):
    items: Annotated[list[Redemption], Field(description="Newest first.")]
    next_page_token: Annotated[str, Field(description=NEXT_PAGE)]

    @staticmethod
    def from_pb(r: pb.ListRedemptionsResponse) -> dict:
        return {"items": [Redemption.from_pb(x) for x in r.redemptions], "next_page_token": r.next_page_token}


class ExpiryRun(Out):
    accounts: Annotated[int, Field(description="Accounts that lost points.")]
    points: Annotated[int, Field(description="Points expired in all.")]


class TierReview(Out):
    reviewed: int
    downgraded: int


# --- request bodies and paths --------------------------------------------------------------

class AdjustmentIn(Body):
    points: Annotated[int, Field(ge=-10_000_000, le=10_000_000, description="Signed, not zero. A negative one may "
                                                                             "not take the balance below zero.")]
    reason: text(500, 1, description="Why; kept in the ledger with who made it.")


class RedemptionIn(Body):
    reward_id: Id


class RewardCreate(Body):
    name: text(200, 1)
    description: text(2000) = ""
    points_cost: Annotated[int, Field(ge=1, le=100_000_000)]
    stock: Annotated[int, Field(ge=0, le=10_000_000)]
    per_customer_limit: Annotated[int, Field(ge=0, le=10**6, description="0: no limit.")] = 0
    valid_from: Annotated[DateIn, Field(description="Redeemable from this day; open-ended when left out.")] = \
        optional()
    valid_until: Annotated[DateIn, Field(description="Redeemable until this day inclusive.")] = optional()


class RewardUpdate(Body):
    name: text(200, 1) = optional()
    description: text(2000) = optional()
    points_cost: Annotated[int, Field(ge=1, le=100_000_000)] = optional()
    per_customer_limit: Annotated[int, Field(ge=0, le=10**6)] = optional()
    valid_from: DateIn = optional()
    valid_until: DateIn = optional()
    active: bool = optional()
    add_stock: Annotated[int, Field(ge=-10_000_000, le=10_000_000, description="Units to add (negative: to take, down to "
                                                                      "zero left).")] = optional()


class RewardPath(BaseModel):
    reward_id: Id


class RedemptionPath(BaseModel):
    customer_id: Id
    redemption_id: Id


class RewardsQuery(Query):
    available_only: Annotated[QueryBool, Field(description="Only rewards active, valid today and in stock.")] = False
    page_size: Annotated[int, Field(ge=1, le=200)] = 50
    page_token: text(512) = ""


# --- accounts --------------------------------------------------------------------------------

@route(bp, "GET", "/customers/<customer_id>/loyalty", "getLoyaltyAccount", "A customer's loyalty account",
       allow=READ, path=CustomerPath, ok=Ok(Account, "Balance, points expiring within 30 days, tier and the way to "
                                                      "the next one."),
       errors=_NOT_FOUND, service=SERVICE,
       description="An account not yet opened answers zeros at the lowest tier.")
def get_account(a: Args):
    return stub().GetAccount(pb.GetAccountRequest(customer_id=a.path.customer_id))


@route(bp, "GET", "/customers/<customer_id>/loyalty/ledger", "listLoyaltyLedger", "A customer's points history",
       allow=READ, path=CustomerPath, query=PagingQuery, ok=Ok(LedgerPage, "A page of ledger entries."),
       errors={**_NOT_FOUND, 400: "Bad page size or token."}, service=SERVICE)
def list_ledger(a: Args):
    return stub().ListLedger(pb.ListLedgerRequest(customer_id=a.path.customer_id, page_size=a.query.page_size,
                                                  page_token=a.query.page_token))


@route(bp, "POST", "/customers/<customer_id>/loyalty/adjustments", "adjustLoyaltyPoints",
       "An audited manual adjustment of a customer's points", allow=ADJUST, path=CustomerPath, body=AdjustmentIn,
       ok=Ok(Adjusted, "The ledger entry and the account after it.", 201), service=SERVICE,
       errors={**_NOT_FOUND, 422: "Zero points, or a field the service refuses (named).",
               409: "A negative adjustment larger than the balance."},
       description="A positive adjustment is a new lot with the usual expiry; a negative one burns the lots nearest "
                   "to expiry first.")
def adjust_points(a: Args):
    b = a.body
    return stub().AdjustPoints(pb.AdjustPointsRequest(customer_id=a.path.customer_id, points=b.points,
                                                      reason=b.reason, request_id=post_request_id()))


# --- redemptions -----------------------------------------------------------------------------

@route(bp, "POST", "/customers/<customer_id>/loyalty/redemptions", "redeemReward",
       "Redeem a reward for a customer", allow=REDEEM, path=CustomerPath, body=RedemptionIn,
       ok=Ok(Redemption, "The redemption: points and one unit of stock taken together.", 201), service=SERVICE,
       errors={**_NOT_FOUND, 409: "Not redeemable, saying why: POINTS (more than held), STOCK (exhausted), LIMIT "
                                  "(the customer's limit reached), VALIDITY (outside its dates or inactive)."},
       description="The points (lots nearest to expiry first) and the stock are taken in one atomic step, or "
                   "nothing is.")
def redeem(a: Args):
    return stub().RedeemReward(pb.RedeemRewardRequest(customer_id=a.path.customer_id, reward_id=a.body.reward_id,
                                                      request_id=post_request_id()))


@route(bp, "GET", "/customers/<customer_id>/loyalty/redemptions", "listRedemptions", "A customer's redemptions",
       allow=READ, path=CustomerPath, query=PagingQuery, ok=Ok(RedemptionPage, "A page of redemptions."),
       errors={**_NOT_FOUND, 400: "Bad page size or token."}, service=SERVICE)
def list_redemptions(a: Args):
    return stub().ListRedemptions(pb.ListRedemptionsRequest(customer_id=a.path.customer_id,
                                                            page_size=a.query.page_size,
                                                            page_token=a.query.page_token))


@route(bp, "POST", "/customers/<customer_id>/loyalty/redemptions/<redemption_id>/cancel", "cancelRedemption",
       "Cancel a redemption: its points and its unit of stock go back", allow=REDEEM, path=RedemptionPath,
       ok=Ok(Redemption, "The redemption, cancelled."), service=SERVICE,
       errors={404: "No such redemption of this customer, or not one you may see."},
       description="Cancelling again is harmless and answers the same.")
def cancel_redemption(a: Args):
    return stub().CancelRedemption(pb.CancelRedemptionRequest(customer_id=a.path.customer_id,
                                                              redemption_id=a.path.redemption_id))


# --- the rewards catalogue --------------------------------------------------------------------

@route(bp, "POST", "/rewards", "createReward", "Add a reward to the catalogue", allow=CATALOGUE, body=RewardCreate,
       ok=Ok(Reward, "The reward.", 201), service=SERVICE,
       errors={422: "A field the service refuses (named), e.g. valid_until before valid_from."})
def create_reward(a: Args):
    b = a.body
    reward = pb.Reward(name=b.name, description=b.description, points_cost=b.points_cost, stock=b.stock,
                       per_customer_limit=b.per_customer_limit)
    if b.valid_from is not None:
        reward.valid_from.CopyFrom(date_pb(b.valid_from))
    if b.valid_until is not None:
        reward.valid_until.CopyFrom(date_pb(b.valid_until))
    return stub().CreateReward(pb.CreateRewardRequest(reward=reward, request_id=request_id()))


@route(bp, "GET", "/rewards", "listRewards", "The rewards catalogue", allow=READ, query=RewardsQuery,
       ok=Ok(RewardPage, "A page of rewards."), service=SERVICE,
       errors={400: "Bad query parameter or page token."})
def list_rewards(a: Args):
    q = a.query
    return stub().ListRewards(pb.ListRewardsRequest(available_only=q.available_only, page_size=q.page_size,
                                                    page_token=q.page_token))


@route(bp, "GET", "/rewards/<reward_id>", "getReward", "Get a reward", allow=READ, path=RewardPath,
       ok=Ok(Reward, "The reward."), errors=_REWARD_NOT_FOUND, service=SERVICE)
def get_reward(a: Args):
    return stub().GetReward(pb.GetRewardRequest(reward_id=a.path.reward_id))


@route(bp, "PATCH", "/rewards/<reward_id>", "updateReward", "Change a reward or its stock", allow=CATALOGUE,
       path=RewardPath, body=RewardUpdate, ok=Ok(Reward, "The reward as changed."), service=SERVICE,
       errors={**_REWARD_NOT_FOUND, 422: "A field the service refuses (named).",
                                  409: "add_stock would take the stock below zero."},
       description="Send only what changes; stock changes only by add_stock.")
def update_reward(a: Args):
    b = a.body
    reward = pb.Reward(reward_id=a.path.reward_id)
    mask = []
    for name in ("name", "description", "points_cost", "per_customer_limit", "active"):
        if getattr(b, name) is not None:
            setattr(reward, name, getattr(b, name))
            mask.append(name)
    for name in ("valid_from", "valid_until"):
        if getattr(b, name) is not None:
            getattr(reward, name).CopyFrom(date_pb(getattr(b, name)))
            mask.append(name)
    return stub().UpdateReward(pb.UpdateRewardRequest(reward=reward, update_mask=mask, add_stock=b.add_stock or 0))


@route(bp, "DELETE", "/rewards/<reward_id>", "retireReward", "Retire a reward", allow=CATALOGUE, path=RewardPath,
       ok=Ok(Reward, "The reward, inactive; kept for the redemptions that name it."), errors=_REWARD_NOT_FOUND,
       service=SERVICE)
def retire_reward(a: Args):
    return stub().DeleteReward(pb.DeleteRewardRequest(reward_id=a.path.reward_id))


# --- the admins' runs -------------------------------------------------------------------------

@route(bp, "POST", "/loyalty/expiry-runs", "runLoyaltyExpiry", "Run the points expiry now", allow=RUNS,
       ok=Ok(ExpiryRun, "What expired."), service=SERVICE,
       description="Removes expired lots of every account and says so in their ledgers. Idempotent; the service "
                   "runs it on its own schedule too.")
def run_expiry(a: Args):
    r = stub().RunExpiry(pb.RunExpiryRequest(), timeout=g.downstream.settings.list_timeout_seconds)
    return {"accounts": r.accounts, "points": r.points}


@route(bp, "POST", "/loyalty/tier-reviews", "runTierReview", "Run the tier review now", allow=RUNS,
       ok=Ok(TierReview, "Accounts reviewed and moved down."), service=SERVICE,
       description="Accounts whose review date has come keep their tier or move down one level. Idempotent per "
                   "review date.")
def run_tier_review(a: Args):
    r = stub().RunTierReview(pb.RunTierReviewRequest(), timeout=g.downstream.settings.list_timeout_seconds)
    return {"reviewed": r.reviewed, "downgraded": r.downgraded}
