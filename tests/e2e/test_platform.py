"""End to end: the platform booted as separate processes, exactly as
`make run` does, driven over HTTP; then the customer service is killed."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from crm_cli.platform import Platform, dev_secret
from crm_kit.auth import mint_dev_token

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    suffix = uuid.uuid4().hex[:8]
    p = Platform(tmp_path_factory.mktemp("platform"), extra_env={
        "CUSTOMER_MONGODB_DATABASE": f"crm_customer_e2e_{suffix}",
        "SALES_MONGODB_DATABASE": f"crm_sales_e2e_{suffix}",
        "SUPPORT_MONGODB_DATABASE": f"crm_support_e2e_{suffix}",
        "GATEWAY_GRPC_TIMEOUT_SECONDS": "1.0",
    })
    p.start()
    yield p
    p.stop()


def http(platform, method, path, body=None, token=None, headers=None):
    req = urllib.request.Request(platform.gateway_url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


def test_slice_over_http_and_survival_of_a_killed_service(platform):
    rep = mint_dev_token(dev_secret(platform.data_dir), "rep-e2e", "rep")
    status, headers, made = http(platform, "POST", "/api/v1/customers", {
        "display_name": "欧阳娜娜", "phones": ["186 0000 1234"], "region": {"province": "北京", "city": "北京"}}, rep)
    assert status == 201, made
    status, _, found = http(platform, "GET", "/api/v1/customers/lookup?phone=%2B8618600001234", token=rep)
    assert status == 200 and found["id"] == made["id"]
    status, _, changed = http(platform, "PATCH", f"/api/v1/customers/{made['id']}", {"display_name": "欧阳娜"}, rep,
                              {"If-Match": headers["ETag"]})
    assert status == 200 and changed["display_name"] == "欧阳娜"
    status, _, page = http(platform, "GET", "/api/v1/customers?page_size=10", token=rep)
    assert status == 200 and [c["id"] for c in page["items"]] == [made["id"]]

    platform.kill("customer")
    started = time.monotonic()
    status, headers, problem = http(platform, "GET", f"/api/v1/customers/{made['id']}", token=rep)
    assert status == 503 and problem["service"] == "customer" and headers["Retry-After"] == "1"
    assert headers["Content-Type"].startswith("application/problem+json")
    assert time.monotonic() - started < 5  # within the deadline, no hang
    status, _, _ = http(platform, "GET", "/readyz")
    assert status == 503

    platform.start_service("customer")
    deadline = time.monotonic() + 30
    while True:
        status, _, again = http(platform, "GET", f"/api/v1/customers/{made['id']}", token=rep)
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200 and again["display_name"] == "欧阳娜"


def test_gateway_metrics_sum_every_worker(platform):
    for _ in range(20):
        http(platform, "GET", "/healthz")
    with urllib.request.urlopen(platform.gateway_url + "/metrics", timeout=5) as resp:
        text = resp.read().decode()
    line = next(l for l in text.splitlines() if l.startswith('http_requests_total{method="GET",route="/healthz",status="200"}'))
    assert float(line.rsplit(" ", 1)[1]) >= 20


def test_sigterm_drains_and_exits_cleanly(platform):
    proc = platform.processes["sales"]
    proc.terminate()
    assert proc.wait(timeout=15) == 0
    log = (platform.data_dir / "logs" / "sales.log").read_text()
    assert '"msg": "stopped"' in log
    platform.start_service("sales")
    platform.wait_ready(30)


def test_logs_are_json_with_request_ids_and_no_personal_data(platform):
    rep = mint_dev_token(dev_secret(platform.data_dir), "rep-logs", "rep")
    http(platform, "POST", "/api/v1/customers", {"display_name": "黄小琥", "phones": ["bad-phone-1"]}, rep,
         {"X-Request-Id": "e2e-log-check"})
    time.sleep(0.5)
    customer_log = (platform.data_dir / "logs" / "customer.log").read_text().splitlines()
    entries = [json.loads(line) for line in customer_log if line.startswith("{")]
    assert any(e.get("request_id") == "e2e-log-check" and e.get("code") == "INVALID_ARGUMENT" for e in entries)
    everything = "".join((platform.data_dir / "logs" / f"{n}.log").read_text() for n in platform.processes)
    for personal in ("黄小琥", "欧阳娜", "8618600001234", "bad-phone-1"):
        assert personal not in everything


def test_the_gateway_metrics_hold_no_service_series(platform):
    """Each process keeps its own metrics: the gateway's /metrics (gunicorn,
    multiprocess) must not sum the services' series in."""
    for _ in range(3):
        http(platform, "GET", "/readyz")  # four health calls each, counted by each service
    with urllib.request.urlopen(platform.gateway_url + "/metrics", timeout=5) as resp:
        gateway = resp.read().decode()
    assert "grpc_client_handled_total" in gateway  # the gateway's own calls
    # The services' own series stay out: their gRPC server counts and their
    # MongoDB calls (the gateway's Redis calls are its own, and measured).
    assert "grpc_server_handled_total" not in gateway and 'store="mongodb"' not in gateway
    port = int(platform.env["CUSTOMER_METRICS_PORT"])
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        customer = resp.read().decode()
    health = [line for line in customer.splitlines() if line.startswith("grpc_server_handled_total{")
              and 'grpc_method="Check"' in line]
    assert health and "http_requests_total" not in customer
    environ = Path(f"/proc/{platform.processes['customer'].pid}/environ").read_bytes().split(b"\0")
    assert not any(v.startswith(b"PROMETHEUS_MULTIPROC_DIR=") for v in environ)


def test_service_metrics_listen_on_loopback_only(platform):
    ports = {int(platform.env[f"{s.upper()}_METRICS_PORT"]) for s in ("customer", "sales", "support", "loyalty")}
    listening = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port = local.split(":")
        if state == "0A" and int(port, 16) in ports:  # LISTEN
            listening[int(port, 16)] = address
    assert listening == {port: "0100007F" for port in ports}  # 127.0.0.1
