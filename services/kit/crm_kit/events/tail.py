"""`crm events tail`: print events as they arrive, one JSON object a line.

Reads with XREAD BLOCK (no consumer group, so it changes nothing), from now
on or, with `--from-start`, from the oldest retained entry. Without
`--stream` it follows every `events:*` stream (looking for new ones every
few seconds).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import redis
from google.protobuf import json_format

from crm_kit.events.bus import STREAM_PREFIX, EventsSettings, connect, text
from crm_kit.events.envelope import EventError, decode, payload_of

RESCAN_SECONDS = 5.0


def event_streams(client: redis.Redis) -> list[str]:
    return sorted(text(k) for k in client.scan_iter(match=STREAM_PREFIX + "*", count=500, _type="stream"))


def render(stream: str, entry_id, fields: dict) -> dict:
    row: dict = {"stream": stream, "entry_id": text(entry_id), "type": text(fields.get(b"type", b""))}
    try:
        env = decode(fields[b"data"])
    except (EventError, KeyError) as e:
        row["error"] = str(e)
        return row
    row.update(event_id=env.event_id, occurred_at=env.occurred_at.ToJsonString(), producer=env.producer,
               subject_id=env.subject_id, request_id=env.request_id)
    try:
        row["payload"] = json_format.MessageToDict(payload_of(env), preserving_proto_field_name=True)
    except EventError as e:
        row["error"] = str(e)
    return row


def tail(client: redis.Redis, *, streams: list[str] | None = None, event_type: str | None = None,
         from_start: bool = False, limit: int = 0, block_ms: int = 1000,
         out: Callable[[str], None] = print) -> int:
    """Print events until Ctrl-C (or `limit` printed). Returns how many."""
    fixed = bool(streams)
    positions: dict[str, str] = {}

    def follow(names: list[str]) -> None:
        for name in names:
            if name in positions:
                continue
            if from_start:
                positions[name] = "0-0"
            else:
                last = client.xrevrange(name, count=1)
                positions[name] = text(last[0][0]) if last else "0-0"

    follow(streams if fixed else event_streams(client))
    printed, next_scan = 0, time.monotonic() + RESCAN_SECONDS
    while True:
        if not fixed and time.monotonic() >= next_scan:
            follow(event_streams(client))
            next_scan = time.monotonic() + RESCAN_SECONDS
        if not positions:
            time.sleep(block_ms / 1000)
            continue
        reply = client.xread(positions, block=block_ms, count=100)
        for stream, entries in reply or []:
            stream = text(stream)
            for entry_id, fields in entries:
                positions[stream] = text(entry_id)
                row = render(stream, entry_id, fields)
                if event_type and row["type"] != event_type:
                    continue
                out(json.dumps(row, ensure_ascii=False))
                printed += 1
                if limit and printed >= limit:
                    return printed


def add_events_commands(sub) -> None:
    """The `crm events ...` commands (only `tail` so far)."""
    events = sub.add_parser("events", help="domain events on the event Redis")
    esub = events.add_subparsers(dest="events_command", required=True)
    t = esub.add_parser("tail", help="print events as they arrive (JSON per line) until Ctrl-C")
    t.add_argument("--stream", action="append", default=[],
                   help="stream to follow, e.g. events:customer (repeatable; default: every events:* stream)")
    t.add_argument("--type", dest="event_type", default="", help="only this event type, e.g. customer.created")
    t.add_argument("--from-start", action="store_true", help="begin with the oldest retained entry, not now")
    t.add_argument("--limit", type=int, default=0, help="exit after this many events (0: never)")
    t.add_argument("--url", default="", help="event Redis URL (default: EVENTS_REDIS_URL)")
    t.set_defaults(func=cmd_events_tail)


def cmd_events_tail(args) -> None:
    url = args.url or EventsSettings.from_env().url
    client = connect(url)
    try:
        tail(client, streams=args.stream or None, event_type=args.event_type or None,
             from_start=args.from_start, limit=args.limit, out=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        pass
    except redis.exceptions.ConnectionError as e:
        print(f"crm events tail: cannot reach the event Redis at {url}: {e}", file=sys.stderr)
        raise SystemExit(1) from None
