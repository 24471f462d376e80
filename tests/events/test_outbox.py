"""The producer side against real FerretDB and the real event Redis."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pymongo.errors import DuplicateKeyError

from crm_kit.events.envelope import decode
from crm_kit.events.outbox import Outbox

from tests.events.helpers import created, ids_in


@pytest.fixture
def outbox(producer_db, events_redis, producer):
    box = Outbox(producer_db, events_redis, producer, sweep_min_age=timedelta(0))
    yield box
    box.stop(2.0)


def write(db, outbox, claim_id, events, *, relay=True):
    """What a writer does: stage, insert the claim with the events, relay."""
    docs = outbox.stage("claims", claim_id, events)
    db["claims"].insert_one({"_id": claim_id, "revision": 1, "events": docs})
    if relay:
        outbox.relay_soon("claims", claim_id, docs)
    return docs


def test_stage_writes_one_intent_and_returns_event_docs(producer_db, outbox):
    events = [created("cus_1"), created("cus_2")]
    docs = outbox.stage("claims", "cus_1#1", events)
    assert [d["id"] for d in docs] == [e.event_id for e in events]
    assert [decode(bytes(d["data"])) for d in docs] == events
    intents = list(producer_db["outbox"].find({}))
    assert len(intents) == 1
    intent = intents[0]
    assert intent["_id"] == "claims:cus_1#1" and intent["collection"] == "claims" and intent["claim"] == "cus_1#1"
    assert intent["event_ids"] == [e.event_id for e in events]
    assert abs(intent["at"] - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_stage_claim_relay_publishes_exactly_the_events(producer_db, events_redis, outbox, stream):
    events = [created("cus_1"), created("cus_1")]
    write(producer_db, outbox, "cus_1#1", events)
    assert outbox.relay_pending() == 1
    assert ids_in(events_redis, stream) == [e.event_id for e in events]
    entries = events_redis.xrange(stream)
    assert [decode(f[b"data"]) for _, f in entries] == events
    assert [f[b"type"] for _, f in entries] == [b"customer.created"] * 2
    assert producer_db["outbox"].count_documents({}) == 0  # marked relayed
    assert outbox.sweep()["published"] == 0
    assert len(ids_in(events_redis, stream)) == 2


def test_relay_thread_publishes_and_stop_drains(producer_db, events_redis, outbox, stream):
    outbox.start()
    expected = []
    for n in range(30):
        events = [created(f"cus_{n}")]
        expected += [e.event_id for e in events]
        write(producer_db, outbox, f"cus_{n}#1", events)
    outbox.stop(10.0)
    assert sorted(ids_in(events_redis, stream)) == sorted(expected)
    assert producer_db["outbox"].count_documents({}) == 0


def test_sweep_publishes_after_a_crash_between_claim_and_relay(producer_db, events_redis, outbox, stream):
    events = [created("cus_9")]
    write(producer_db, outbox, "cus_9#3", events, relay=False)  # the process died here
    assert ids_in(events_redis, stream) == []
    # A new process starts: its relay sweeps first.
    fresh = Outbox(producer_db, events_redis, outbox.producer, sweep_min_age=timedelta(0))
    counts = fresh.sweep()
    assert counts["published"] == 1
    assert ids_in(events_redis, stream) == [events[0].event_id]
    assert producer_db["outbox"].count_documents({}) == 0
    assert fresh.sweep()["published"] == 0


def test_young_intents_are_left_for_the_fast_path(producer_db, events_redis, producer, stream):
    box = Outbox(producer_db, events_redis, producer, sweep_min_age=timedelta(seconds=60))
    write(producer_db, box, "cus_1#1", [created("cus_1")], relay=False)
    assert box.sweep()["left"] == 1
    assert ids_in(events_redis, stream) == []


def test_intent_without_claim_is_kept_then_dropped_when_old(producer_db, events_redis, outbox, stream):
    outbox.stage("claims", "cus_5#2", [created("cus_5")])  # the writer died before claiming
    assert outbox.sweep() == {"published": 0, "lost_race": 0, "abandoned": 0, "left": 1}
    assert producer_db["outbox"].count_documents({}) == 1
    old = datetime.now(timezone.utc) - timedelta(minutes=6)
    producer_db["outbox"].insert_one({"_id": "claims:cus_6#2", "collection": "claims", "claim": "cus_6#2",
                                      "event_ids": ["evt_x"], "at": old})
    counts = outbox.sweep()
    assert counts["abandoned"] == 1 and counts["left"] == 1
    assert [d["_id"] for d in producer_db["outbox"].find({})] == ["claims:cus_5#2"]
    assert ids_in(events_redis, stream) == []


def test_lost_revision_race_publishes_the_winner_only(producer_db, events_redis, outbox, stream):
    """Two writers stage for the same claim; the second wins the insert and
    dies before relaying. The shared intent still leads the sweep to the
    winner's events; the loser's are never published."""
    loser, winner = [created("cus_7")], [created("cus_7")]
    loser_docs = outbox.stage("claims", "cus_7#4", loser)
    winner_docs = outbox.stage("claims", "cus_7#4", winner)
    assert producer_db["outbox"].count_documents({}) == 1
    producer_db["claims"].insert_one({"_id": "cus_7#4", "events": winner_docs})
    with pytest.raises(DuplicateKeyError):
        producer_db["claims"].insert_one({"_id": "cus_7#4", "events": loser_docs})
    counts = outbox.sweep()
    assert counts["lost_race"] == 1
    assert ids_in(events_redis, stream) == [winner[0].event_id]
    assert producer_db["outbox"].count_documents({}) == 0


def test_stale_intent_for_a_claim_with_other_events_is_deleted(producer_db, events_redis, outbox, stream):
    """A late writer stages after the winner relayed: the intent goes, only
    the winner's (already published) events are on the stream."""
    winner = [created("cus_8")]
    write(producer_db, outbox, "cus_8#2", winner)
    outbox.relay_pending()
    outbox.stage("claims", "cus_8#2", [created("cus_8")])  # its claim insert will fail
    outbox.sweep()
    assert producer_db["outbox"].count_documents({}) == 0
    assert set(ids_in(events_redis, stream)) == {winner[0].event_id}


def test_disabled_outbox_writes_nothing(producer_db, events_redis, producer, stream):
    for box in (Outbox.disabled(), Outbox(producer_db, events_redis, producer, enabled=False)):
        assert box.stage("claims", "cus_1#1", [created("cus_1")]) == []
        box.relay_soon("claims", "cus_1#1", [])
        box.start()
        box.stop()
        assert box.sweep()["published"] == 0
    assert "outbox" not in producer_db.list_collection_names()
    assert not events_redis.exists(stream)


def test_relay_counts_published_events(producer_db, outbox):
    from prometheus_client import REGISTRY

    labels = {"producer": outbox.producer, "type": "customer.created"}
    before = REGISTRY.get_sample_value("crm_events_published_total", labels) or 0
    write(producer_db, outbox, "cus_1#1", [created("cus_1"), created("cus_1")])
    outbox.relay_pending()
    assert REGISTRY.get_sample_value("crm_events_published_total", labels) == before + 2
    assert (REGISTRY.get_sample_value("store_command_seconds_count", {"store": "redis", "command": "pipeline"})
            or 0) >= 1


def test_settings_from_env_and_from_settings(monkeypatch, producer_db, events_redis_url, producer):
    from crm_kit.events.bus import EventsSettings
    from crm_kit.settings import SettingsError

    monkeypatch.delenv("EVENTS_REDIS_URL", raising=False)
    monkeypatch.delenv("EVENTS_ENABLED", raising=False)
    assert EventsSettings.from_env().url == "redis://127.0.0.1:6379/2"
    monkeypatch.setenv("EVENTS_REDIS_URL", "http://nope")
    with pytest.raises(SettingsError, match="EVENTS_REDIS_URL"):
        EventsSettings.from_env()
    monkeypatch.setenv("EVENTS_REDIS_URL", events_redis_url)
    monkeypatch.setenv("EVENTS_ENABLED", "false")
    assert not Outbox.from_settings(producer_db, EventsSettings.from_env(), producer).enabled
    monkeypatch.setenv("EVENTS_ENABLED", "true")
    box = Outbox.from_settings(producer_db, EventsSettings.from_env(), producer)
    assert box.enabled and box.retention_seconds == 7 * 86400


def test_a_batch_has_one_intent_and_publishes_every_claims_events(producer_db, outbox, events_redis, stream):
    events = {f"cus_b{i}": [created(f"cus_b{i}")] for i in range(5)}
    intent, staged = outbox.stage_batch("claims", list(events.items()))
    assert producer_db["outbox"].count_documents({}) == 1
    producer_db["claims"].insert_many([{"_id": cid, "events": docs} for cid, docs in zip(events, staged)])
    outbox.relay_batch_soon(intent, staged)
    outbox.relay_pending()
    assert ids_in(events_redis, stream) == [e[0].event_id for e in events.values()]
    assert producer_db["outbox"].count_documents({}) == 0


def test_a_batch_cut_short_by_a_crash_publishes_what_was_stored_and_nothing_else(producer_db, events_redis,
                                                                                  producer, stream):
    box = Outbox(producer_db, events_redis, producer, sweep_min_age=timedelta(0))
    events = {f"cus_c{i}": [created(f"cus_c{i}")] for i in range(4)}
    _intent, staged = box.stage_batch("claims", list(events.items()))
    stored = list(zip(events, staged))[:2]  # the writer died after inserting two of four
    producer_db["claims"].insert_many([{"_id": cid, "events": docs} for cid, docs in stored])
    assert box.sweep()["left"] == 1  # young: the writer may still be inserting the rest
    assert ids_in(events_redis, stream) == []
    late = Outbox(producer_db, events_redis, producer, sweep_min_age=timedelta(0), abandon_after=timedelta(0))
    late.sweep()
    assert ids_in(events_redis, stream) == [docs[0]["id"] for _cid, docs in stored]
    assert producer_db["outbox"].count_documents({}) == 0
