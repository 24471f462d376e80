"""Use cases of the points ledger: awards (orders, referrals, care gifts),
audited adjustments, clawbacks after refunds, the expiry job, reads.

Every change is one script of `AccountScripts` (atomic, deduplicated by its
request or event id inside the same step); this module decides the numbers
and the rights, the scripts apply them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import redis
from prometheus_client import Counter

from crm_kit import paging
from crm_kit.auth import Principal
from crm_kit.clock import local_date
from crm_kit.customer_directory import CustomerDirectory
from crm_kit.errors import (Aborted, FailedPrecondition, FieldViolation, InvalidArgument, NotFound,
                            PermissionDenied, PreconditionViolation)
from crm_kit.events.envelope import new_event_id
from crm_kit.validation import clean_text

from crm_loyalty import access
from crm_loyalty.accounts import model
from crm_loyalty.accounts.store import ACCOUNT_PATTERN, AccountScripts, account_keys, customer_of_key, outcome
from crm_loyalty.tiers import model as tier_model
from crm_loyalty.tiers.model import TierLadder

# Business metrics (the loyalty dashboard reads the first two).
AWARDED = Counter("crm_loyalty_points_awarded_total",
                  "Points awarded, by kind (order_award, referral_award, care_gift, adjustment).", ["kind"])
REDEEMED = Counter("crm_loyalty_points_redeemed_total", "Points taken by reward redemptions.")
RETURNED = Counter("crm_loyalty_points_returned_total", "Points given back by cancelled redemptions.")
EXPIRED = Counter("crm_loyalty_points_expired_total", "Points removed by the expiry job.")
CLAWED_BACK = Counter("crm_loyalty_points_clawed_back_total", "Points clawed back after refunds.")
DEDUCTED = Counter("crm_loyalty_points_deducted_total", "Points taken by negative manual adjustments.")
SYSTEM = "system"
EXPIRING_DAYS = 30


@dataclass(frozen=True)
class Entry:
    entry_id: str
    kind: str
    points: int
    balance_after: int
    reference: str
    reason: str
    actor: str
    at: dt.datetime
    expires_on: dt.date | None

    @classmethod
    def from_json(cls, raw: str | bytes) -> "Entry":
        d = json.loads(raw)
        expires = int(d.get("expires") or 0)
        return cls(d["id"], d["kind"], int(d["points"]), int(d["balance"]), d.get("reference") or "",
                   d.get("reason") or "", d.get("actor") or "",
                   dt.datetime.fromtimestamp(int(d["at"]) / 1000, dt.timezone.utc),
                   dt.date.fromordinal(expires) if expires > 0 else None)


@dataclass(frozen=True)
class TierView:
    code: str
    name: str
    basis: str
    qualifying_currency: str
    qualifying_value: int
    next_code: str
    next_threshold: int
    to_next: int
    review_date: dt.date | None
    downgrade_warning_to: str
    multiplier_percent: int
    birthday_gift_points: int


@dataclass(frozen=True)
class AccountView:
    customer_id: str
    balance: int
    expiring_within_30_days: int
    next_expiry_date: dt.date | None
    tier: TierView
    earned_total: int
    redeemed_total: int
    expired_total: int
    clawed_back_total: int
    opened_at: dt.datetime | None


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _s(value) -> str:
    return value.decode() if isinstance(value, bytes) else ("" if value is None else str(value))


class AccountService:
    def __init__(self, client: redis.Redis, scripts: AccountScripts, ladder: TierLadder,
                 earn_rules: model.EarnRules, expiry: model.ExpiryRule, zone: ZoneInfo,
                 clock: Callable[[], dt.datetime], customers: CustomerDirectory | None,
                 relay: Callable[[str], object] = lambda customer_id: None, *, warning_days: int = 30):
        self.redis = client
        self.scripts = scripts
        self.ladder = ladder
        self.earn_rules = earn_rules
        self.expiry = expiry
        self.zone = zone
        self.clock = clock
        self.customers = customers
        self.relay = relay  # publishes a staged tier.changed at once (the sweep catches what a crash left)
        self.warning_days = warning_days
        # Run by erase() before the account's own erasure (other features' traces of the customer).
        self.before_erase: list[Callable[[str], None]] = []

    # -- time ------------------------------------------------------------------

    def today(self, now: dt.datetime | None = None) -> dt.date:
        return local_date(now or self.clock(), self.zone)

    def _run(self, name: str, customer_id: str, *args):
        now = self.clock()
        result = outcome(self.scripts.run(name, customer_id, now, self.today(now), new_event_id(), *args))
        if result.staged:
            self.relay(customer_id)
        return result

    # -- rights ------------------------------------------------------------------

    def exists(self, customer_id: str) -> bool:
        return bool(self.redis.hexists(account_keys(customer_id)[0], "opened_at"))

    def check_customer(self, principal: Principal, customer_id: str, *, change: bool = False,
                       for_reading: bool = False) -> None:
        """The caller may read (or, with `change`, redeem for) this customer;
        NotFound when it is unknown or unseen, nothing echoed but an id of our shape.
        `for_reading`: a pure read, which may go by the caller's customer grant."""
        access.require_customer_id(customer_id)
        if principal.role == "integration":
            access.require_integration_scope(principal, access.WRITE_SCOPE if change else access.READ_SCOPE)
            if not self.exists(customer_id):
                raise NotFound("customer", customer_id)
            return
        if self.customers is None:
            raise NotFound("customer", customer_id)
        ref = self.customers.get(customer_id, for_reading=for_reading and not change)
        allowed = access.may_change if change else access.may_read
        if allowed(principal, ref):
            return
        if change and access.may_read(principal, ref):
            raise PermissionDenied("your role may read but not change this customer's loyalty account")
        raise NotFound("customer", customer_id)

    # -- awards ----------------------------------------------------------------

    def award(self, customer_id: str, points: int, *, kind: str, request_id: str, reason: str = "") -> bool:
        """An award decided by another feature (a care gift, say): a new lot
        with the usual expiry, once per (kind, request_id). False when that
        request was applied already (or the account is erased)."""
        if kind not in model.AWARD_KINDS:
            raise ValueError(f"unknown award kind {kind!r}")
        if not request_id:
            raise ValueError("an award needs a request id")
        if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= model.MAX_POINTS:
            raise ValueError("points must be a whole number above zero")
        access.require_customer_id(customer_id)
        result = self._award(customer_id, f"award:{kind}:{request_id}", kind, points, reason=reason[:500])
        return result.status == "applied"

    def _award(self, customer_id: str, dedupe_id: str, kind: str, base_points: int, *, multiply: bool = False,
               reference: str = "", reason: str = "", actor: str = SYSTEM, qualify_member: str = "",
               qualify_value: int = 0, order_total: int = 0, cap_field: str = "", cap: int = 0):
        expires = self.expiry.expires_on(self.today())
        result = self._run("award", customer_id, dedupe_id, kind, base_points, 1 if multiply else 0,
                           expires.toordinal(), reference, reason, actor, qualify_member, qualify_value,
                           order_total, cap_field, cap)
        if result.status == "applied" and result.value:
            AWARDED.labels(kind).inc(Entry.from_json(result.value).points)
        return result

    def award_order(self, customer_id: str, order_id: str, total_minor: int, currency: str) -> bool:
        """order.paid: points per currency unit times the tier multiplier, once per order."""
        return self.award_orders([(customer_id, order_id, total_minor, currency)]) == [True]

    def award_orders(self, paid: list[tuple[str, str, int, str]]) -> list[bool]:
        """Many order.paid awards (customer_id, order_id, total_minor, currency) in one round trip;
        each is its own atomic script, deduplicated by its order id. True for each one applied."""
        now = self.clock()
        today = self.today(now)
        expires = self.expiry.expires_on(today).toordinal()
        calls = []
        for customer_id, order_id, total_minor, currency in paid:
            access.require_customer_id(customer_id)
            base = self.earn_rules.base_points(total_minor, currency)
            if self.ladder.basis == "points":
                member, value = f"o:{order_id}", -1
            elif currency == self.ladder.currency:
                member, value = f"o:{order_id}", total_minor
            else:
                member, value = "", 0  # other currencies earn points but do not qualify for tiers
            calls.append((customer_id, new_event_id(), f"order:{order_id}", "order_award", base, 1, expires,
                          order_id, "", SYSTEM, member, value, total_minor, "", 0))
        applied = []
        for (customer_id, *_), raw in zip(calls, self.scripts.run_many("award", calls, now, today)):
            result = outcome(raw)
            if result.staged:
                self.relay(customer_id)
            if result.status == "applied" and result.value:
                AWARDED.labels("order_award").inc(Entry.from_json(result.value).points)
            applied.append(result.status == "applied")
        return applied

    def claw_back(self, customer_id: str, order_id: str, refund_id: str, amount_minor: int) -> bool:
        """payment.refunded: the refunded part's share of the order's points,
        pro rata to the order's total, down to a negative balance."""
        access.require_customer_id(customer_id)
        orders_key = account_keys(customer_id)[5]
        for _ in range(20):
            raw = self.redis.hget(orders_key, order_id)
            if raw is None:
                # no award for this order (refund of a part payment, or before the award): nothing to take
                return self._run("clawback", customer_id, f"refund:{refund_id}", order_id, "", "0", "0", "0"
                                 ).status == "applied"
            order = json.loads(raw)
            total, awarded = _int(order.get("total")), _int(order.get("awarded"))
            refunded_before = _int(order.get("refunded"))
            refunded_after = min(total, refunded_before + max(0, amount_minor))
            clawed_after = max(_int(order.get("clawed")), model.clawback_target(awarded, total, refunded_after))
            if _int(order.get("qualv")) < 0:  # points basis: what stays qualifying are the points kept
                qualifying_left = awarded - clawed_after
            else:
                qualifying_left = max(0, _int(order.get("qualv")) - refunded_after)
            result = self._run("clawback", customer_id, f"refund:{refund_id}", order_id, order.get("refunded"),
                               refunded_after, clawed_after, qualifying_left)
            if result.status == "retry":
                continue
            if result.status == "applied" and result.value:
                CLAWED_BACK.inc(-Entry.from_json(result.value).points)
            return result.status == "applied"
        raise Aborted("loyalty account", customer_id)

    def open(self, customer_id: str) -> None:
        """customer.created: the account opens at the lowest tier (again is harmless)."""
        access.require_customer_id(customer_id)
        self._run("open", customer_id)

    def erase(self, customer_id: str) -> None:
        """customer.erased: the ledger, orders, redemptions and referral link
        go; the balance, its lots and the anonymous totals stay."""
        for forget in self.before_erase:
            forget(customer_id)
        self._run("erase", customer_id)

    # -- adjustments -------------------------------------------------------------

    def adjust(self, principal: Principal, customer_id: str, points: int, reason: str,
               request_id: str) -> tuple[Entry, AccountView]:
        access.require_adjust_right(principal)
        violations = []
        if isinstance(points, bool) or not isinstance(points, int) or points == 0 \
                or abs(points) > model.MAX_ADJUSTMENT:
            violations.append(FieldViolation("points", f"must be a non-zero whole number within "
                                                       f"±{model.MAX_ADJUSTMENT:,}"))
        try:
            reason = clean_text(reason, "reason", 500, required=True)
        except InvalidArgument as err:
            violations += err.violations
        if not request_id or len(request_id) > 64:
            violations.append(FieldViolation("request_id", "is required (1..64 characters)"))
        if violations:
            raise InvalidArgument(violations)
        if principal.role == "integration":
            access.require_customer_id(customer_id)
            if not self.exists(customer_id):
                raise NotFound("customer", customer_id)
        else:
            self.check_customer(principal, customer_id)
        dedupe = f"adjust:{request_id}"
        if points > 0:
            result = self._award(customer_id, dedupe, "adjustment", points, reason=reason,
                                 actor=principal.subject)
        else:
            result = self._run("debit", customer_id, dedupe, -points, reason, principal.subject)
            if result.status == "insufficient":
                raise FailedPrecondition([PreconditionViolation(
                    "POINTS", "points", f"the account holds {result.value} points, fewer than {-points}")],
                    f"not enough points: the account holds {result.value}, the adjustment takes {-points}")
        if result.status == "erased":
            raise NotFound("customer", customer_id)
        if not result.value or not result.value.startswith("{"):
            raise Aborted("loyalty account", customer_id)
        entry = Entry.from_json(result.value)
        if entry.kind != "adjustment":
            raise InvalidArgument(FieldViolation("request_id", "was used for another change"))
        if result.status == "applied" and entry.points < 0:
            DEDUCTED.inc(-entry.points)  # a positive one counts as awarded (kind adjustment)
        return entry, self.view(customer_id)

    # -- the expiry job ------------------------------------------------------------

    def expire(self, customer_id: str) -> int:
        points = int(self._run("expire", customer_id).status or 0)
        if points:
            EXPIRED.inc(points)
        return points

    def expire_all(self) -> tuple[int, int]:
        """Every account's expired lots go (idempotent: what is gone is gone); 500 accounts a round trip."""
        accounts = points = 0
        for batch in self.account_batches():
            now = self.clock()
            for raw in self.scripts.run_many("expire", [(c, "") for c in batch], now, self.today(now)):
                taken = int(raw)
                if taken:
                    accounts, points = accounts + 1, points + taken
        if points:
            EXPIRED.inc(points)
        return accounts, points

    def account_batches(self, size: int = 500):
        """Every account's customer id, `size` at a time (SCAN: accounts opened meanwhile may or may not
        be seen; a job run again sees them)."""
        batch: list[str] = []
        for key in self.redis.scan_iter(match=ACCOUNT_PATTERN, count=size):
            batch.append(customer_of_key(_s(key)))
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    # -- reads ---------------------------------------------------------------------

    def get(self, principal: Principal, customer_id: str) -> AccountView:
        self.check_customer(principal, customer_id, for_reading=True)
        return self.view(customer_id)

    def qualifying_value(self, customer_id: str, now: dt.datetime | None = None) -> int:
        keys = account_keys(customer_id)
        now = now or self.clock()
        since = int(tier_model.window_start(now).timestamp() * 1000)
        members = self.redis.zrangebyscore(keys[6], since, "+inf")
        if not members:
            return 0
        return sum(_int(v) for v in self.redis.hmget(keys[7], members))

    def view(self, customer_id: str) -> AccountView:
        """The account as one consistent snapshot (one MULTI of reads, all in the account's slot)."""
        keys = account_keys(customer_id)
        now = self.clock()
        today = self.today(now)
        since = int(tier_model.window_start(now).timestamp() * 1000)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(keys[0])
            pipe.zrangebyscore(keys[1], today.toordinal(), today.toordinal() + EXPIRING_DAYS, withscores=True)
            pipe.hgetall(keys[2])
            pipe.zrangebyscore(keys[6], since, "+inf", withscores=True)
            pipe.hgetall(keys[7])
            raw_acct, soon, lot_points, qualifying, qualifying_values = pipe.execute()
        acct = {_s(k): _s(v) for k, v in raw_acct.items()}
        soon = [(m, score) for m, score in soon if _s(m) != "debt"]
        expiring = sum(_int(lot_points.get(m)) for m, _ in soon)
        next_expiry = dt.date.fromordinal(int(soon[0][1])) if soon else None
        tier = self.ladder.get(acct.get("tier") or self.ladder.lowest.code)
        value = sum(_int(qualifying_values.get(m)) for m, _ in qualifying)
        above = self.ladder.next_above(tier.code)
        review = dt.date.fromordinal(_int(acct["review"])) if _int(acct.get("review")) > 0 else None
        # what will still count at the end of the review day decides the warning
        kept = 0
        if review is not None:
            review_end = dt.datetime.combine(review, dt.time(23, 59, 59), self.zone)
            cutoff = tier_model.window_start(review_end).timestamp() * 1000
            kept = sum(_int(qualifying_values.get(m)) for m, score in qualifying if score >= cutoff)
        opened = dt.datetime.fromtimestamp(_int(acct["opened_at"]) / 1000, dt.timezone.utc) \
            if acct.get("opened_at") else None
        return AccountView(
            customer_id, _int(acct.get("balance")), expiring, next_expiry,
            TierView(tier.code, tier.name, self.ladder.basis,
                     self.ladder.currency if self.ladder.basis == "paid_amount" else "", value,
                     above.code if above else "", above.threshold if above else 0,
                     max(0, above.threshold - value) if above else 0, review,
                     tier_model.warning(self.ladder, tier.code, kept, review, today, self.warning_days),
                     tier.multiplier_percent, tier.birthday_gift_points),
            _int(acct.get("earned")), _int(acct.get("redeemed")), _int(acct.get("expired")),
            _int(acct.get("clawed")), opened)

    def ledger(self, principal: Principal, customer_id: str, page_size: int,
               page_token: str) -> tuple[list[Entry], str]:
        """Newest first; a page token holds the entry number to continue below."""
        self.check_customer(principal, customer_id)
        size = paging.page_size(page_size)
        query = {"c": customer_id}
        position = paging.decode(page_token, query)
        key = account_keys(customer_id)[3]
        end = paging.list_position(position, self.redis.llen(key))
        start = max(0, end - size)
        raw = self.redis.lrange(key, start, end - 1) if end > 0 else []
        entries = [Entry.from_json(r) for r in reversed(raw)]
        return entries, paging.encode({"before": start}, query) if start > 0 else ""
