"""The rewards catalogue and its stock in Redis.

Stock lives under the reward's own hash tag (`loyalty:{<reward_id>}:...`),
points under the customer's: on Redis Cluster they are different slots, so
a redemption is two atomic steps with compensation (see RewardService):
reserve a unit (a hold named by the redemption id), take the points in the
account's script, then confirm the hold, or release it when the points
step refused. A hold left "reserved" by a process that died is settled by
the sweep: the account's slot decides (ABANDON) whether the redemption
happened (confirm) or never will (release). A cancellation marks its hold
"returning" first, then returns the points, then the unit; the sweep
finishes one whose process died (release when the redemption is cancelled,
back to "confirmed" when it is not).

    loyalty:{r}:reward   HASH  name, description, cost, stock, limit, valid_from, valid_until (ordinals, 0 open),
                               active, created, updated (ms)
    loyalty:{r}:holds    HASH  redemption id -> "<state>|<customer id>|<request key>"
    loyalty:{r}:holdq    ZSET  redemption id -> time reserved (ms), while "reserved" or "returning"
    loyalty:rewards      ZSET  reward id -> time created (the catalogue's order)
"""

from __future__ import annotations

import redis

INDEX = "loyalty:rewards"


def reward_keys(reward_id: str) -> list[str]:
    return [f"loyalty:{{{reward_id}}}:reward", f"loyalty:{{{reward_id}}}:holds", f"loyalty:{{{reward_id}}}:holdq"]


CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

# ARGV: now, today, redemption id, hold value. Returns {status, cost, limit}.
RESERVE = """
local r = KEYS[1]
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then
  return {'held', redis.call('HGET', r, 'cost'), redis.call('HGET', r, 'limit')}
end
if redis.call('EXISTS', r) == 0 then return {'missing', '0', '0'} end
local today = tonumber(ARGV[2])
local from, till = tonumber(redis.call('HGET', r, 'valid_from') or '0'), tonumber(redis.call('HGET', r, 'valid_until') or '0')
if redis.call('HGET', r, 'active') ~= '1' or (from > 0 and today < from) or (till > 0 and today > till) then
  return {'validity', '0', '0'}
end
if tonumber(redis.call('HGET', r, 'stock') or '0') <= 0 then return {'stock', '0', '0'} end
redis.call('HINCRBY', r, 'stock', -1)
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[3])
return {'reserved', redis.call('HGET', r, 'cost'), redis.call('HGET', r, 'limit')}
"""

# ARGV: redemption id.
CONFIRM = """
local hold = redis.call('HGET', KEYS[2], ARGV[1])
if not hold then return 0 end
local bar = string.find(hold, '|', 1, true)
redis.call('HSET', KEYS[2], ARGV[1], 'confirmed' .. string.sub(hold, bar))
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""

# ARGV: redemption id, now. A cancellation announces itself before its points step, so the sweep can finish
# it (release) or undo the mark (confirm) when the cancelling process died in between.
RETURNING = """
local hold = redis.call('HGET', KEYS[2], ARGV[1])
if not hold then return 0 end
local bar = string.find(hold, '|', 1, true)
redis.call('HSET', KEYS[2], ARGV[1], 'returning' .. string.sub(hold, bar))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
"""

# ARGV: redemption id. The unit goes back once, whatever the hold's state (a retry finds no hold).
RELEASE = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'stock', 1)
return 1
"""

# ARGV: redemption id. customer.erased: a confirmed hold goes (it names the customer and the request); a
# reserved or returning one is left to the sweep, which settles it.
FORGET = """
local hold = redis.call('HGET', KEYS[2], ARGV[1])
if not hold or string.sub(hold, 1, 10) ~= 'confirmed|' then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""

# ARGV: units to add (may be negative), now. Never below zero.
ADD_STOCK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local stock = tonumber(redis.call('HGET', KEYS[1], 'stock') or '0') + tonumber(ARGV[1])
if stock < 0 then return -2 end
redis.call('HSET', KEYS[1], 'stock', string.format('%d', stock), 'updated', ARGV[2])
return 1
"""


class RewardScripts:
    def __init__(self, client: redis.Redis):
        self.client = client
        self.create = client.register_script(CREATE)
        self.reserve = client.register_script(RESERVE)
        self.confirm = client.register_script(CONFIRM)
        self.release = client.register_script(RELEASE)
        self.returning = client.register_script(RETURNING)
        self.add_stock = client.register_script(ADD_STOCK)
        self.forget = client.register_script(FORGET)
