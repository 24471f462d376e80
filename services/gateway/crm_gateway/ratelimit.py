"""Rate limits per principal, kept in the gateway's Redis so every gunicorn
worker and every gateway replica draws on one budget.

A request with a valid token counts against its subject's budget (the size
set per role); a request without one against its client address
(`anonymous`). Routes in `EXPENSIVE` (a scan, an export, a fan-out) count
against the smaller `expensive` budget of the same principal instead.

The algorithm is a sliding-window counter (the one the `limits` library
implements: this window's count plus the previous window's, weighted by how
much of it still overlaps), run as one Lua script: one round trip takes the
hit and returns what is left and when, with Redis's clock, so replicas
agree. `limits` itself needs two round trips per request (hit, then window
stats for the headers).

A round trip per request still cost about a sixth of a floor request's CPU
(client and Redis together), so a large budget is leased: one thread of a
worker at a time takes up to `LEASE_MAX` requests (never more than a
hundredth of the budget) in a round trip; the worker serves them from
memory for at most `LEASE_SECONDS` or until the window turns, and gives
back what it did not use with its next round trip for that budget. Redis
counts leased requests as used, so all workers together never serve more
than the budget; a principal may meet a 429 while other workers hold a few
of its leased requests (at most one lease each, for at most a second).
What a worker held when Redis failed, or when its lease table was full (an
expired lease of a quiet principal is dropped), is not given back: counted,
never served, the safe way. Budgets
under 200 a window lease nothing: every request is a round trip, exact.
The client never retries: a timed-out script may still run, and a second
run would give its refund back twice.

Every limited answer carries the IETF headers
(draft-ietf-httpapi-ratelimit-headers, structured-field form):

    RateLimit-Policy: "rep";q=600;w=60
    RateLimit: "rep";r=42;t=17

and a refusal is 429 problem+json with `Retry-After`. When Redis cannot be
reached the request is served (fail open): the API stays up, the failure is
logged and counted in `gateway_rate_limit_unavailable_total`, and Redis is
not asked again for a second.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from prometheus_client import Counter

from crm_kit.auth import ROLES
from crm_kit.settings import SettingsError, env_int, env_str

from crm_gateway.problems import Problem

log = logging.getLogger("crm.gateway.ratelimit")

RATE_LIMITED = Counter("gateway_rate_limited_total", "Requests refused with 429, by policy.", ["policy"])
RATE_LIMIT_UNAVAILABLE = Counter(
    "gateway_rate_limit_unavailable_total", "Requests served without a rate-limit check because Redis failed.")

# The expensive routes, in one place: (method, URL rule) -> a test of the
# query arguments (None: always expensive). A new route (e.g. the 360 card)
# joins by adding its line here.
EXPENSIVE: dict[tuple[str, str], Callable[[dict], bool] | None] = {
    ("GET", "/api/v1/customers"): lambda args: args.get("order_by") == "name",  # a scan on FerretDB
    ("GET", "/api/v1/customers/<customer_id>/export"): None,
    ("GET", "/api/v1/customers/360"): None,  # the 360 card: a fan-out to every service
    # Sales reports that read a whole book: a team's or rep's receivables, the pipeline's forecast and funnel.
    ("GET", "/api/v1/receivables/ageing"): lambda args: "customer_id" not in args,
    ("GET", "/api/v1/opportunities/forecast"): None,
    ("GET", "/api/v1/opportunities/funnel"): None,
    ("GET", "/api/v1/contracts/expiring"): None,  # up to 13 months of books, a rights check per customer
    # Profit contribution: months x shards roll-up reads; the CSV export reads every page of it.
    ("GET", "/api/v1/profitability/contribution"): None,
    ("GET", "/api/v1/profitability/contribution.csv"): None,
    # The admin's rebuild reads every order, plan and expense; a grading run every customer's year.
    ("POST", "/api/v1/profitability/rollups/rebuild"): None,
    ("POST", "/api/v1/value-grade-runs"): None,
    # Rankings read the period's rep buckets; by new customers every customer shard of up to 36 months and
    # the 24 before.
    ("GET", "/api/v1/rankings/reps"): None,
    # Commission: a team's totals read each rep's statement; the close freezes every statement of a month.
    ("GET", "/api/v1/commission/teams/<team_id>/<month>"): None,
    ("POST", "/api/v1/commission/months/<month>/close"): None,
    # A team's day of daily reports: every roster rep's report and the book of their day's contacts.
    ("GET", "/api/v1/daily-reports"): None,
    # Loyalty runs over every account or customer.
    ("POST", "/api/v1/loyalty/expiry-runs"): None,
    ("POST", "/api/v1/loyalty/tier-reviews"): None,
    ("POST", "/api/v1/greetings/runs"): None,
}
# Probes and scrapes are never limited (a kubelet or Prometheus must not be
# refused); everything else, 404s included, is.
EXEMPT_PATHS = ("/healthz", "/readyz", "/metrics")

DEFAULT_PER_ROLE = {"admin": 600, "manager": 600, "rep": 600, "agent": 600, "finance": 600, "integration": 1200}


@dataclass(frozen=True)
class RateLimitSettings:
    """Requests per window: per role, per address without a token, and the
    expensive budget of any principal."""

    enabled: bool = True
    window_seconds: int = 60
    per_role: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PER_ROLE))
    anonymous: int = 60
    expensive: int = 30

    @classmethod
    def from_env(cls) -> "RateLimitSettings":
        per_role = {role: env_int(f"GATEWAY_RATE_LIMIT_{role.upper()}", DEFAULT_PER_ROLE.get(role, 600),
                                  minimum=1, maximum=10**7) for role in ROLES}
        return cls(
            enabled=env_str("GATEWAY_RATE_LIMIT_ENABLED", "true", choices=("true", "false")) == "true",
            window_seconds=env_int("GATEWAY_RATE_LIMIT_WINDOW_SECONDS", 60, minimum=1, maximum=86400),
            per_role=per_role,
            anonymous=env_int("GATEWAY_RATE_LIMIT_ANONYMOUS", 60, minimum=1, maximum=10**7),
            expensive=env_int("GATEWAY_RATE_LIMIT_EXPENSIVE", 30, minimum=1, maximum=10**7),
        )

    def __post_init__(self):
        missing = [role for role in ROLES if role not in self.per_role]
        if missing:
            raise SettingsError(f"rate limits lack a budget for the roles {', '.join(missing)}")


def is_expensive(method: str, rule: str | None, args) -> bool:
    if rule is None or (method, rule) not in EXPENSIVE:
        return False
    test = EXPENSIVE[(method, rule)]
    return test is None or test(args)


@dataclass(frozen=True)
class Decision:
    policy: str
    quota: int
    window: int
    remaining: int
    reset_seconds: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Policy": f'"{self.policy}";q={self.quota};w={self.window}',
                "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset_seconds}'}


# KEYS[1]: the budget's key (a hash tag, so both windows share a cluster slot);
# ARGV: quota, window seconds, requests wanted (a lease), requests given back
# and the window they were taken in. Returns {requests granted (0: refused),
# requests left beyond them, milliseconds until the window turns (granted)
# or until one more request fits (refused), the window's index}.
SLIDING_WINDOW = """
local quota, window, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local refund, refund_index = tonumber(ARGV[4]), tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local index = math.floor(now / window)
local elapsed = now - index * window
if refund > 0 and (refund_index == index or refund_index == index - 1) then
  local rkey = KEYS[1] .. ':' .. refund_index
  local counted = tonumber(redis.call('GET', rkey) or '0')
  if counted > 0 then redis.call('DECRBY', rkey, math.min(refund, counted)) end
end
local ckey = KEYS[1] .. ':' .. index
local prev = tonumber(redis.call('GET', KEYS[1] .. ':' .. (index - 1)) or '0')
local cur = tonumber(redis.call('GET', ckey) or '0')
local used = prev * (window - elapsed) / window + cur
local room = math.floor(quota - used)
if room >= 1 then
  local granted = math.min(want, room)
  if redis.call('INCRBY', ckey, granted) == granted then redis.call('EXPIRE', ckey, window * 2 + 1) end
  return {granted, room - granted, math.ceil((window - elapsed) * 1000), index}
end
local wait = window - elapsed
if prev > 0 and cur + 1 <= quota then
  wait = math.max(0, wait - (quota - 1 - cur) * window / prev)
end
return {0, 0, math.ceil(wait * 1000), index}
"""


@dataclass
class _Lease:
    """Requests a worker took from Redis ahead of use, for one budget."""

    index: int  # the window they were taken in (where unused ones go back)
    left: int  # taken, not yet served
    beyond: int  # what Redis had left beyond them
    ends: float  # monotonic: LEASE_SECONDS after the take, or the window's turn
    turn: float  # monotonic: the window's turn (the RateLimit header's t)


class RateLimiter:
    RETRY_REDIS_AFTER_SECONDS = 1.0
    LEASE_SHARE = 100  # a lease is at most this share of the budget ...
    LEASE_MAX = 20  # ... and at most this many requests
    LEASE_SECONDS = 1.0
    MAX_LEASES = 10_000  # budgets held at once per worker; beyond it expired leases are dropped

    def __init__(self, settings: RateLimitSettings, redis_url: str):
        self.settings = settings
        # Short socket timeouts: a Redis that hangs must not hang every request. Never retried, whatever
        # redis-py's default: a timed-out script may still run, and a second run would give its refund back
        # twice.
        self.client = redis.Redis.from_url(redis_url, socket_timeout=0.25, socket_connect_timeout=0.25,
                                           retry=Retry(NoBackoff(), 0))
        self.script = self.client.register_script(SLIDING_WINDOW)
        self.quotas = dict(settings.per_role, anonymous=settings.anonymous, expensive=settings.expensive)
        self._leases: dict[str, _Lease] = {}
        self._refilling: set[str] = set()  # budgets a thread of this worker is taking a lease of
        self._lock = threading.Lock()  # gunicorn's gthread workers check from several threads
        self._skip_until = 0.0
        self._logged_at = 0.0

    def lease_size(self, quota: int) -> int:
        return max(1, min(self.LEASE_MAX, quota // self.LEASE_SHARE))

    def check(self, policy: str, key: str) -> Decision | None:
        """Take one request off `key`'s budget under `policy` (a role,
        "anonymous" or "expensive"). None when the check could not be made
        (Redis down: fail open)."""
        quota, window = self.quotas[policy], self.settings.window_seconds
        bucket = f"rl:{{{policy}:{key}}}"
        now = time.monotonic()
        refund, refund_index = 0, 0
        with self._lock:
            lease = self._leases.get(bucket)
            if lease is not None and now < lease.ends and lease.left > 0:
                lease.left -= 1
                return Decision(policy, quota, window, lease.beyond + lease.left,
                                max(1, math.ceil(lease.turn - now)), True)
            if now < self._skip_until:
                RATE_LIMIT_UNAVAILABLE.inc()
                return None
            # One thread at a time takes a budget's lease, so a worker holds at most one; the others ask
            # for their own request alone meanwhile.
            want = 1 if bucket in self._refilling else self.lease_size(quota)
            if want > 1:
                self._refilling.add(bucket)
                if lease is not None:  # spent or over: what is left goes back with this round trip
                    del self._leases[bucket]
                    refund, refund_index = lease.left, lease.index
        granted = 0
        try:
            granted, beyond, millis, index = self.script(
                keys=[bucket], args=[quota, window, want, refund, refund_index])
        except redis.RedisError as err:
            self._fail_open(err)
            return None
        finally:
            if want > 1:
                with self._lock:
                    if granted > 1:
                        self._keep(bucket, _Lease(index, granted - 1, beyond,
                                                  now + min(self.LEASE_SECONDS, millis / 1000), now + millis / 1000),
                                   now)
                    self._refilling.discard(bucket)
        seconds = max(1, math.ceil(millis / 1000))
        if not granted:
            return Decision(policy, quota, window, 0, seconds, False)
        return Decision(policy, quota, window, beyond + granted - 1, seconds, True)

    def _keep(self, bucket: str, lease: _Lease, now: float) -> None:
        """Hold a lease (the lock held)."""
        if len(self._leases) >= self.MAX_LEASES:  # expired ones go, unreturned: principals that went quiet
            for stale in [b for b, held in self._leases.items() if held.ends <= now]:
                del self._leases[stale]
        self._leases[bucket] = lease

    def _fail_open(self, err: Exception) -> None:
        now = time.monotonic()
        self._skip_until = now + self.RETRY_REDIS_AFTER_SECONDS
        RATE_LIMIT_UNAVAILABLE.inc()
        if now - self._logged_at > 10:  # one line per 10 s, not one per request
            self._logged_at = now
            log.warning("rate limits unavailable, serving without them",
                        extra={"fields": {"error": type(err).__name__}})


def refusal(decision: Decision) -> Problem:
    RATE_LIMITED.labels(decision.policy).inc()
    return Problem(429, f"too many requests; retry in {decision.reset_seconds} s", slug="rate-limited",
                   headers={"Retry-After": str(decision.reset_seconds)},
                   extra={"title": "Too Many Requests", "policy": decision.policy})
