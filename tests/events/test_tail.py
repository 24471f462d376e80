"""`crm events tail` prints decoded events, one JSON object a line."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from crm.events.v1 import events_pb2 as pb
from crm_kit.events.envelope import new_event
from crm_kit.events.tail import render

from tests.events.helpers import created, publish


def tail(url, *args):
    return subprocess.Popen([sys.executable, "-m", "crm_cli.main", "events", "tail", "--url", url, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_tail_from_start_with_type_filter(events_redis, events_redis_url, stream):
    first = created("cus_1")
    publish(events_redis, stream, first)
    publish(events_redis, stream, new_event("customer.erased", "cus_1", pb.CustomerErased(customer_id="cus_1"),
                                            "customer"))
    proc = tail(events_redis_url, "--stream", stream, "--from-start", "--type", "customer.created", "--limit", "1")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    (line,) = out.splitlines()
    row = json.loads(line)
    assert row["stream"] == stream and row["type"] == "customer.created" and row["event_id"] == first.event_id
    assert row["subject_id"] == "cus_1" and row["producer"] == "customer" and row["occurred_at"].endswith("Z")
    assert row["payload"] == {"customer_id": "cus_1", "owner_id": "rep-a", "kind": "person", "stage": "target"}


def test_tail_starts_from_now(events_redis, events_redis_url, stream):
    old = created("cus_old")
    publish(events_redis, stream, old)
    proc = tail(events_redis_url, "--stream", stream, "--limit", "1")
    try:
        sent = []
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            env = created("cus_new")
            publish(events_redis, stream, env)
            sent.append(env.event_id)
            time.sleep(0.2)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    row = json.loads(out.splitlines()[0])
    assert row["event_id"] != old.event_id and row["event_id"] in sent


def test_an_entry_that_is_not_utf8_is_shown_not_fatal():
    row = render("events:customer", b"1-0", {b"type": b"\xff\xfe", b"data": b"\xff"})
    assert row["type"] == "\ufffd\ufffd" and "error" in row
