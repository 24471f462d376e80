"""The points ledger in Redis: every change of an account is ONE Lua script
(Redis runs it alone; an AOF-persisted script is replayed whole), and the
request or event id that caused it is recorded inside that same script, so
a redelivered event or a retried request never applies twice.

Keys of one account share the hash tag `{<customer_id>}` (Redis Cluster
safe: every script touches one slot):

    loyalty:{c}:acct      HASH  balance, tier, review (date ordinal), opened_at (ms), seq, lotseq,
                                earned, redeemed, expired, clawed, referred_by, first_paid, erased,
                                referrals:<year>
    loyalty:{c}:lots      ZSET  lot id -> expiry day (date ordinal; the debt lot: never)
    loyalty:{c}:lotpts    HASH  lot id -> points left (the debt lot: negative)
    loyalty:{c}:ledger    LIST  entries, oldest first (JSON; numbers as strings)
    loyalty:{c}:done      HASH  request / event id -> what it did (the dedupe record)
    loyalty:{c}:orders    HASH  order id -> what its award gave (for pro-rata clawbacks)
    loyalty:{c}:qual      ZSET  qualifying item -> time (ms): the rolling tier window
    loyalty:{c}:qualv     HASH  qualifying item -> value
    loyalty:{c}:outbox    LIST  tier.changed events staged by the same script (crm_kit.events.redis_outbox)
    loyalty:{c}:rdm       HASH  redemption id -> record (JSON)
    loyalty:{c}:rlist     LIST  redemption ids, oldest first
    loyalty:{c}:rcount    HASH  reward id -> active redemptions

The balance always equals the sum of `lotpts`: a clawback of points already
spent leaves one negative "debt" lot, paid off first by the next award.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import redis

ACCOUNT_PARTS = ("acct", "lots", "lotpts", "ledger", "done", "orders", "qual", "qualv", "outbox",
                 "rdm", "rlist", "rcount")
ACCOUNT_PATTERN = "loyalty:{*}:acct"


def account_keys(customer_id: str) -> list[str]:
    return [f"loyalty:{{{customer_id}}}:{part}" for part in ACCOUNT_PARTS]


def account_key(customer_id: str) -> str:
    """The key that exists when the customer has an account."""
    return account_keys(customer_id)[0]


def outbox_key(customer_id: str) -> str:
    return f"loyalty:{{{customer_id}}}:outbox"


def customer_of_key(key: str) -> str:
    """The customer id inside `loyalty:{<id>}:...`."""
    return key[key.index("{") + 1:key.index("}")]


# Shared by every account script. ARGV[1] now (ms), ARGV[2] today (date ordinal), ARGV[3] the tier ladder
# (JSON: codes, thresholds), ARGV[4] the tier window (ms), ARGV[5] a fresh event id (used only when a
# tier change is staged), ARGV[6] the customer id, ARGV[7] review period (days); the operation's own from ARGV[8].
PRELUDE = """
local ACCT, LOTS, LOTPTS, LEDGER, DONE, ORDERS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local QUAL, QUALV, OUTBOX, RDM, RLIST, RCOUNT = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]
local NOW, TODAY = tonumber(ARGV[1]), tonumber(ARGV[2])
local LADDER = cjson.decode(ARGV[3])
local WINDOW, EVENT_ID, CID, REVIEW_DAYS = tonumber(ARGV[4]), ARGV[5], ARGV[6], tonumber(ARGV[7])
local DEBT, NEVER = 'debt', 99999999

local function num(v) return tonumber(v) or 0 end
local function fmt(n) return string.format('%d', n) end
local function get(field) return redis.call('HGET', ACCT, field) end

local function tier_index(code)
  for i, c in ipairs(LADDER.codes) do if c == code then return i end end
  return 1
end

local function open()
  if redis.call('HSETNX', ACCT, 'opened_at', fmt(NOW)) == 1 then
    redis.call('HSET', ACCT, 'tier', LADDER.codes[1], 'review', fmt(TODAY + REVIEW_DAYS))
    redis.call('HSETNX', ACCT, 'balance', '0')
  end
end

local function entry(kind, points, reference, reason, actor, expires)
  local seq = redis.call('HINCRBY', ACCT, 'seq', 1)
  local e = cjson.encode({id = fmt(seq), kind = kind, points = fmt(points), balance = fmt(num(get('balance'))),
                          reference = reference, reason = reason, actor = actor, at = fmt(NOW),
                          expires = fmt(expires or 0)})
  redis.call('RPUSH', LEDGER, e)
  return e
end

-- Adds `points` as a lot expiring on day `expires`; pays off a debt first.
local function add_lot(points, expires)
  redis.call('HINCRBY', ACCT, 'balance', fmt(points))
  local debt = num(redis.call('HGET', LOTPTS, DEBT))
  if debt < 0 then
    local left = debt + points
    if left < 0 then redis.call('HSET', LOTPTS, DEBT, fmt(left)) return end
    redis.call('HDEL', LOTPTS, DEBT)
    redis.call('ZREM', LOTS, DEBT)
    points = left
  end
  if points > 0 then
    local lot = 'l' .. fmt(redis.call('HINCRBY', ACCT, 'lotseq', 1))
    redis.call('HSET', LOTPTS, lot, fmt(points))
    redis.call('ZADD', LOTS, expires, lot)
  end
end

-- Takes up to `points` from the lots nearest to expiry; returns what it took per lot and what was missing.
local function burn(points)
  local taken, left = {}, points
  local lots = redis.call('ZRANGE', LOTS, 0, -1, 'WITHSCORES')
  for i = 1, #lots, 2 do
    if left <= 0 then break end
    local lot = lots[i]
    if lot ~= DEBT then
      local have = num(redis.call('HGET', LOTPTS, lot))
      local take = math.min(have, left)
      if take >= have then
        redis.call('HDEL', LOTPTS, lot)
        redis.call('ZREM', LOTS, lot)
      else
        redis.call('HSET', LOTPTS, lot, fmt(have - take))
      end
      if take > 0 then
        left = left - take
        taken[#taken + 1] = {fmt(take), lots[i + 1]}
      end
    end
  end
  redis.call('HINCRBY', ACCT, 'balance', fmt(left - points))
  return taken, left
end

-- Takes `points`, into a debt lot for what the lots do not hold.
local function claw(points)
  local _, left = burn(points)
  if left > 0 then
    redis.call('HINCRBY', LOTPTS, DEBT, fmt(-left))
    redis.call('ZADD', LOTS, NEVER, DEBT)
    redis.call('HINCRBY', ACCT, 'balance', fmt(-left))
  end
end

local function qualifying_total()
  local old = redis.call('ZRANGEBYSCORE', QUAL, '-inf', '(' .. fmt(NOW - WINDOW))
  for _, member in ipairs(old) do redis.call('HDEL', QUALV, member) end
  if #old > 0 then redis.call('ZREMRANGEBYSCORE', QUAL, '-inf', '(' .. fmt(NOW - WINDOW)) end
  local total = 0
  for _, v in ipairs(redis.call('HVALS', QUALV)) do total = total + num(v) end
  return total
end

local function qualified_index(total)
  local best = 1
  for i, t in ipairs(LADDER.thresholds) do if total >= t then best = i end end
  return best
end

local function set_tier(from, to, reason)
  redis.call('HSET', ACCT, 'tier', LADDER.codes[to])
  redis.call('RPUSH', OUTBOX, cjson.encode({event_id = EVENT_ID, customer_id = CID, from_tier = LADDER.codes[from],
                                            to_tier = LADDER.codes[to], reason = reason, at = fmt(NOW)}))
end

-- Upgrade as soon as a threshold is crossed; the review comes a year after.
local function maybe_upgrade()
  local current = tier_index(get('tier'))
  local best = qualified_index(qualifying_total())
  if best > current then
    set_tier(current, best, 'upgrade')
    redis.call('HSET', ACCT, 'review', fmt(TODAY + REVIEW_DAYS))
    return 1
  end
  return 0
end

local function multiplier()
  return LADDER.multipliers[tier_index(get('tier'))] or 100
end

-- Removes the lots whose last day is before today (the expiry job; also first thing in every script that
-- takes points: redemptions, debits, clawbacks, so points past their day are never taken while the job has
-- not run yet). Returns the points.
local function expire_due()
  local lots = redis.call('ZRANGEBYSCORE', LOTS, '-inf', '(' .. fmt(TODAY))
  local total = 0
  for _, lot in ipairs(lots) do
    if lot ~= DEBT then
      total = total + num(redis.call('HGET', LOTPTS, lot))
      redis.call('HDEL', LOTPTS, lot)
      redis.call('ZREM', LOTS, lot)
    end
  end
  if total > 0 then
    redis.call('HINCRBY', ACCT, 'balance', fmt(-total))
    redis.call('HINCRBY', ACCT, 'expired', fmt(total))
    if not get('erased') then entry('expiry', -total, '', '', 'system', 0) end
  end
  return total
end
"""

# ARGV[8] dedupe id, [9] kind, [10] base points, [11] apply the tier multiplier (1/0), [12] expiry ordinal,
# [13] reference, [14] reason, [15] actor, [16] qualifying member ("" none), [17] qualifying value
# ("-1": the points awarded), [18] order total (minor units, order awards), [19] cap field ("" none), [20] cap.
AWARD = PRELUDE + """
local id = ARGV[8]
local seen = redis.call('HGET', DONE, id)
if seen then return {'duplicate', seen} end
if get('erased') then return {'erased', ''} end
open()
local cap_field, cap = ARGV[19], tonumber(ARGV[20])
if cap_field ~= '' and num(get(cap_field)) >= cap then
  redis.call('HSET', DONE, id, 'capped')
  return {'capped', ''}
end
local points = tonumber(ARGV[10])
if ARGV[11] == '1' then points = math.floor(points * multiplier() / 100) end
local kind, reference = ARGV[9], ARGV[13]
local e = ''
if points > 0 then
  add_lot(points, tonumber(ARGV[12]))
  redis.call('HINCRBY', ACCT, 'earned', fmt(points))
  e = entry(kind, points, reference, ARGV[14], ARGV[15], tonumber(ARGV[12]))
end
if kind == 'order_award' then
  redis.call('HSET', ORDERS, reference, cjson.encode({awarded = fmt(points), total = ARGV[18], refunded = '0',
                                                      clawed = '0', qual = ARGV[16], qualv = ARGV[17]}))
end
local member = ARGV[16]
if member ~= '' then
  local value = tonumber(ARGV[17])
  if value < 0 then value = points end
  if value > 0 then
    redis.call('ZADD', QUAL, NOW, member)
    redis.call('HINCRBY', QUALV, member, fmt(value))
  end
end
if cap_field ~= '' then redis.call('HINCRBY', ACCT, cap_field, 1) end
local staged = maybe_upgrade()
redis.call('HSET', DONE, id, e ~= '' and e or 'zero')
return {'applied', e, staged}
"""

# ARGV[8] request id, [9] points to take (> 0), [10] reason, [11] actor.
DEBIT = PRELUDE + """
local id = ARGV[8]
local seen = redis.call('HGET', DONE, id)
if seen then return {'duplicate', seen} end
if get('erased') then return {'erased', ''} end
expire_due()
local points = tonumber(ARGV[9])
local balance = num(get('balance'))
if balance < points then return {'insufficient', fmt(balance)} end
open()
burn(points)
local e = entry('adjustment', -points, '', ARGV[10], ARGV[11], 0)
redis.call('HSET', DONE, id, e)
return {'applied', e}
"""

# ARGV[8] event id, [9] order id, [10] refunded total before this refund (as read), [11] refunded total
# after it, [12] points clawed back in all after it, [13] qualifying value left after it.
CLAWBACK = PRELUDE + """
local id = ARGV[8]
local seen = redis.call('HGET', DONE, id)
if seen then return {'duplicate', seen} end
local raw = redis.call('HGET', ORDERS, ARGV[9])
if not raw then
  redis.call('HSET', DONE, id, 'no_award')
  return {'no_award', ''}
end
local order = cjson.decode(raw)
if order.refunded ~= ARGV[10] then return {'retry', ''} end
local points = tonumber(ARGV[12]) - num(order.clawed)
local e = ''
if points > 0 then
  expire_due()  -- never points past their day instead of live ones (the job may not have run yet)
  claw(points)
  redis.call('HINCRBY', ACCT, 'clawed', fmt(points))
  e = entry('clawback', -points, ARGV[9], '', 'system', 0)
end
order.refunded, order.clawed = ARGV[11], ARGV[12]
redis.call('HSET', ORDERS, ARGV[9], cjson.encode(order))
if order.qual ~= '' and redis.call('HEXISTS', QUALV, order.qual) == 1 then
  redis.call('HSET', QUALV, order.qual, ARGV[13])
end
redis.call('HSET', DONE, id, e ~= '' and e or 'zero')
return {'applied', e}
"""

EXPIRE = PRELUDE + """
return fmt(expire_due())
"""

# Returns {reviewed (0/1), downgraded (0/1)}.
REVIEW = PRELUDE + """
if not get('opened_at') or get('erased') then return {0, 0} end
local review = num(get('review'))
if review > TODAY then return {0, 0} end
local current = tier_index(get('tier'))
local kept = math.max(math.min(current, qualified_index(qualifying_total())), current - 1)
while review <= TODAY do review = review + REVIEW_DAYS end
redis.call('HSET', ACCT, 'review', fmt(review))
if kept < current then
  set_tier(current, kept, 'downgrade')
  return {1, 1}
end
return {1, 0}
"""

# ARGV[8] request key, [9] redemption id, [10] reward id, [11] cost, [12] per-customer limit (0: none).
REDEEM = PRELUDE + """
local id = ARGV[8]
local seen = redis.call('HGET', DONE, id)
if seen == 'abandoned' then return {'abandoned', ''} end
if seen then return {'duplicate', redis.call('HGET', RDM, seen) or ''} end
if get('erased') then return {'erased', ''} end
local reward, cost, limit = ARGV[10], tonumber(ARGV[11]), tonumber(ARGV[12])
if limit > 0 and num(redis.call('HGET', RCOUNT, reward)) >= limit then return {'limit', ''} end
expire_due()
local balance = num(get('balance'))
if balance < cost then return {'points', fmt(balance)} end
open()
local taken = burn(cost)
redis.call('HINCRBY', ACCT, 'redeemed', fmt(cost))
redis.call('HINCRBY', RCOUNT, reward, 1)
local rid = ARGV[9]
local record = cjson.encode({id = rid, reward = reward, points = fmt(cost), state = 'active', at = fmt(NOW),
                             cancelled_at = '0', burns = taken})
redis.call('HSET', RDM, rid, record)
redis.call('RPUSH', RLIST, rid)
entry('redemption', -cost, rid, '', 'system', 0)
redis.call('HSET', DONE, id, rid)
return {'applied', record}
"""

# ARGV[8] redemption id. Points go back as lots with their first expiry days.
CANCEL = PRELUDE + """
local raw = redis.call('HGET', RDM, ARGV[8])
if not raw then return {'missing', ''} end
local record = cjson.decode(raw)
if record.state ~= 'active' then return {'duplicate', raw} end
for _, burnt in ipairs(record.burns) do add_lot(tonumber(burnt[1]), tonumber(burnt[2])) end
local cost = tonumber(record.points)
redis.call('HINCRBY', ACCT, 'redeemed', fmt(-cost))
redis.call('HINCRBY', RCOUNT, record.reward, -1)
record.state, record.cancelled_at = 'cancelled', fmt(NOW)
raw = cjson.encode(record)
redis.call('HSET', RDM, ARGV[8], raw)
entry('redemption_cancelled', cost, ARGV[8], '', 'system', 0)
return {'applied', raw}
"""

# A stock hold found without its account step (the redeeming process died): the request is given up here,
# in the account's slot, so a late account step can no longer take the points. ARGV[8] request key.
ABANDON = PRELUDE + """
local seen = redis.call('HGET', DONE, ARGV[8])
if seen then return seen == 'abandoned' and 'abandoned' or 'exists' end
redis.call('HSET', DONE, ARGV[8], 'abandoned')
return 'abandoned'
"""

# Records who referred this account's customer (first link wins) and reports whether its first order is
# paid. ARGV[8] referrer ("" just reads).
REFERRED = PRELUDE + """
if get('erased') then return {'', ''} end
if ARGV[8] ~= '' then redis.call('HSETNX', ACCT, 'referred_by', ARGV[8]) end
return {get('referred_by') or '', get('first_paid') or ''}
"""

# Marks the account's first paid order (the first order.paid wins); returns the first paid order id and the
# referrer. ARGV[8] order id.
FIRST_PAID = PRELUDE + """
if get('erased') then return {'', ''} end
redis.call('HSETNX', ACCT, 'first_paid', ARGV[8])
return {get('first_paid'), get('referred_by') or ''}
"""

OPEN = PRELUDE + """
if not get('erased') then open() end
return 1
"""

# Personal data goes; anonymous totals, the balance and its lots stay.
ERASE = PRELUDE + """
redis.call('HSET', ACCT, 'erased', '1')
redis.call('HDEL', ACCT, 'referred_by')
-- the dedupe records go too (they hold entries with reasons): every script refuses an erased account
redis.call('DEL', LEDGER, DONE, ORDERS, QUAL, QUALV, RDM, RLIST, RCOUNT)
return 1
"""


@dataclass(frozen=True)
class Ladder:
    """What the scripts need of the tier ladder."""
    codes: tuple[str, ...]
    thresholds: tuple[int, ...]
    multipliers: tuple[int, ...]
    window_ms: int
    review_days: int

    def json(self) -> str:
        return json.dumps({"codes": list(self.codes), "thresholds": list(self.thresholds),
                           "multipliers": list(self.multipliers)})


@dataclass(frozen=True)
class Outcome:
    status: str
    value: str = ""
    staged: bool = False


@dataclass
class AccountScripts:
    """The registered scripts of one ledger Redis (EVALSHA, loaded again after a restart by redis-py)."""
    client: redis.Redis
    ladder: Ladder
    scripts: dict = field(default_factory=dict)

    def __post_init__(self):
        for name, source in (("award", AWARD), ("debit", DEBIT), ("clawback", CLAWBACK), ("expire", EXPIRE),
                             ("review", REVIEW), ("redeem", REDEEM), ("cancel", CANCEL), ("abandon", ABANDON),
                             ("referred", REFERRED), ("first_paid", FIRST_PAID), ("erase", ERASE), ("open", OPEN)):
            self.scripts[name] = self.client.register_script(source)
        self._ladder_json = self.ladder.json()

    def run(self, name: str, customer_id: str, now: dt.datetime, today: dt.date, event_id: str, *args):
        argv = [int(now.timestamp() * 1000), today.toordinal(), self._ladder_json, self.ladder.window_ms,
                event_id, customer_id, self.ladder.review_days, *args]
        return self.scripts[name](keys=account_keys(customer_id), args=argv)


    def run_many(self, name: str, calls: list[tuple], now: dt.datetime, today: dt.date) -> list:
        """The same script for many accounts in one round trip (a pipeline, not a transaction: each
        script is atomic on its own account). `calls`: (customer_id, event_id, *args) each."""
        if not calls:
            return []
        script = self.scripts[name]
        head = [int(now.timestamp() * 1000), today.toordinal(), self._ladder_json, self.ladder.window_ms]
        with self.client.pipeline(transaction=False) as pipe:
            for customer_id, event_id, *args in calls:
                script(keys=account_keys(customer_id), args=[*head, event_id, customer_id, self.ladder.review_days,
                                                             *args], client=pipe)
            return pipe.execute()


def text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def outcome(raw) -> Outcome:
    """A script's {status, value[, staged]} answer."""
    if not isinstance(raw, list):
        return Outcome(text(raw))
    status = text(raw[0])
    value = text(raw[1]) if len(raw) > 1 else ""
    staged = len(raw) > 2 and int(raw[2]) == 1
    return Outcome(status, value, staged)
