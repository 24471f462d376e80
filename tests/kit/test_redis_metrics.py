"""Redis calls are measured like Mongo calls: every command and pipeline of
a kit Redis client lands in store_command_seconds{store="redis"}."""

from prometheus_client import REGISTRY

from crm_kit.redis_store import connect


def _count(command: str) -> float:
    return REGISTRY.get_sample_value("store_command_seconds_count", {"store": "redis", "command": command}) or 0.0


def test_commands_and_pipelines_are_timed(stores):
    client = connect(stores.redis_url)
    before_set, before_get, before_pipe = _count("set"), _count("get"), _count("pipeline")
    client.set("kit:metrics:probe", b"1")
    client.get("kit:metrics:probe")
    pipe = client.pipeline()
    pipe.incr("kit:metrics:n")
    pipe.delete("kit:metrics:n", "kit:metrics:probe")
    pipe.execute()
    assert (_count("set") - before_set, _count("get") - before_get, _count("pipeline") - before_pipe) == (1, 1, 1)
