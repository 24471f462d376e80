"""Redis calls are measured like Mongo calls: every command and pipeline of
a kit Redis client lands in store_command_seconds{store="redis"}."""

import threading

from prometheus_client import REGISTRY

from crm_kit import redis_store
from crm_kit.redis_store import connect


def _count(command: str) -> float:
    return REGISTRY.get_sample_value("store_command_seconds_count", {"store": "redis", "command": command}) or 0.0


def test_commands_and_pipelines_are_timed(stores, monkeypatch):
    """Counted for this thread: the session's services run in this process, and their relays time their own
    pipelines in the same series meanwhile (CI once saw two)."""
    me, timed = threading.get_ident(), []
    observe = redis_store._observe

    def recording(command: str, started: float, failed: bool) -> None:
        if threading.get_ident() == me:
            timed.append(command)
        observe(command, started, failed)

    monkeypatch.setattr(redis_store, "_observe", recording)
    client = connect(stores.redis_url)
    before_set, before_get, before_pipe = _count("set"), _count("get"), _count("pipeline")
    client.set("kit:metrics:probe", b"1")
    client.get("kit:metrics:probe")
    pipe = client.pipeline()
    pipe.incr("kit:metrics:n")
    pipe.delete("kit:metrics:n", "kit:metrics:probe")
    pipe.execute()
    assert timed == ["set", "get", "pipeline"]  # each command once, the pipeline as one
    assert min(_count("set") - before_set, _count("get") - before_get, _count("pipeline") - before_pipe) >= 1
