"""The rewards catalogue, redemptions and their cancellation.

A redemption takes the points and a unit of stock, or nothing: stock is
reserved first under the reward's hash tag (a hold named by the redemption
id, itself derived from the customer and the request id, so a retry meets
its own hold), the points are taken in the account's script (deduplicated
by the request id), then the hold is confirmed; when the points step
refuses, the hold is released. `sweep_holds` settles the holds of a process
that died in between (see rewards/store.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from prometheus_client import Counter

from crm_kit import paging
from crm_kit.auth import Principal
from crm_kit.errors import (Aborted, FailedPrecondition, FieldViolation, InvalidArgument, NotFound,
                            PreconditionViolation)
from crm_kit.events.envelope import new_event_id
from crm_kit.ids import id_pattern, new_id, not_found
from crm_kit.validation import clean_text

from crm_loyalty import access
from crm_loyalty.accounts.service import REDEEMED, RETURNED, AccountService, _int, _s
from crm_loyalty.accounts.store import account_keys, outcome
from crm_loyalty.rewards.store import INDEX, RewardScripts, reward_keys

REDEMPTIONS = Counter("crm_loyalty_redemptions_total", "Redemptions, by outcome.", ["outcome"])
REWARD_ID = id_pattern("rwd")
REDEMPTION_ID = id_pattern("rdm")
MAX_COST = 100_000_000
MAX_STOCK = 10_000_000
# A hold still "reserved" this long after it was taken belongs to a process that died.
ABANDONED_HOLD_MS = 120_000
UPDATABLE = ("name", "description", "points_cost", "per_customer_limit", "valid_from", "valid_until", "active")


@dataclass(frozen=True)
class Reward:
    reward_id: str
    name: str
    description: str
    points_cost: int
    stock: int
    per_customer_limit: int
    valid_from: dt.date | None
    valid_until: dt.date | None
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    def available(self, today: dt.date) -> bool:
        return (self.active and self.stock > 0 and (self.valid_from is None or self.valid_from <= today)
                and (self.valid_until is None or today <= self.valid_until))


@dataclass(frozen=True)
class RewardInput:
    name: str
    description: str
    points_cost: int
    stock: int
    per_customer_limit: int
    valid_from: dt.date | None
    valid_until: dt.date | None
    active: bool = True


@dataclass(frozen=True)
class Redemption:
    redemption_id: str
    customer_id: str
    reward_id: str
    points: int
    state: str
    redeemed_at: dt.datetime
    cancelled_at: dt.datetime | None

    @classmethod
    def from_json(cls, customer_id: str, raw: str | bytes) -> "Redemption":
        d = json.loads(raw)
        cancelled = _int(d.get("cancelled_at"))
        return cls(d["id"], customer_id, d["reward"], _int(d["points"]), d["state"], _ms(d["at"]),
                   _ms(cancelled) if cancelled else None)


def _ms(value) -> dt.datetime:
    return dt.datetime.fromtimestamp(_int(value) / 1000, dt.timezone.utc)


def _ordinal(day: dt.date | None) -> int:
    return day.toordinal() if day else 0


def _date(value) -> dt.date | None:
    n = _int(value)
    return dt.date.fromordinal(n) if n > 0 else None


def redemption_id_for(customer_id: str, request_id: str) -> str:
    """The same customer and request id always name the same redemption (a retry meets its hold)."""
    digest = hashlib.sha256(f"{customer_id}|{request_id}".encode()).digest()[:15]
    return "rdm_" + base64.b32encode(digest).decode().rstrip("=").lower()


def validate_reward(value: RewardInput, *, creating: bool) -> RewardInput:
    violations = []

    def text(raw, name, limit, required):
        try:
            return clean_text(raw, name, limit, required=required, multiline=name == "description")
        except InvalidArgument as err:
            violations.extend(err.violations)
            return ""

    name = text(value.name, "reward.name", 200, True)
    description = text(value.description, "reward.description", 2000, False)
    if not 0 < value.points_cost <= MAX_COST:
        violations.append(FieldViolation("reward.points_cost", f"must be between 1 and {MAX_COST:,}"))
    if creating and not 0 <= value.stock <= MAX_STOCK:
        violations.append(FieldViolation("reward.stock", f"must be between 0 and {MAX_STOCK:,}"))
    if not 0 <= value.per_customer_limit <= 1000:
        violations.append(FieldViolation("reward.per_customer_limit", "must be between 0 (no limit) and 1000"))
    if value.valid_from and value.valid_until and value.valid_until < value.valid_from:
        violations.append(FieldViolation("reward.valid_until", "must not be before valid_from"))
    if violations:
        raise InvalidArgument(violations)
    return RewardInput(name, description, value.points_cost, value.stock, value.per_customer_limit,
                       value.valid_from, value.valid_until, value.active)


class RewardService:
    def __init__(self, accounts: AccountService, scripts: RewardScripts):
        self.accounts = accounts
        self.redis = accounts.redis
        self.scripts = scripts

    def _now_ms(self) -> int:
        return int(self.accounts.clock().timestamp() * 1000)

    # -- catalogue -------------------------------------------------------------

    def _load(self, reward_id: str) -> Reward | None:
        if not isinstance(reward_id, str) or not REWARD_ID.match(reward_id):
            return None
        d = {_s(k): _s(v) for k, v in self.redis.hgetall(reward_keys(reward_id)[0]).items()}
        if not d:
            return None
        return Reward(reward_id, d.get("name", ""), d.get("description", ""), _int(d.get("cost")),
                      _int(d.get("stock")), _int(d.get("limit")), _date(d.get("valid_from")),
                      _date(d.get("valid_until")), d.get("active") == "1", _ms(d.get("created")),
                      _ms(d.get("updated")))

    def get(self, principal: Principal, reward_id: str) -> Reward:
        access.require_integration_scope(principal, access.READ_SCOPE)
        reward = self._load(reward_id)
        if reward is None:
            raise not_found("reward", reward_id, REWARD_ID)
        return reward

    def create(self, principal: Principal, value: RewardInput, request_id: str = "") -> Reward:
        access.require_catalogue_right(principal)
        value = validate_reward(value, creating=True)
        if request_id:
            digest = hashlib.sha256(f"{principal.subject}|{request_id}".encode()).digest()[:15]
            reward_id = "rwd_" + base64.b32encode(digest).decode().rstrip("=").lower()
        else:
            reward_id = new_id("rwd")
        now = self._now_ms()
        self.redis.zadd(INDEX, {reward_id: now}, nx=True)  # first: a reward is never unlisted
        self.scripts.create(keys=[reward_keys(reward_id)[0]], args=[
            "name", value.name, "description", value.description, "cost", value.points_cost,
            "stock", value.stock, "limit", value.per_customer_limit, "valid_from", _ordinal(value.valid_from),
            "valid_until", _ordinal(value.valid_until), "active", 1, "created", now, "updated", now])
        return self._load(reward_id)

    def update(self, principal: Principal, reward_id: str, value: RewardInput, mask: list[str],
               add_stock: int = 0) -> Reward:
        access.require_catalogue_right(principal)
        current = self._load(reward_id)
        if current is None:
            raise not_found("reward", reward_id, REWARD_ID)
        unknown = [m for m in mask if m not in UPDATABLE]
        if unknown or (not mask and not add_stock):
            raise InvalidArgument(FieldViolation("update_mask", f"names fields among {', '.join(UPDATABLE)}"))
        merged = RewardInput(
            value.name if "name" in mask else current.name,
            value.description if "description" in mask else current.description,
            value.points_cost if "points_cost" in mask else current.points_cost, current.stock,
            value.per_customer_limit if "per_customer_limit" in mask else current.per_customer_limit,
            value.valid_from if "valid_from" in mask else current.valid_from,
            value.valid_until if "valid_until" in mask else current.valid_until,
            value.active if "active" in mask else current.active)
        merged = validate_reward(merged, creating=False)
        if abs(add_stock) > MAX_STOCK:
            raise InvalidArgument(FieldViolation("add_stock", f"must be within ±{MAX_STOCK:,}"))
        now = self._now_ms()
        if add_stock:
            if int(self.scripts.add_stock(keys=[reward_keys(reward_id)[0]], args=[add_stock, now])) == -2:
                raise FailedPrecondition([PreconditionViolation("STOCK", "add_stock", "would leave less than none")],
                                         "the stock cannot go below zero")
        if mask:
            self.redis.hset(reward_keys(reward_id)[0], mapping={
                "name": merged.name, "description": merged.description, "cost": merged.points_cost,
                "limit": merged.per_customer_limit, "valid_from": _ordinal(merged.valid_from),
                "valid_until": _ordinal(merged.valid_until), "active": 1 if merged.active else 0, "updated": now})
        return self._load(reward_id)

    def retire(self, principal: Principal, reward_id: str) -> Reward:
        access.require_catalogue_right(principal)
        if self._load(reward_id) is None:
            raise not_found("reward", reward_id, REWARD_ID)
        self.redis.hset(reward_keys(reward_id)[0], mapping={"active": 0, "updated": self._now_ms()})
        return self._load(reward_id)

    def list(self, principal: Principal, available_only: bool, page_size: int,
             page_token: str) -> tuple[list[Reward], str]:
        access.require_integration_scope(principal, access.READ_SCOPE)
        size = paging.page_size(page_size)
        query = {"a": bool(available_only)}
        position = paging.decode(page_token, query)
        start = paging.book_start(position) - 1
        ids = [_s(i) for i in self.redis.zrange(INDEX, start, start + size - 1)]
        today = self.accounts.today()
        rewards = [r for r in (self._load(i) for i in ids) if r is not None]
        if available_only:
            rewards = [r for r in rewards if r.available(today)]
        more = len(ids) == size and self.redis.zcard(INDEX) > start + size
        return rewards, paging.encode({"n": start + size + 1}, query) if more else ""

    # -- redemptions -------------------------------------------------------------

    def redeem(self, principal: Principal, customer_id: str, reward_id: str, request_id: str) -> Redemption:
        if not request_id or len(request_id) > 64:
            raise InvalidArgument(FieldViolation("request_id", "is required (1..64 characters)"))
        self.accounts.check_customer(principal, customer_id, change=True)
        if not isinstance(reward_id, str) or not REWARD_ID.match(reward_id):
            raise not_found("reward", reward_id, REWARD_ID)
        request_key = f"redeem:{request_id}"
        redemption_id = redemption_id_for(customer_id, request_id)
        done = self.redis.hget(account_keys(customer_id)[4], request_key)
        if done is not None and _s(done) != "abandoned":
            return self._redemption(customer_id, _s(done))
        keys = reward_keys(reward_id)
        status, cost, limit = (_s(v) for v in self.scripts.reserve(keys=keys, args=[
            self._now_ms(), self.accounts.today().toordinal(), redemption_id,
            f"reserved|{customer_id}|{request_key}"]))
        if status == "missing":
            raise not_found("reward", reward_id, REWARD_ID)
        if status in ("stock", "validity"):
            REDEMPTIONS.labels(status).inc()
            raise FailedPrecondition([PreconditionViolation(
                status.upper(), "reward_id",
                "the reward is out of stock" if status == "stock" else "the reward is not redeemable today")],
                "the reward cannot be redeemed")
        now = self.accounts.clock()
        result = outcome(self.accounts.scripts.run("redeem", customer_id, now, self.accounts.today(now),
                                                   new_event_id(), request_key, redemption_id, reward_id,
                                                   int(cost), int(limit)))
        if result.status in ("applied", "duplicate") and result.value:
            self.scripts.confirm(keys=keys, args=[redemption_id])
            if result.status == "applied":
                REDEMPTIONS.labels("redeemed").inc()
                REDEEMED.inc(int(cost))
            return Redemption.from_json(customer_id, result.value)
        self.scripts.release(keys=keys, args=[redemption_id])
        REDEMPTIONS.labels(result.status).inc()
        if result.status == "points":
            raise FailedPrecondition([PreconditionViolation(
                "POINTS", "customer_id", f"the account holds {result.value} points; the reward costs {cost}")],
                f"not enough points: the account holds {result.value}, the reward costs {cost}")
        if result.status == "limit":
            raise FailedPrecondition([PreconditionViolation(
                "LIMIT", "reward_id", f"the customer holds {limit} of this reward already, the most allowed")],
                "the customer's limit for this reward is reached")
        if result.status == "erased":
            raise NotFound("customer", customer_id)
        raise Aborted("redemption", "")  # abandoned by the sweep after a stall: retry with a new request id

    def _redemption(self, customer_id: str, redemption_id: str) -> Redemption:
        raw = self.redis.hget(account_keys(customer_id)[9], redemption_id)
        if raw is None:
            raise not_found("redemption", redemption_id, REDEMPTION_ID)
        return Redemption.from_json(customer_id, raw)

    def cancel(self, principal: Principal, customer_id: str, redemption_id: str) -> Redemption:
        self.accounts.check_customer(principal, customer_id, change=True)
        if not isinstance(redemption_id, str) or not REDEMPTION_ID.match(redemption_id):
            raise not_found("redemption", redemption_id, REDEMPTION_ID)
        record = self.redis.hget(account_keys(customer_id)[9], redemption_id)
        if record is None:
            raise not_found("redemption", redemption_id, REDEMPTION_ID)
        keys = reward_keys(Redemption.from_json(customer_id, record).reward_id)
        # three steps: the hold marked "returning" (so the sweep finishes a cancellation whose process
        # died), the points back in the account's script, the unit back (once: a retry finds no hold)
        self.scripts.returning(keys=keys, args=[redemption_id, self._now_ms()])
        now = self.accounts.clock()
        result = outcome(self.accounts.scripts.run("cancel", customer_id, now, self.accounts.today(now),
                                                   new_event_id(), redemption_id))
        if result.status == "missing":
            raise not_found("redemption", redemption_id, REDEMPTION_ID)
        redemption = Redemption.from_json(customer_id, result.value)
        self.scripts.release(keys=keys, args=[redemption_id])
        if result.status == "applied":
            REDEMPTIONS.labels("cancelled").inc()
            RETURNED.inc(redemption.points)
        return redemption

    def list_redemptions(self, principal: Principal, customer_id: str, page_size: int,
                         page_token: str) -> tuple[list[Redemption], str]:
        self.accounts.check_customer(principal, customer_id)
        size = paging.page_size(page_size)
        query = {"c": customer_id}
        position = paging.decode(page_token, query)
        keys = account_keys(customer_id)
        end = paging.list_position(position, self.redis.llen(keys[10]))
        start = max(0, end - size)
        ids = list(reversed(self.redis.lrange(keys[10], start, end - 1))) if end > 0 else []
        raws = self.redis.hmget(keys[9], ids) if ids else []
        found = [Redemption.from_json(customer_id, raw) for raw in raws if raw is not None]
        return found, paging.encode({"before": start}, query) if start > 0 else ""

    def forget_customer(self, customer_id: str) -> None:
        """customer.erased, before the account's erasure drops the redemptions: the stock holds they left
        (each names the customer and the request) go too. Again is harmless."""
        for raw in self.redis.hvals(account_keys(customer_id)[9]):
            record = json.loads(raw)
            self.scripts.forget(keys=reward_keys(record["reward"]), args=[record["id"]])

    def sweep_holds(self) -> int:
        """Settles holds left "reserved" by a process that died: confirmed when the
        account's step happened, released (and the request given up) when not; and
        holds left "returning" by a cancellation that died: released when the
        redemption is cancelled, confirmed again when it is not."""
        settled = 0
        cutoff = self._now_ms() - ABANDONED_HOLD_MS
        for reward_id in (_s(i) for i in self.redis.zrange(INDEX, 0, -1)):
            keys = reward_keys(reward_id)
            for redemption_id in (_s(i) for i in self.redis.zrangebyscore(keys[2], "-inf", cutoff)):
                hold = self.redis.hget(keys[1], redemption_id)
                if hold is None:
                    self.redis.zrem(keys[2], redemption_id)
                    continue
                state, customer_id, request_key = _s(hold).split("|", 2)
                if state == "returning":
                    record = self.redis.hget(account_keys(customer_id)[9], redemption_id)
                    still_active = record is not None and json.loads(record).get("state") == "active"
                    (self.scripts.confirm if still_active else self.scripts.release)(keys=keys, args=[redemption_id])
                    settled += 1
                    continue
                now = self.accounts.clock()
                verdict = _s(self.accounts.scripts.run("abandon", customer_id, now, self.accounts.today(now),
                                                       new_event_id(), request_key))
                if verdict == "exists":
                    self.scripts.confirm(keys=keys, args=[redemption_id])
                else:
                    self.scripts.release(keys=keys, args=[redemption_id])
                settled += 1
        return settled
