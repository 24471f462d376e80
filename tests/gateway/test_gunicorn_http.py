"""The gateway under a real gunicorn (two gthread workers, the gunicorn
config make run uses) in front of the test session's services and Redis:
what only a real server shows — chunked bodies, gunicorn's own 414/431
answers, and one rate-limit budget shared by both workers."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from crm_kit.localstores import free_port, terminate
from tests.conftest import SECRET
from tests.gateway.conftest import auth

PROBLEM = "application/problem+json"
REP_BUDGET = 20


@pytest.fixture(scope="module")
def gunicorn(services, stores, tmp_path_factory):
    work = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "PROMETHEUS_"))}
    env.update({f"{name.upper()}_GRPC_TARGET": target for name, target in services.targets.items()})
    env.update({
        "CRM_JWT_DEV_SECRET": SECRET, "GATEWAY_BIND": f"127.0.0.1:{port}", "GATEWAY_WORKERS": "2",
        "GATEWAY_THREADS": "4", "GATEWAY_REDIS_URL": stores.redis_url.rsplit("/", 1)[0] + "/1",
        "GATEWAY_RATE_LIMIT_REP": str(REP_BUDGET), "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
    })
    (work / "metrics").mkdir()
    with open(work / "gunicorn.log", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:crm_gateway.gunicorn_conf",
                                 "crm_gateway.app:create_app()"], env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                break
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, (work / "gunicorn.log").read_text()[-3000:]
        time.sleep(0.1)
    yield port, work / "metrics"
    terminate([proc], 15)


def request(port, method, path, body=None, headers=None, chunked=False):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if chunked:
            conn.request(method, path, body=iter([body[i:i + 8192] for i in range(0, len(body), 8192)]),
                         headers=headers or {}, encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_a_chunked_body_over_the_limit_is_413_problem_json(gunicorn):
    port, _ = gunicorn
    body = json.dumps({"display_name": "x" * (70 * 1024), "phones": ["13800138000"]}).encode()
    status, headers, raw = request(port, "POST", "/api/v1/customers", body, chunked=True,
                                   headers={**auth(f"rep-{uuid.uuid4().hex[:8]}"),
                                            "Content-Type": "application/json"})
    assert status == 413 and headers["Content-Type"].startswith(PROBLEM), raw[:300]
    assert json.loads(raw)["status"] == 413


def test_a_chunked_body_under_the_limit_is_read_whole(gunicorn):
    port, _ = gunicorn
    body = json.dumps({"display_name": "x" * (40 * 1024), "phones": ["13800138000"]}).encode()
    status, _, raw = request(port, "POST", "/api/v1/customers", body, chunked=True,
                             headers={**auth(f"rep-{uuid.uuid4().hex[:8]}"), "Content-Type": "application/json"})
    assert status == 422 and b"display_name" in raw  # parsed in full: the name is too long, not malformed


def test_an_over_long_request_line_is_414_problem_json(gunicorn):
    port, _ = gunicorn
    status, headers, raw = request(port, "GET", "/api/v1/customers?name_prefix=" + "a" * 5000)
    assert status == 414 and headers["Content-Type"] == PROBLEM
    problem = json.loads(raw)
    assert problem["status"] == 414 and problem["title"] == "URI Too Long"
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("headers", [{"X-Big": "b" * 9000}, {f"X-H{i}": "1" for i in range(120)}])
def test_too_large_header_fields_are_431_problem_json(gunicorn, headers):
    port, _ = gunicorn
    status, resp_headers, raw = request(port, "GET", "/healthz", headers=headers)
    assert status == 431 and resp_headers["Content-Type"] == PROBLEM
    assert json.loads(raw)["title"] == "Request Header Fields Too Large"
    assert "bbbb" not in raw.decode()  # nothing the client sent is echoed


def test_two_workers_share_one_budget(gunicorn):
    port, metrics_dir = gunicorn
    headers = auth(f"rep-{uuid.uuid4().hex[:8]}", "rep")
    total = REP_BUDGET + 10
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: request(port, "GET", "/api/v1/customers?page_size=1", headers=headers),
                                range(total)))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200] * REP_BUDGET + [429] * 10
    refused = next(h for s, h, _ in answers if s == 429)
    assert int(refused["Retry-After"]) >= 1 and refused["RateLimit-Policy"] == f'"rep";q={REP_BUDGET};w=60'
    assert all("RateLimit" in h for _, h, _ in answers)
    # both workers answered (each keeps its own metrics file)
    pids = {p.stem.rsplit("_", 1)[1] for p in Path(metrics_dir).glob("counter_*.db")}
    assert len(pids) >= 2, pids
