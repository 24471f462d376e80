"""Gateway CPU per request, measured without the services' CPU.

    uv run python services/gateway/cpu_profile.py [--requests 3000] [--cprofile out.prof]

A child process runs FerretDB, Redis and the customer service (real gRPC on
loopback); this process runs the gateway's Flask app through its test client
(no HTTP server: WSGI in-process) and measures its own CPU time
(`time.process_time()`, every thread: Flask, the gRPC client's C core) over N
requests of each kind, after a warm-up. With --cprofile the customer GET is
also run under cProfile and the top functions printed.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing as mp
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def _serve(conn) -> None:
    from crm_customer.bootstrap import build_host
    from crm_customer.settings import CustomerSettings
    from crm_kit.events.bus import EventsSettings
    from crm_kit.localstores import start_local_stores
    from crm_kit.mongo import MongoSettings
    from tests.conftest import server_settings

    stores = start_local_stores(Path(tempfile.mkdtemp(prefix="gw-cpu-")))
    host = build_host(CustomerSettings(server_settings("customer"), MongoSettings(stores.mongodb_uri, "cpu"), "CN",
                                       events=EventsSettings(url=stores.events_redis_url)))
    conn.send((f"127.0.0.1:{host.start()}", stores.redis_url))
    conn.recv()  # until the parent is done
    host.stop(0.5)
    stores.stop()


def _measure(client, label: str, method: str, url: str, headers: dict, n: int, **kw) -> float:
    call = getattr(client, method)
    for _ in range(min(200, n)):
        assert call(url, headers=headers, **kw).status_code < 300
    start = time.process_time()
    for _ in range(n):
        call(url, headers=headers, **kw)
    per = (time.process_time() - start) / n * 1000
    print(f"{label:<28} {per:6.3f} ms CPU/request (n={n})")
    return per


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--cprofile", default="")
    args = parser.parse_args()

    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
    proc.start()
    target, redis_url = parent.recv()
    try:
        from crm_gateway.app import create_app
        from tests.gateway.conftest import auth, gateway_settings

        app = create_app(gateway_settings({"customer": target, "sales": target, "support": target,
                                           "loyalty": target}, redis_url))
        client = app.test_client()
        who = auth("rep-cpu")
        made = client.post("/api/v1/customers", headers=who, json={
            "display_name": "李雷", "phones": ["13912345678"], "emails": ["li.lei@example.com"],
            "region": {"province": "浙江", "city": "杭州"}, "tags": ["vip", "tea"],
            "preferences": [{"topic": "seat", "note": "likes the window seat"}],
            "birthday": {"calendar": "lunar", "month": 8, "day": 15}})
        assert made.status_code in (201, 409), made.get_json()
        cid = made.get_json()["id"] if made.status_code == 201 else client.get(
            "/api/v1/customers/lookup?phone=13912345678", headers=who).get_json()["id"]
        n = args.requests
        _measure(client, "GET /healthz (no auth)", "get", "/healthz", {}, n)
        _measure(client, "GET customer by id", "get", f"/api/v1/customers/{cid}", who, n)
        _measure(client, "GET lookup by phone", "get", "/api/v1/customers/lookup?phone=13912345678", who, n)
        _measure(client, "GET list page_size=10", "get", "/api/v1/customers?page_size=10", who, n // 3)
        if any(r.rule == "/api/v1/customers/360" for r in app.url_map.iter_rules()):
            _measure(client, "GET 360 card by phone", "get", "/api/v1/customers/360?phone=13912345678", who, n // 3)
        if args.cprofile:
            prof = cProfile.Profile(time.process_time)
            prof.enable()
            for _ in range(n):
                client.get(f"/api/v1/customers/{cid}", headers=who)
            prof.disable()
            prof.dump_stats(args.cprofile)
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    finally:
        parent.send("done")
        proc.join(15)


if __name__ == "__main__":
    main()
