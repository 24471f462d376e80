"""An outbox for a service whose store is Redis (no Mongo outbox to stage in).

The state change and its event are written by the SAME script, the event as
a small JSON item pushed to an outbox list that shares the changed keys'
hash tag (so the script stays in one slot on Redis Cluster). A crash after
that script loses nothing: the item stays until it is published.

`relay(key)` publishes a list's items in order: it turns each into an
envelope (`make_envelope(item) -> Envelope`, whose event id comes from the
item, so a re-publish carries the same id and consumers deduplicate it),
XADDs it to `events:<producer>`, then removes the item (LREM of exactly
that item). A crash between the XADD and the LREM publishes it again with
the same event id: at least once, deduplicated downstream.

The writer calls `relay(key)` right after a script that staged something
(the event goes out at once); `sweep()` SCANs every key of `pattern` for
leftovers (a writer that died before relaying) and is run periodically
(`PeriodicJob`; idempotent, safe with replicas).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import redis
from prometheus_client import Counter

from crm_kit.events.bus import stream_for
from crm_kit.events.envelope import Envelope, encode

log = logging.getLogger("crm.events.redis_outbox")

RELAYED = Counter("crm_redis_outbox_relayed_total", "Events published from a Redis outbox list.", ["producer"])


class RedisListOutbox:
    def __init__(self, store: redis.Redis, events: redis.Redis | None, producer: str, pattern: str,
                 make_envelope: Callable[[dict], Envelope]):
        self.store = store
        self.events = events
        self.producer = producer
        self.stream = stream_for(producer)
        self.pattern = pattern
        self.make_envelope = make_envelope

    def relay(self, key: str) -> int:
        """Publishes what `key` holds, oldest first; the number published.
        With events off nothing is published and the items stay."""
        if self.events is None:
            return 0
        published = 0
        for raw in self.store.lrange(key, 0, -1):
            try:
                env = self.make_envelope(json.loads(raw))
            except (ValueError, KeyError, TypeError):
                log.error("unreadable outbox item dropped", extra={"fields": {"key_pattern": self.pattern}})
                self.store.lrem(key, 1, raw)
                continue
            self.events.xadd(self.stream, {"id": env.event_id, "type": env.type, "data": encode(env)})
            self.store.lrem(key, 1, raw)
            published += 1
        if published:
            RELAYED.labels(self.producer).inc(published)
        return published

    def sweep(self) -> int:
        """Relays every non-empty outbox list of `pattern` (leftovers of a writer that died)."""
        if self.events is None:
            return 0
        return sum(self.relay(key.decode() if isinstance(key, bytes) else key)
                   for key in self.store.scan_iter(match=self.pattern, count=500))
