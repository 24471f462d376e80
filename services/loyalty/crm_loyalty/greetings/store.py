"""Greeting claims, the delivery log and the templates in Redis.

Keys of one customer share the hash tag of the account, so the scripts that
touch both also run on Redis Cluster:

* ``loyalty:{<customer_id>}:greetings`` (hash): one field per occasion and
  occurrence year (``mid_autumn:2026``) holding the claim as JSON (state
  queued | sent | failed | skipped, the run holding it and until when, the
  attempts, the message id, channel and reason, no contact data), plus
  ``done_through`` (the last day whose greetings are all decided, so a
  repeated run skips the customer with one pipelined read).
* ``loyalty:{<customer_id>}:greetings:log`` (list, newest first, capped):
  every attempt's outcome.
* ``loyalty:greetings:templates`` (hash): admins' templates by
  ``<occasion>:<language>``.
* ``loyalty:greetings:runs:{<run_id>}`` (hash): one run's record (the day,
  who started it, its counts, when it started, last moved and ended, why it
  stopped), rewritten by its runner after every batch; it expires
  RUN_TTL_SECONDS after its last write.

A claim is taken in one script: created when absent (the SET NX of the
claim), taken over when it failed earlier or its holder's lease ran out (a
run that died mid-send), refused while another run holds it or once it is
sent or skipped. It is finished in one script that also appends the log
entry, and only by the run holding it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone

import redis

from crm_loyalty.greetings.model import FAILED, RUN_COUNTS, SENT, SKIPPED, RunSummary, Template

TEMPLATES_KEY = "loyalty:greetings:templates"
LOG_LIMIT = 100
DONE_THROUGH = "done_through"
RUN_TTL_SECONDS = 30 * 86400
RUN_TIMES = ("started_at", "updated_at", "finished_at")


def claims_key(customer_id: str) -> str:
    return f"loyalty:{{{customer_id}}}:greetings"


def log_key(customer_id: str) -> str:
    return f"loyalty:{{{customer_id}}}:greetings:log"


def run_key(run_id: str) -> str:
    return f"loyalty:greetings:runs:{{{run_id}}}"


_CLAIM = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local now, lease, max_attempts = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
if not raw then
  local c = {state='queued', owner=ARGV[2], lease_until=now + lease, attempts=1, message_id=ARGV[5],
             channel='', reason='', time=now}
  raw = cjson.encode(c)
  redis.call('HSET', KEYS[1], ARGV[1], raw)
  return {'new', raw}
end
local c = cjson.decode(raw)
if c.state == 'sent' or c.state == 'skipped' or (c.state == 'failed' and c.attempts >= max_attempts) then
  return {'done', raw}
end
if c.state == 'queued' and c.lease_until > now then
  return {'busy', raw}
end
c.state = 'queued'
c.owner = ARGV[2]
c.lease_until = now + lease
c.attempts = c.attempts + 1
c.time = now
raw = cjson.encode(c)
redis.call('HSET', KEYS[1], ARGV[1], raw)
return {'retry', raw}
"""

_FINISH = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local c = cjson.decode(raw)
if c.owner ~= ARGV[2] or c.state ~= 'queued' then return 0 end
c.state = ARGV[3]
c.channel = ARGV[4]
c.reason = ARGV[5]
c.time = tonumber(ARGV[6])
c.lease_until = 0
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(c))
redis.call('LPUSH', KEYS[2], ARGV[7])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[8]) - 1)
return 1
"""

_RELEASE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local c = cjson.decode(raw)
if c.owner ~= ARGV[2] or c.state ~= 'queued' then return 0 end
if c.attempts <= 1 then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  c.state = 'failed'
  c.lease_until = 0
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(c))
end
return 1
"""


@dataclass(frozen=True)
class Claim:
    customer_id: str
    field: str  # <occasion code>:<year>
    owner: str  # the run holding it
    message_id: str
    attempts: int

    @property
    def claim_id(self) -> str:
        """Names this greeting for good (the gift points' request id)."""
        return f"greeting:{self.customer_id}:{self.field}"


@dataclass(frozen=True)
class Delivery:
    occasion: str
    year: int
    channel: str
    outcome: str
    reason: str
    message_id: str
    time: datetime


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


class GreetingStore:
    def __init__(self, client: redis.Redis, *, lease_seconds: int = 300, max_attempts: int = 3):
        self.redis = client
        self.lease_ms = lease_seconds * 1000
        self.max_attempts = max_attempts
        self._claim = client.register_script(_CLAIM)
        self._finish = client.register_script(_FINISH)
        self._release = client.register_script(_RELEASE)

    # -- claims ------------------------------------------------------------------

    def claim(self, customer_id: str, field: str, owner: str, now: datetime) -> tuple[str, Claim | None]:
        """("new" | "retry", claim) when this run may send now; ("done" | "busy", None) otherwise."""
        verdict, raw = self._claim(keys=[claims_key(customer_id)], args=[
            field, owner, _ms(now), self.lease_ms, "msg_" + secrets.token_hex(12), self.max_attempts])
        verdict = verdict.decode()
        if verdict not in ("new", "retry"):
            return verdict, None
        c = json.loads(raw)
        return verdict, Claim(customer_id, field, owner, c["message_id"], int(c["attempts"]))

    def finish(self, claim: Claim, outcome: str, channel: str, reason: str, now: datetime) -> bool:
        """Records the outcome (sent, failed, skipped) and its log entry in
        one step; False when the claim is no longer this run's."""
        assert outcome in (SENT, FAILED, SKIPPED)
        code, _, year = claim.field.rpartition(":")
        entry = json.dumps({"occasion": code, "year": int(year), "channel": channel, "outcome": outcome,
                            "reason": reason, "message_id": claim.message_id, "time": _ms(now)})
        return bool(self._finish(keys=[claims_key(claim.customer_id), log_key(claim.customer_id)], args=[
            claim.field, claim.owner, outcome, channel, reason, _ms(now), entry, LOG_LIMIT]))

    def release(self, claim: Claim) -> None:
        """Gives a claim back undecided (its send raised): a
        first attempt leaves no trace, a retry stays failed."""
        self._release(keys=[claims_key(claim.customer_id)], args=[claim.field, claim.owner])

    def state_of(self, customer_id: str, field: str) -> str:
        raw = self.redis.hget(claims_key(customer_id), field)
        return json.loads(raw)["state"] if raw else ""

    def mark_done(self, customer_ids: list[str], day: date) -> None:
        """Notes that these customers' greetings of `day` are all decided (one pipelined round)."""
        pipe = self.redis.pipeline(transaction=False)
        for cid in customer_ids:
            pipe.hset(claims_key(cid), DONE_THROUGH, day.isoformat())
        pipe.execute()

    def done_on(self, customer_ids: list[str], day: date) -> set[str]:
        """Those of `customer_ids` whose greetings of `day` are all decided (one pipelined round).
        Only the last day is kept: a run of another day in between makes the
        next one ask again (the claims still decide)."""
        pipe = self.redis.pipeline(transaction=False)
        for cid in customer_ids:
            pipe.hget(claims_key(cid), DONE_THROUGH)
        mark = day.isoformat().encode()
        return {cid for cid, done in zip(customer_ids, pipe.execute()) if done == mark}

    # -- the log -------------------------------------------------------------------

    def deliveries(self, customer_id: str, limit: int) -> list[Delivery]:
        rows = self.redis.lrange(log_key(customer_id), 0, limit - 1)
        out = []
        for raw in rows:
            e = json.loads(raw)
            out.append(Delivery(e["occasion"], int(e["year"]), e["channel"], e["outcome"], e["reason"],
                                e["message_id"], datetime.fromtimestamp(e["time"] / 1000, timezone.utc)))
        return out

    def erase(self, customer_id: str) -> None:
        """customer.erased: the claims and the log go (anonymous counts stay in the metrics)."""
        self.redis.delete(claims_key(customer_id), log_key(customer_id))

    # -- runs ------------------------------------------------------------------------

    def save_run(self, run: RunSummary) -> None:
        """Writes the run's record whole (its runner is its only writer) and
        renews its expiry, in one step."""
        fields = {"on_date": run.on_date.isoformat(), "started_by": run.started_by,
                  "stopped_reason": run.stopped_reason, **{name: getattr(run, name) for name in RUN_COUNTS},
                  **{name: at.isoformat() if (at := getattr(run, name)) else "" for name in RUN_TIMES}}
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(run_key(run.run_id), mapping=fields)
        pipe.expire(run_key(run.run_id), RUN_TTL_SECONDS)
        pipe.execute()

    def get_run(self, run_id: str) -> RunSummary | None:
        raw = {k.decode(): v.decode() for k, v in self.redis.hgetall(run_key(run_id)).items()}
        if not raw:
            return None
        return RunSummary(date.fromisoformat(raw["on_date"]), run_id=run_id, started_by=raw.get("started_by", ""),
                          stopped_reason=raw.get("stopped_reason", ""),
                          **{name: int(raw.get(name, 0)) for name in RUN_COUNTS},
                          **{name: datetime.fromisoformat(raw[name]) if raw.get(name) else None
                             for name in RUN_TIMES})

    # -- templates ---------------------------------------------------------------------

    def templates(self) -> dict[tuple[str, str], tuple[Template, datetime]]:
        out = {}
        for key, raw in self.redis.hgetall(TEMPLATES_KEY).items():
            t = json.loads(raw)
            out[(t["occasion"], t["language"])] = (
                Template(t["occasion"], t["language"], t["subject"], t["body"]),
                datetime.fromtimestamp(t["time"] / 1000, timezone.utc))
        return out

    def put_template(self, template: Template, now: datetime) -> None:
        self.redis.hset(TEMPLATES_KEY, f"{template.occasion}:{template.language}", json.dumps({
            "occasion": template.occasion, "language": template.language, "subject": template.subject,
            "body": template.body, "time": _ms(now)}))

    def drop_template(self, occasion: str, language: str) -> None:
        self.redis.hdel(TEMPLATES_KEY, f"{occasion}:{language}")

