"""The event Redis (AOF, appendfsync always) keeps every acknowledged XADD
across a crash and a restart on the same data folder."""

from __future__ import annotations

import signal

from crm_kit.events.bus import connect
from crm_kit.localstores import start_events_redis, terminate

from tests.events.helpers import created, ids_in, publish


def test_acknowledged_xadds_survive_kill_and_restart(tmp_path):
    data = tmp_path / "events-redis"
    url, proc = start_events_redis(data)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    try:
        client = connect(url)
        written = []
        for n in range(200):
            env = created(f"cus_{n}")
            publish(client, "events:customer", env)  # returned: the server acknowledged it
            written.append(env.event_id)
        client.xgroup_create("events:customer", "loyalty", id="0")
        client.xreadgroup("loyalty", "c1", {"events:customer": ">"}, count=50)
        client.close()
        proc.send_signal(signal.SIGKILL)  # a crash, not a clean shutdown
        proc.wait()

        url, proc = start_events_redis(data, port=port)
        client = connect(url)
        assert ids_in(client, "events:customer") == written
        assert client.xpending("events:customer", "loyalty")["pending"] == 50
        # and once more with a clean stop
        publish(client, "events:customer", created("cus_last"))
        client.close()
        terminate([proc], 10.0)
        url, proc = start_events_redis(data, port=port)
        client = connect(url)
        assert len(ids_in(client, "events:customer")) == 201
        client.close()
    finally:
        terminate([proc], 10.0)
