"""Decide-once helpers: make a consumer's effect happen once per event id,
although delivery is at least once (a redelivery after a crash, a
re-publish by the outbox sweep).

`RedisOnce` — for a consumer whose store is Redis. The effect and the
"event id done" marker go in ONE atomic step, so exactly once holds with
no condition on the effect:

* `apply(event_id, commands)`: a Lua script checks the marker, runs the
  commands (each ``(name, key, *args)``, e.g. ``("HINCRBY", "points:c1",
  "balance", 50)``), then sets the marker with a TTL. Redis runs the script
  alone (no other client in between) and an AOF-persisted script is
  replayed whole. Commands must not fail (right key types): a failing
  command aborts the script after the commands before it, without the
  marker; the handler raises and the entry is retried then dead-lettered.
* `transaction(event_id, build, watch=())`: WATCH the marker and `watch`
  keys, let `build(pipe)` read, then queue writes after ``pipe.multi()``;
  EXEC applies them with the marker or, if any watched key changed, retries.
  For effects computed from what the store holds.

The marker lives `ttl_seconds` (default 14 days, twice the stream
retention): a redelivery later than that is not recognised.

`MongoOnce` — for a Mongo-backed consumer, a decide-once claim
``{_id: "<group>:<event id>"}`` in the consumer's own database (insert is
atomic on FerretDB and MongoDB alike):

* ``if not once.done(eid): effect(); once.mark(eid)`` is exactly once when
  the effect is idempotent by itself (an insert or upsert whose `_id` is
  derived from the event id, a `$set` of absolute values): a crash between
  the effect and the mark redoes a harmless effect. With a non-idempotent
  effect (`$inc`) it is at least once.
* ``if once.claim(eid): effect()`` (insert the claim first) is at most
  once: a crash after the claim loses the effect. Use it only where losing
  beats doubling.
* Best: make the effect itself the claim, one insert of a document whose
  `_id` is ``"<group>:<event id>"`` (a ledger entry); that is exactly once
  with no condition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone

import redis
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

DEFAULT_TTL_SECONDS = 14 * 86400

_APPLY = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local pos = 2
for i = 2, #KEYS do
  local n = tonumber(ARGV[pos])
  local cmd = {ARGV[pos + 1], KEYS[i]}
  for j = 1, n do cmd[#cmd + 1] = ARGV[pos + 1 + j] end
  pos = pos + 2 + n
  redis.call(unpack(cmd))
end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
return 1
"""


class RedisOnce:
    def __init__(self, client: redis.Redis, group: str, *, ttl_seconds: int = DEFAULT_TTL_SECONDS,
                 prefix: str = "events:done"):
        self.redis = client
        self.group = group
        self.ttl = ttl_seconds
        self.prefix = prefix
        self._script = client.register_script(_APPLY)

    def marker(self, event_id: str) -> str:
        return f"{self.prefix}:{self.group}:{event_id}"

    def done(self, event_id: str) -> bool:
        return bool(self.redis.exists(self.marker(event_id)))

    def apply(self, event_id: str, commands: Sequence[Sequence]) -> bool:
        """Run `commands` and mark `event_id` done, atomically, unless it is
        done already. True when this call applied them."""
        keys = [self.marker(event_id)]
        args: list = [self.ttl]
        for command in commands:
            name, key, *rest = command
            keys.append(key)
            args += [len(rest), name, *rest]
        return bool(self._script(keys=keys, args=args))

    def transaction(self, event_id: str, build: Callable[[redis.client.Pipeline], object],
                    watch: Iterable[str] = ()) -> bool:
        """WATCH-based variant: `build(pipe)` may read (the pipe is in
        immediate mode), must call `pipe.multi()` and queue the writes. True
        when this call applied them; False when the event was done already."""
        marker = self.marker(event_id)
        with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(marker, *watch)
                    if pipe.exists(marker):
                        pipe.unwatch()
                        return False
                    build(pipe)
                    if not pipe.explicit_transaction:
                        pipe.multi()
                    pipe.set(marker, 1, ex=self.ttl)
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue


class MongoOnce:
    def __init__(self, collection: Collection, group: str):
        self.collection = collection
        self.group = group

    def key(self, event_id: str) -> str:
        return f"{self.group}:{event_id}"

    def done(self, event_id: str) -> bool:
        return self.collection.find_one({"_id": self.key(event_id)}, {"_id": 1}) is not None

    def mark(self, event_id: str) -> None:
        """Record the event as done (again is harmless)."""
        self.claim(event_id)

    def claim(self, event_id: str) -> bool:
        """Insert the claim; True for the one caller that inserted it."""
        try:
            self.collection.insert_one({"_id": self.key(event_id), "at": datetime.now(timezone.utc)})
            return True
        except DuplicateKeyError:
            return False
