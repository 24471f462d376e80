"""Benchmark: seed customers, then measure reads at every layer against its floor.

    uv run python bench/run.py                     # 100,000 customers, 10 s per scenario
    uv run python bench/run.py --customers 5000 --duration 3   # quick check

Everything runs on 127.0.0.1: the whole platform (FerretDB, Redis, four
services, the gateway under gunicorn) starts from a wiped var/bench and stops
at the end. Each scenario runs with 32 concurrent clients for a fixed time,
after a short unmeasured warm-up, and each starts with the platform idle
(calls that earlier clients gave up on may still be running server-side):

  (a) gateway GET /api/v1/customers/{id}           floor (d1)
  (b) gateway GET /api/v1/customers/lookup?phone=  floor (d1)
  (c) gRPC GetCustomer to the customer service     floor (d2)
  (d1) gateway GET /readyz/customer: the gateway plus one empty gRPC call
  (d2) gRPC grpc.health.v1.Health/Check: an empty gRPC call
  (d3) pymongo find_one({"_id": id}) straight to FerretDB
  (e) gateway GET /api/v1/customers/lookup?email=  floor (d1); p99 vs (a)
  (g) gateway POST /api/v1/customers/{id}/interactions  floor (d1)
  (f) gateway GET /api/v1/customers?owner_id=&stage=: one client, single
      requests (a scan on FerretDB/SQLite; the owner_stage_id index on MongoDB)
  CSV import: `crm import`'s own function, --import-rows new demo customers
      (default as many as seeded), rows/s against >= 2,000 and the seeding rate

HTTP load comes from wrk, gRPC load from ghz (both installed when missing;
the Python driver in pyload.py stands in for ghz when it can't be built, and
then drives both (c) and (d2) so their ratio stays fair). Results go to
bench/results/results.{json,md}; the Markdown is also printed.
"""

from __future__ import annotations

import argparse
import functools
import json
import operator
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

import pymongo
from grpc_health.v1 import health_pb2

from crm.customer.v1 import customer_service_pb2
from crm_cli.demo import demo_phone
from crm_cli.demo import demo_customer
from crm_cli import csv_io
from crm_cli.transfer import import_csv
from crm_cli.platform import Platform, dev_secret
from crm_cli.seed import seed_customers
from crm_kit.auth import mint_dev_token

import pyload
from pyload import LoadStats

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
TOOLS_BIN = REPO / ".tools" / "bin"
WRK_SCRIPT = BENCH / "random_paths.lua"
WRK_POST_SCRIPT = BENCH / "post_json.lua"

GHZ_MODULE = "github.com/bojand/ghz"
GHZ_VERSION = "v0.120.0"
CONCURRENCY = 32
WRK_THREADS = 2
PY_PROCESSES = 2  # the Python driver: 2 processes x 16 threads = 32 clients
RSS_LIMIT_MB = 200.0
CUSTOMER_SERVICE = "crm.customer.v1.CustomerService"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- load tools: installed when missing ------------------------------------------

def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing: sudo apt-get install -y wrk")
    log("installing wrk (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def ensure_ghz() -> str | None:
    """ghz in .tools/bin, built with Go when missing; None when it can't be built."""
    ghz = TOOLS_BIN / "ghz"
    if ghz.exists():
        return str(ghz)
    if not shutil.which("go"):
        log("go not found: gRPC scenarios use the Python driver")
        return None
    TOOLS_BIN.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(TOOLS_BIN), "GOFLAGS": "-buildvcs=false"}
    log(f"building ghz {GHZ_VERSION} into {TOOLS_BIN}")
    installed = subprocess.run(["go", "install", f"{GHZ_MODULE}/cmd/ghz@{GHZ_VERSION}"], env=env)
    if installed.returncode != 0:  # e.g. the proxy's version list is unusable: build from a scratch module
        with tempfile.TemporaryDirectory(prefix="ghz-build-") as tmp:
            steps = [["go", "mod", "init", "ghzbuild"], ["go", "get", f"{GHZ_MODULE}@{GHZ_VERSION}"],
                     ["go", "build", "-o", str(ghz), f"{GHZ_MODULE}/cmd/ghz"]]
            for step in steps:
                if subprocess.run(step, cwd=tmp, env=env).returncode != 0:
                    break
    if ghz.exists():
        return str(ghz)
    log("ghz could not be built: gRPC scenarios use the Python driver")
    return None


def tool_version(argv: list[str]) -> str:
    out = subprocess.run(argv, capture_output=True, text=True)
    lines = (out.stdout + out.stderr).strip().splitlines()
    return lines[0] if lines else "?"


# --- load drivers ---------------------------------------------------------------

_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _wrk_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _WRK_UNITS[unit]


def parse_wrk(output: str, seconds: float) -> LoadStats:
    def grab(pattern: str) -> re.Match:
        match = re.search(pattern, output, re.MULTILINE)
        if not match:
            raise RuntimeError(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return match

    requests = int(grab(r"^\s*(\d+) requests in")[1])
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx[1]) if non_2xx else 0) + (sum(map(int, socket.groups())) if socket else 0)
    rps = float(grab(r"^Requests/sec:\s+([\d.]+)")[1])
    return LoadStats(requests=requests, errors=errors, seconds=requests / rps if rps else seconds,
                     p50_ms=_wrk_ms(grab(r"^\s+50%\s+(\S+)")[1]), p99_ms=_wrk_ms(grab(r"^\s+99%\s+(\S+)")[1]))


def wrk_load(wrk: str, base_url: str, paths_file: Path, token: str, seconds: float) -> LoadStats:
    argv = [wrk, f"-t{WRK_THREADS}", f"-c{CONCURRENCY}", f"-d{seconds:g}s", "--latency", "--timeout", "5s",
            "-s", str(WRK_SCRIPT), f"{base_url}/", "--", str(paths_file), token]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return parse_wrk(out.stdout, seconds)


def wrk_post_load(wrk: str, base_url: str, paths_file: Path, token: str, body_file: Path,
                  seconds: float) -> LoadStats:
    argv = [wrk, f"-t{WRK_THREADS}", f"-c{CONCURRENCY}", f"-d{seconds:g}s", "--latency", "--timeout", "5s",
            "-s", str(WRK_POST_SCRIPT), f"{base_url}/", "--", str(paths_file), token, str(body_file)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return parse_wrk(out.stdout, seconds)


def write_protoset(path: Path, *modules) -> Path:
    """A FileDescriptorSet of the given *_pb2 modules and their imports, for ghz --protoset.
    (ghz's reflection client does not find symbols on the Python v1alpha reflection service.)"""
    from google.protobuf import descriptor_pb2

    files = descriptor_pb2.FileDescriptorSet()
    seen: set[str] = set()

    def add(file_descriptor) -> None:
        if file_descriptor.name not in seen:
            seen.add(file_descriptor.name)
            for dependency in file_descriptor.dependencies:
                add(dependency)
            file_descriptor.CopyToProto(files.file.add())

    for module in modules:
        add(module.DESCRIPTOR)
    path.write_bytes(files.SerializeToString())
    return path


def ghz_load(ghz: str, protoset: Path, target: str, call: str, seconds: float, *, data_file: Path | None = None,
             data: dict | None = None, metadata: dict | None = None) -> LoadStats:
    argv = [ghz, "--insecure", "--protoset", str(protoset), "--call", call, "-c", str(CONCURRENCY),
            "-z", f"{seconds:g}s", "--timeout", "5s", "--format", "json"]
    if data_file:
        argv += ["-D", str(data_file)]
    if data is not None:
        argv += ["-d", json.dumps(data)]
    if metadata:
        argv += ["-m", json.dumps(metadata)]
    out = subprocess.run([*argv, target], capture_output=True, text=True, timeout=seconds + 60)
    if not out.stdout.strip():
        raise RuntimeError(f"ghz failed ({out.returncode}): {out.stderr}")
    report = json.loads(out.stdout)
    latency = {int(d["percentage"]): d["latency"] / 1e6 for d in report.get("latencyDistribution") or []}
    ok = (report.get("statusCodeDistribution") or {}).get("OK", 0)
    # When the time is up ghz closes its connection under the calls still in flight (one per
    # client); like wrk, count only completed calls and don't call those cut-offs errors.
    errors = sum(n for message, n in (report.get("errorDistribution") or {}).items()
                 if "use of closed network connection" not in message)
    return LoadStats(requests=ok, errors=errors, seconds=report["total"] / 1e9,
                     p50_ms=latency.get(50, float("nan")), p99_ms=latency.get(99, float("nan")))


def python_load(make_op: Callable, seconds: float) -> LoadStats:
    return pyload.run(make_op, seconds=seconds, processes=PY_PROCESSES, threads=CONCURRENCY // PY_PROCESSES)


# --- results ----------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    key: str
    label: str
    tool: str
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    # CPU cores each platform process group kept busy during the measured run:
    # where the time goes when a figure falls short of its floor.
    cpu_cores: dict[str, float] = field(default_factory=dict)


_COMPARE = {">=": operator.ge, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    op: str  # a key of _COMPARE
    limit: float

    @property
    def met(self) -> bool:
        return _COMPARE[self.op](self.value, self.limit)

    @property
    def target(self) -> str:
        return f"{self.op.replace('>=', '≥').replace('<=', '≤')} {self.limit:g}"


@dataclass
class Report:
    config: dict
    seeding: dict
    results: dict[str, Result] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    rss: list[dict] = field(default_factory=list)
    single_calls: list[dict] = field(default_factory=list)
    importing: dict = field(default_factory=dict)


# Scenario key -> the floor it is compared with (throughput ratio >= 0.5).
FLOORS = {"a": "d1", "b": "d1", "c": "d2"}
FLOORS.update({"e": "d1", "g": "d1"})
THROUGHPUT_RATIO_MIN = 0.5
P99_RATIO_MAX = 1.5


# --- the benchmark ----------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace, platform: Platform, token: str, work: Path):
        self.args = args
        self.platform = platform
        self.token = token
        self.work = work
        self.wrk = ensure_wrk()
        self.ghz = None if args.grpc_driver == "python" else ensure_ghz()
        if args.grpc_driver == "ghz" and not self.ghz:
            raise SystemExit("--grpc-driver ghz, but ghz could not be built")
        self.protoset = write_protoset(work / "customer+health.protoset", customer_service_pb2, health_pb2)
        self.mongo_uri = platform.env["CUSTOMER_MONGODB_URI"]
        self.mongo_db = platform.env.get("CUSTOMER_MONGODB_DATABASE", "crm_customer")
        self.ids: list[str] = []

    # Seeding --------------------------------------------------------------------

    def seed(self) -> dict:
        count = self.args.customers
        log(f"seeding {count:,} customers through BatchCreateCustomers")
        start = time.perf_counter()
        outcomes = seed_customers(self.platform.target("customer"), self.token, count, progress=sys.stderr.isatty())
        seconds = time.perf_counter() - start
        with pymongo.MongoClient(self.mongo_uri) as client:
            self.ids = [d["_id"] for d in client[self.mongo_db]["customers"].find({}, {"_id": 1})]
        created = outcomes.get("CREATED", 0)
        if created != count or len(self.ids) != count:
            raise RuntimeError(f"seeding created {created}, store holds {len(self.ids)}, wanted {count}: {outcomes}")
        log(f"seeded {created:,} in {seconds:.1f}s ({created / seconds:,.0f} rows/s)")
        return {"customers": created, "seconds": round(seconds, 2), "rows_per_s": round(created / seconds, 1),
                "outcomes": outcomes}

    def _lines_file(self, name: str, lines: list[str]) -> Path:
        rng = random.Random(name)
        lines = lines[:]
        rng.shuffle(lines)
        path = self.work / name
        path.write_text("\n".join(lines) + "\n")
        return path

    # Scenarios: each returns (tool name, run(seconds) -> LoadStats) ----------------

    def _http(self, paths: list[str], name: str):
        paths_file = self._lines_file(name, paths)
        return "wrk", functools.partial(wrk_load, self.wrk, self.platform.gateway_url, paths_file, self.token)

    def gateway_get_by_id(self):
        return self._http([f"/api/v1/customers/{cid}" for cid in self.ids], "paths-by-id.txt")

    def gateway_lookup_by_phone(self):
        phones = (demo_phone(n) for n in range(self.args.customers))
        return self._http([f"/api/v1/customers/lookup?phone={quote(p, safe='')}" for p in phones],
                          "paths-by-phone.txt")

    def gateway_readyz(self):
        return self._http(["/readyz/customer"], "paths-readyz.txt")

    def _grpc(self, method: str, python_op: Callable, **ghz_args):
        """ghz when available, else the Python driver; the same for (c) and (d2) either way."""
        if self.ghz:
            return "ghz", functools.partial(ghz_load, self.ghz, self.protoset, self.platform.target("customer"),
                                            method, **ghz_args)
        return "python-grpc", functools.partial(python_load, python_op)

    def grpc_get_customer(self):
        ids = random.Random(1).sample(self.ids, len(self.ids))
        data_file = self.work / "ghz-get-customer.json"  # ghz sends the array's messages round-robin
        data_file.write_text(json.dumps([{"id": cid} for cid in ids]))
        python_op = functools.partial(pyload.grpc_get_customer, self.platform.target("customer"), self.token, ids)
        return self._grpc(f"{CUSTOMER_SERVICE}.GetCustomer", python_op, data_file=data_file,
                          metadata={"authorization": f"Bearer {self.token}"})

    def grpc_health(self):
        python_op = functools.partial(pyload.grpc_health_check, self.platform.target("customer"), CUSTOMER_SERVICE)
        return self._grpc("grpc.health.v1.Health.Check", python_op, data={"service": CUSTOMER_SERVICE})

    def mongo_find_one(self):
        op = functools.partial(pyload.mongo_find_one, self.mongo_uri, self.mongo_db, "customers", self.ids)
        return "python-pymongo", functools.partial(python_load, op)

    def scenarios(self) -> list[tuple[str, str, Callable]]:
        return [
            ("a", "gateway GET /api/v1/customers/{id}", self.gateway_get_by_id),
            ("b", "gateway GET /api/v1/customers/lookup?phone=", self.gateway_lookup_by_phone),
            ("c", "gRPC GetCustomer (customer service)", self.grpc_get_customer),
            ("d1", "floor: gateway GET /readyz/customer", self.gateway_readyz),
            ("d2", "floor: gRPC Health/Check", self.grpc_health),
            ("d3", "floor: FerretDB find_one by _id", self.mongo_find_one),
            ("e", "gateway GET /api/v1/customers/lookup?email=", self.gateway_lookup_by_email),
            ("g", "gateway POST /api/v1/customers/{id}/interactions", self.gateway_record_interaction),
        ]

    def settle(self, limit: float = 120.0) -> None:
        """Wait until the platform is idle again: calls abandoned by a previous run's clients
        (timed out or cut off) may still be running in the services and the store."""
        waited = wait_until_idle(lambda: [pid for pids in self.platform.pids().values() for pid in pids], limit)
        if waited > 2:
            log(f"waited {waited:.0f}s for the platform to go idle")

    def measure(self, key: str, label: str, prepare: Callable) -> Result:
        tool, run = prepare()
        if self.args.warmup > 0:
            self.settle()
            run(self.args.warmup)
        self.settle()
        log(f"({key}) {label}: {self.args.duration:g}s with {CONCURRENCY} clients via {tool}")
        groups = self.platform.pids()
        cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
        started = time.monotonic()
        stats = run(self.args.duration)
        elapsed = time.monotonic() - started
        cpu = {name: round((cpu_seconds(pids) - cpu_before[name]) / elapsed, 2) for name, pids in groups.items()}
        result = Result(key=key, label=label, tool=tool, requests=stats.requests, errors=stats.errors,
                        rps=round(stats.rps, 1), p50_ms=round(stats.p50_ms, 2), p99_ms=round(stats.p99_ms, 2),
                        cpu_cores=cpu)
        log(f"({key}) {result.rps:,.1f} req/s, p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, "
            f"{result.errors} errors")
        return result

    def single_calls(self, repeats: int = 5) -> list[dict]:
        """Latency of one request at a time for operations that are not on the
        hot path, at full size: an owner-filtered list page (a scan on
        FerretDB/SQLite) and a partial update (writes by `_id` only)."""
        rows = []
        probes = {
            "GET /api/v1/customers?owner_id=rep-001&page_size=50": lambda i: self._timed(
                "GET", "/api/v1/customers?owner_id=rep-001&page_size=50"),
            "PATCH /api/v1/customers/{id} (display_name)": lambda i: self._timed(
                "PATCH", f"/api/v1/customers/{self.ids[i]}", {"display_name": f"bench {i}"}, {"If-Match": '"1"'}),
        }
        for label, probe in probes.items():
            self.settle()
            samples = [probe(i) for i in range(repeats)]
            millis = sorted(ms for ms, _ in samples)
            rows.append({"operation": label, "repeats": repeats, "median_ms": round(millis[len(millis) // 2], 1),
                         "max_ms": round(millis[-1], 1), "statuses": sorted({st for _, st in samples})})
            log(f"{label}: median {rows[-1]['median_ms']} ms, statuses {rows[-1]['statuses']}")
        return rows

    # Added scenarios: e-mail lookup, interaction recording, a filtered list page, CSV import --

    def gateway_lookup_by_email(self):
        """About a quarter of the demo customers have an e-mail: look those up."""
        emails = [e for n in range(self.args.customers) for e in demo_customer(n)["emails"][:1]]
        return self._http([f"/api/v1/customers/lookup?email={quote(e, safe='')}" for e in emails],
                          "paths-by-email.txt")

    def gateway_record_interaction(self):
        """An inbound call logged on a random customer, each POST with its own Idempotency-Key."""
        paths_file = self._lines_file("paths-interactions.txt",
                                      [f"/api/v1/customers/{cid}/interactions" for cid in self.ids])
        body_file = self.work / "interaction.json"
        body_file.write_text(json.dumps({"channel": "call", "direction": "inbound",
                                         "summary": "客户来电询问订单配送 (bench)"}, ensure_ascii=False))
        return "wrk", functools.partial(wrk_post_load, self.wrk, self.platform.gateway_url, paths_file, self.token,
                                        body_file)

    def _timed(self, method: str, path: str, body: dict | None = None,
               headers: dict | None = None) -> tuple[float, int]:
        """(milliseconds, status) of one request through the gateway."""
        request = urllib.request.Request(self.platform.gateway_url + path, method=method,
                                         data=json.dumps(body).encode() if body else None)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as resp:
                resp.read()
                status = resp.status
        except urllib.error.HTTPError as err:
            status = err.code
        return (time.perf_counter() - started) * 1000, status

    def list_page_single(self) -> Result:
        """(f) one page of a list filtered by owner and stage, one request at a
        time, read from the owner's book (two reads by `_id` per entry until a
        page of matches is found): measured, not load-tested."""
        from crm_cli.demo import DEMO_REPS, STAGES

        rng = random.Random("list-page")
        paths = [f"/api/v1/customers?owner_id={rng.choice(DEMO_REPS)}&stage={rng.choice(STAGES)}&page_size=50"
                 for _ in range(self.args.list_repeats)]
        label = "gateway GET /api/v1/customers?owner_id=&stage= (1 client; the owner's book)"
        self.settle()
        self._timed("GET", paths[0])  # warm-up
        log(f"(f) {label}: {len(paths)} requests, one at a time")
        groups = self.platform.pids()
        cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
        started = time.monotonic()
        samples = [self._timed("GET", path) for path in paths]
        elapsed = time.monotonic() - started
        millis = sorted(ms for ms, _ in samples)
        result = Result(key="f", label=label, tool="python urllib, 1 client", requests=len(samples),
                        errors=sum(1 for _, status in samples if status != 200),
                        rps=round(len(samples) / elapsed, 1), p50_ms=round(pyload.percentile(millis, 50), 2),
                        p99_ms=round(pyload.percentile(millis, 99), 2),
                        cpu_cores={name: round((cpu_seconds(pids) - cpu_before[name]) / elapsed, 2)
                                   for name, pids in groups.items()})
        log(f"(f) p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, {result.errors} errors")
        return result

    def csv_import(self, seeding: dict) -> dict:
        """Import new demo customers (an index range the seeding never used)
        from a CSV file through the function `crm import` runs."""
        count = self.args.import_rows if self.args.import_rows is not None else self.args.customers
        path = self.work / "import.csv"
        first = IMPORT_FIRST_INDEX
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv_io.write_export(f, (_csv_customer(demo_customer(n)) for n in range(first, first + count)))
        log(f"CSV import: {count:,} rows ({path.stat().st_size / 1e6:.1f} MB) through ImportCustomers")
        self.settle()
        groups = self.platform.pids()
        cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
        started = time.perf_counter()
        summary = import_csv(self.platform.target("customer"), self.token, path, progress=sys.stderr.isatty())
        seconds = time.perf_counter() - started
        rate = count / seconds
        log(f"CSV import: {summary.totals()}")
        return {"rows": count, "seconds": round(seconds, 2), "rows_per_s": round(rate, 1),
                "outcomes": dict(summary.counts), "failed": summary.failed,
                "floor_rows_per_s": seeding["rows_per_s"], "ratio_to_seeding": round(rate / seeding["rows_per_s"], 2),
                "cpu_cores": {name: round((cpu_seconds(pids) - cpu_before[name]) / seconds, 2)
                              for name, pids in groups.items()}}

    def rss(self) -> list[dict]:
        rows = []
        for name, pids in self.platform.pids().items():
            for role, pid in zip(_roles(name, len(pids)), pids):
                rows.append({"process": role, "pid": pid, "rss_mb": round(vm_rss_mb(pid), 1)})
        return rows


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pids: Callable[[], list[int]], limit: float, *, window: float = 1.0,
                    busy_cores: float = 0.1) -> float:
    """Wait (at most `limit` s) until `pids` together use under `busy_cores` CPUs over `window` s."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        watched = pids()
        before = cpu_seconds(watched)
        time.sleep(window)
        if cpu_seconds(watched) - before < busy_cores * window:
            break
    return time.monotonic() - start


def _roles(name: str, count: int) -> list[str]:
    if name == "gateway":  # the gunicorn master first, then its workers
        return ["gateway (gunicorn master)"] + [f"gateway worker {i}" for i in range(1, count)]
    return [name] * count


def vm_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)[1]) / 1024


def build_checks(results: dict[str, Result], rss: list[dict]) -> list[Check]:
    checks = [Check(f"({key}) / ({floor}) throughput", results[key].rps / results[floor].rps, ">=",
                    THROUGHPUT_RATIO_MIN) for key, floor in FLOORS.items()]
    checks.append(Check("(b) p99 / (a) p99", results["b"].p99_ms / results["a"].p99_ms, "<=", P99_RATIO_MAX))
    checks.append(Check("largest process RSS, MB", max(r["rss_mb"] for r in rss), "<", RSS_LIMIT_MB))
    return checks


IMPORT_FIRST_INDEX = 10_000_000  # demo customers from here on were never seeded
IMPORT_ROWS_MIN_PER_S = 2000.0


def _csv_customer(d: dict) -> dict:
    """A demo customer as the columns `crm export` writes (and `crm import` reads)."""
    return {**d, "province": d["region"]["province"], "city": d["region"]["city"],
            "birthday": {"leap_month": False, **d["birthday"]} if d.get("birthday") else None}


def extra_checks(report: "Report") -> list[Check]:
    """Targets of the added scenarios (those with a floor in FLOORS are in build_checks)."""
    checks = []
    if "e" in report.results:
        checks.append(Check("(e) p99 / (a) p99", report.results["e"].p99_ms / report.results["a"].p99_ms, "<=",
                            P99_RATIO_MAX))
    if report.importing:
        checks.append(Check("CSV import, rows/s", report.importing["rows_per_s"], ">=", IMPORT_ROWS_MIN_PER_S))
        checks.append(Check("CSV import, rows failed", report.importing["failed"], "<=", 0))
    return checks


def _import_lines(report: "Report") -> list[str]:
    imp = report.importing
    if not imp:
        return []
    return [f"**CSV import** (`crm import`, ImportCustomers in chunks of 1,000, upsert by phone): {imp['rows']:,} "
            f"new customers in {imp['seconds']:.1f} s = **{imp['rows_per_s']:,.0f} rows/s** (target ≥ "
            f"{IMPORT_ROWS_MIN_PER_S:,.0f}; floor: seeding through BatchCreateCustomers {imp['floor_rows_per_s']:,.0f} "
            f"rows/s, ratio {imp['ratio_to_seeding']:.2f}); outcomes "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(imp["outcomes"].items())) + "; CPU cores "
            + ", ".join(f"{k} {v:.2f}" for k, v in imp["cpu_cores"].items() if v >= 0.01) + ".", "",
            "(f) is one client sending one request at a time: a list filtered by owner and stage reads the "
            "owner's book by `_id` until a page of matches is found (on MongoDB the `owner_stage_id` index could "
            "serve it; a sorted scan on FerretDB's SQLite back end took 15 s and more a page).", ""]


# --- report -------------------------------------------------------------------------

def _table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows)]


def _yes(met: bool) -> str:
    return "yes" if met else "**NO**"


def render_markdown(report: Report) -> str:
    cfg, seeding = report.config, report.seeding
    checks = {c.name: c for c in report.checks}
    rows = []
    for r in report.results.values():
        floor = FLOORS.get(r.key)
        check = checks.get(f"({r.key}) / ({floor}) throughput") if floor else None
        rows.append([f"({r.key}) {r.label}", f"{r.rps:,.0f}" if r.rps >= 100 else f"{r.rps:.1f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}",
                     f"({floor})" if floor else "—", f"{check.value:.2f}" if check else "—",
                     check.target if check else "—", _yes(check.met) if check else "—"])
    lines = [
        "# Benchmark results", "",
        f"{cfg['date']}, {cfg['cpus']} CPUs, loopback only. {CONCURRENCY} concurrent clients per scenario, "
        f"{cfg['duration_s']:g} s each after a {cfg['warmup_s']:g} s warm-up. "
        f"Tools: {', '.join(f'{k}: {v}' for k, v in cfg['tools'].items())}.", "",
        f"**Seeding:** {seeding['customers']:,} customers in {seeding['seconds']:.1f} s = "
        f"**{seeding['rows_per_s']:,.0f} rows/s** (BatchCreateCustomers, batches of 500).", "",
        *_import_lines(report),
        *_table(["scenario", "req/s", "p50 ms", "p99 ms", "floor", "ratio", "target", "met?"], rows), "",
        "Errors (non-2xx / non-OK / socket errors): "
        + ", ".join(f"({r.key}) {r.errors}" for r in report.results.values()) + ".", "",
        "## CPU cores busy per process group during each scenario", "",
        "The load generator (wrk, ghz or Python) uses the rest of the 2 cores.", "",
        *_table(["scenario", *(groups := list(next(iter(report.results.values())).cpu_cores))],
                [[f"({r.key})", *(f"{r.cpu_cores.get(g, 0):.2f}" for g in groups)] for r in report.results.values()]),
        "",
        "## One request at a time, at full size", "",
        *_table(["operation", "repeats", "median ms", "max ms", "statuses"],
                [[c["operation"], c["repeats"], f"{c['median_ms']:.1f}", f"{c['max_ms']:.1f}",
                  ", ".join(map(str, c["statuses"]))] for c in report.single_calls]), "",
        "## All targets", "",
        *_table(["check", "value", "target", "met?"],
                [[c.name, f"{c.value:.2f}", c.target, _yes(c.met)] for c in report.checks]), "",
        "## Resident memory after the load (VmRSS)", "",
        *_table(["process", "pid", "RSS MB", f"< {RSS_LIMIT_MB:g} MB?"],
                [[r["process"], r["pid"], f"{r['rss_mb']:.1f}", _yes(r["rss_mb"] < RSS_LIMIT_MB)]
                 for r in report.rss]), "",
        f"All targets met: **{'yes' if all(c.met for c in report.checks) else 'NO'}**", "",
    ]
    return "\n".join(lines)


def write_report(report: Report) -> str:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {**asdict(report), "results": [asdict(r) for r in report.results.values()],
               "checks": [{**asdict(c), "target": c.target, "met": c.met} for c in report.checks],
               "all_met": all(c.met for c in report.checks)}
    (RESULTS / "results.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    markdown = render_markdown(report)
    (RESULTS / "results.md").write_text(markdown)
    return markdown


# --- main ---------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000, help="customers to seed (default 100000)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each (default 2)")
    parser.add_argument("--grpc-driver", choices=("auto", "ghz", "python"), default="auto",
                        help="load generator for the gRPC scenarios (auto: ghz when it can be built)")
    parser.add_argument("--import-rows", type=int, default=None,
                        help="customers to import from CSV at the end (default: as many as --customers)")
    parser.add_argument("--list-repeats", type=int, default=20,
                        help="single requests for the filtered list page (f) (default 20)")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.duration <= 0:
        parser.error("--customers must be >= 1 and --duration > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = REPO / "var" / "bench"
    shutil.rmtree(data_dir, ignore_errors=True)
    work = data_dir / "load"
    work.mkdir(parents=True)
    platform = Platform(data_dir=data_dir, fixed_ports=False)
    token = mint_dev_token(dev_secret(data_dir), "bench", "admin")
    log(f"starting the platform in {data_dir}")
    platform.start()
    try:
        bench = Bench(args, platform, token, work)
        tools = {"wrk": tool_version([bench.wrk, "-v"]).split(" [")[0]}
        tools["gRPC"] = f"ghz {GHZ_VERSION}" if bench.ghz else "Python (2 procs x 16 threads)"
        tools["FerretDB floor"] = "Python pymongo (2 procs x 16 threads)"
        report = Report(
            config={"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "customers": args.customers,
                    "duration_s": args.duration, "warmup_s": args.warmup, "concurrency": CONCURRENCY,
                    "tools": tools},
            seeding=bench.seed())
        for key, label, prepare in bench.scenarios():
            report.results[key] = bench.measure(key, label, prepare)
        report.single_calls = bench.single_calls()
        report.results["f"] = bench.list_page_single()
        report.importing = bench.csv_import(report.seeding)
        report.rss = bench.rss()
        report.checks = build_checks(report.results, report.rss)
        report.checks += extra_checks(report)
    finally:
        log("stopping the platform")
        platform.stop()
    print(write_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
