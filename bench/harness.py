"""What every benchmark suite shares: the load tools (wrk, ghz, the Python
driver), the measured run of one scenario, results and checks, the report.

A suite (bench/suites/<service>.py) gets a `Bench`: the running platform, an
admin token, a work folder and the seeded customer ids, and adds `Result`s
(one measured scenario each), `Check`s (a figure against its floor or
target) and Markdown notes to the `Report`. See bench/suites/__init__.py.
"""

from __future__ import annotations

import functools
import json
import math
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

import pyload
import pymongo
from crm.customer.v1 import customer_service_pb2
from crm_cli.platform import Platform
from crm_cli.seed import seed_customers
from grpc_health.v1 import health_pb2
from pyload import LoadStats

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
TOOLS_BIN = REPO / ".tools" / "bin"
WRK_SCRIPT = BENCH / "random_paths.lua"
WRK_POST_SCRIPT = BENCH / "post_json.lua"
WRK_BODIES_SCRIPT = BENCH / "post_bodies.lua"

GHZ_MODULE = "github.com/bojand/ghz"
GHZ_VERSION = "v0.120.0"
CONCURRENCY = 32
WRK_THREADS = 2
PY_PROCESSES = 2  # the Python driver: 2 processes x 16 threads = 32 clients
RSS_LIMIT_MB = 200.0
THROUGHPUT_RATIO_MIN = 0.5  # a scenario against its floor
P99_RATIO_MAX = 1.5
CUSTOMER_SERVICE = "crm.customer.v1.CustomerService"
RESTART_ATTEMPTS = 6
RESTART_RETRY_S = 10.0


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


def wrk_load(wrk: str, base_url: str, paths_file: Path, token: str, seconds: float,
             clients: int = CONCURRENCY) -> LoadStats:
    argv = [wrk, f"-t{min(WRK_THREADS, clients)}", f"-c{clients}", f"-d{seconds:g}s", "--latency",
            "--timeout", "5s", "-s", str(WRK_SCRIPT), f"{base_url}/", "--", str(paths_file), token]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return parse_wrk(out.stdout, seconds)


def wrk_post_load(wrk: str, base_url: str, paths_file: Path, token: str, body_file: Path,
                  seconds: float) -> LoadStats:
    argv = [wrk, f"-t{WRK_THREADS}", f"-c{CONCURRENCY}", f"-d{seconds:g}s", "--latency", "--timeout", "5s",
            "-s", str(WRK_POST_SCRIPT), f"{base_url}/", "--", str(paths_file), token, str(body_file)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return parse_wrk(out.stdout, seconds)


def wrk_post_bodies_load(wrk: str, base_url: str, path: str, token: str, bodies_file: Path,
                         seconds: float) -> LoadStats:
    argv = [wrk, f"-t{WRK_THREADS}", f"-c{CONCURRENCY}", f"-d{seconds:g}s", "--latency", "--timeout", "5s",
            "-s", str(WRK_BODIES_SCRIPT), f"{base_url}/", "--", path, token, str(bodies_file)]
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


def python_load(make_op: Callable, seconds: float, *, pass_worker: bool = False) -> LoadStats:
    return pyload.run(make_op, seconds=seconds, processes=PY_PROCESSES, threads=CONCURRENCY // PY_PROCESSES,
                      pass_worker=pass_worker)


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
    floor: str | None = None  # the key of the floor its throughput is compared with (>= THROUGHPUT_RATIO_MIN)
    suite: str = ""
    unit: str = "req/s"


_COMPARE = {">=": operator.ge, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    op: str  # a key of _COMPARE
    limit: float
    row: str | None = None  # the result key it is shown beside in the main table
    against: str = ""  # what the value is measured against (the floor column)

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
    # Markdown paragraphs a suite puts above the main table, and figures it keeps in the JSON.
    notes: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def add(self, result: Result) -> Result:
        self.results[result.key] = result
        return result

    def check(self, *args, **kwargs) -> Check:
        check = Check(*args, **kwargs)
        self.checks.append(check)
        return check


def floor_checks(results: dict[str, Result]) -> list[Check]:
    """Every result with a floor: its throughput over the floor's (both measured in this run)."""
    return [Check(f"({r.key}) / ({r.floor}) throughput", r.rps / results[r.floor].rps, ">=", THROUGHPUT_RATIO_MIN,
                  row=r.key, against=f"({r.floor})")
            for r in results.values() if r.floor and r.floor in results and results[r.floor].rps]


def rss_check(rss: list[dict]) -> Check:
    return Check("largest process RSS, MB", max(r["rss_mb"] for r in rss), "<", RSS_LIMIT_MB)


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


# --- process accounting -------------------------------------------------------------

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



def cpu_delta(before: dict[str, float], groups: dict[str, list[int]], elapsed: float) -> dict[str, float]:
    return {name: round((cpu_seconds(pids) - before[name]) / elapsed, 2) for name, pids in groups.items()}


# --- the shared context ------------------------------------------------------------

class Bench:
    """The running platform and what every suite measures with."""

    def __init__(self, args, platform: Platform, token: str, work: Path):
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
        self.last_window: tuple[float, float] = (0.0, 0.0)  # wall-clock start and end of the last measured run

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

    # Load: each helper returns (tool name, run(seconds) -> LoadStats) -------------

    def lines_file(self, name: str, lines: list[str]) -> Path:
        rng = random.Random(name)
        lines = lines[:]
        rng.shuffle(lines)
        path = self.work / name
        path.write_text("\n".join(lines) + "\n")
        return path

    def http(self, paths: list[str], name: str, clients: int = CONCURRENCY):
        paths_file = self.lines_file(name, paths)
        return "wrk", functools.partial(wrk_load, self.wrk, self.platform.gateway_url, paths_file, self.token,
                                        clients=clients)

    def http_post(self, paths: list[str], name: str, body: dict):
        paths_file = self.lines_file(name, paths)
        body_file = self.work / f"{Path(name).stem}.body.json"
        body_file.write_text(json.dumps(body, ensure_ascii=False))
        return "wrk", functools.partial(wrk_post_load, self.wrk, self.platform.gateway_url, paths_file, self.token,
                                        body_file)

    def http_post_bodies(self, path: str, bodies: list[dict], name: str):
        """POSTs to `path`, each with one of `bodies` at random."""
        bodies_file = self.lines_file(name, [json.dumps(b, ensure_ascii=False) for b in bodies])
        return "wrk", functools.partial(wrk_post_bodies_load, self.wrk, self.platform.gateway_url, path, self.token,
                                        bodies_file)

    def grpc(self, service: str, method: str, python_op: Callable, *, protoset: Path | None = None,
             pass_worker: bool = False, **ghz_args):
        """ghz when available, else the Python driver (the same for a scenario
        and its gRPC floor either way, so their ratio stays fair)."""
        if self.ghz:
            return "ghz", functools.partial(ghz_load, self.ghz, protoset or self.protoset,
                                            self.platform.target(service), method, **ghz_args)
        return "python-grpc", functools.partial(python_load, python_op, pass_worker=pass_worker)

    # Measuring ------------------------------------------------------------------

    def groups(self) -> dict[str, list[int]]:
        """Platform process groups: services, gateway (master and workers), stores."""
        return {**self.platform.pids(), **self.platform.store_pids()}

    def settle(self, limit: float = 120.0) -> None:
        """Wait until the platform is idle again: calls abandoned by a previous run's clients
        (timed out or cut off) may still be running in the services and the store."""
        waited = wait_until_idle(lambda: [pid for pids in self.groups().values() for pid in pids], limit)
        if waited > 2:
            log(f"waited {waited:.0f}s for the platform to go idle")

    def measure(self, key: str, label: str, prepare: Callable, *, floor: str | None = None, suite: str = "",
                warmup: bool = True) -> Result:
        """Warm up, settle, run `duration` seconds; CPU per process group (and of
        this process: an in-process event consumer) over the measured run."""
        tool, run = prepare()
        # The load's own setting where it takes one (Bench.http's clients); the others run CONCURRENCY.
        clients = getattr(run, "keywords", {}).get("clients", CONCURRENCY)
        if warmup and self.args.warmup > 0:
            self.settle()
            run(self.args.warmup)
        self.settle()
        log(f"({key}) {label}: {self.args.duration:g}s with {clients} client{'s' if clients != 1 else ''} via {tool}")
        groups = {**self.groups(), "bench": [os.getpid()]}
        cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
        started, wall_start = time.monotonic(), time.time()
        stats = run(self.args.duration)
        elapsed = time.monotonic() - started
        self.last_window = (wall_start, time.time())
        result = Result(key=key, label=label, tool=tool, requests=stats.requests, errors=stats.errors,
                        rps=round(stats.rps, 1), p50_ms=round(stats.p50_ms, 2), p99_ms=round(stats.p99_ms, 2),
                        cpu_cores=cpu_delta(cpu_before, groups, elapsed), floor=floor, suite=suite)
        log(f"({key}) {result.rps:,.1f} req/s, p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, "
            f"{result.errors} errors")
        return result

    def timed(self, method: str, path: str, body: dict | None = None,
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

    def one_at_a_time(self, key: str, label: str, paths: list[str], suite: str) -> Result:
        """GETs of `paths` one request at a time (reports and lists not load-tested): p50, p99."""
        self.settle()
        self.timed("GET", paths[0])  # warm-up
        log(f"({key}) {label}: {len(paths)} requests, one at a time")
        groups = self.groups()
        cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
        started = time.monotonic()
        samples = [self.timed("GET", path) for path in paths]
        elapsed = time.monotonic() - started
        millis = sorted(ms for ms, _ in samples)
        result = Result(key=key, label=label, tool="python urllib, 1 client", requests=len(samples),
                        errors=sum(1 for _, status in samples if status != 200),
                        rps=round(len(samples) / elapsed, 2), p50_ms=round(pyload.percentile(millis, 50), 2),
                        p99_ms=round(pyload.percentile(millis, 99), 2),
                        cpu_cores=cpu_delta(cpu_before, groups, elapsed), suite=suite)
        log(f"({key}) p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, {result.errors} errors")
        return result

    def gateway_routes(self) -> set[str]:
        """The gateway's API paths as its OpenAPI document lists them (a suite
        measures a route only once it exists)."""
        with urllib.request.urlopen(self.platform.gateway_url + "/openapi.json", timeout=10) as resp:
            return set(json.load(resp).get("paths", {}))

    def restart_with(self, name: str, env: dict[str, str] | None = None) -> None:
        """Restart one service or the gateway with `env` over the platform's (None: as started)."""
        log(f"restarting {name}" + (f" with {' '.join(f'{k}={v}' for k, v in env.items())}" if env else ""))
        for attempt in range(1, RESTART_ATTEMPTS + 1):
            try:
                self.platform.restart_with(name, env)
                break
            except RuntimeError as err:  # e.g. the source tree was caught mid-edit: try again shortly
                if attempt == RESTART_ATTEMPTS:
                    raise
                log(f"{name} did not start ({str(err).splitlines()[0]}; last line: "
                    f"{str(err).strip().splitlines()[-1][:200]}); again in {RESTART_RETRY_S:g}s")
                time.sleep(RESTART_RETRY_S)
        self.settle()

    def rss(self) -> list[dict]:
        rows = []
        for name, pids in self.groups().items():
            for role, pid in zip(_roles(name, len(pids)), pids):
                rows.append({"process": role, "pid": pid, "rss_mb": round(vm_rss_mb(pid), 1)})
        return rows


# --- report -------------------------------------------------------------------------

def _table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows)]


def _yes(met: bool) -> str:
    return "yes" if met else "**NO**"


def _num(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def _rate(r: Result) -> str:
    text = f"{r.rps:,.0f}" if r.rps >= 100 else f"{r.rps:.1f}"
    return text if r.unit == "req/s" else f"{text} {r.unit}"


def render_markdown(report: Report) -> str:
    cfg, seeding = report.config, report.seeding
    by_row: dict[str, list[Check]] = {}
    for c in report.checks:
        if c.row:
            by_row.setdefault(c.row, []).append(c)
    rows = []
    for r in report.results.values():
        checks = by_row.get(r.key) or [None]
        for i, check in enumerate(checks):
            head = [f"({r.key}) {r.label}", _rate(r), _num(r.p50_ms), _num(r.p99_ms)] if i == 0 else \
                [f"(″) {check.name}", "", "", ""]
            rows.append([*head, check.against if check else "—", f"{check.value:.2f}" if check else "—",
                         check.target if check else "—", _yes(check.met) if check else "—"])
    groups = list(dict.fromkeys(g for r in report.results.values() for g in r.cpu_cores))
    lines = [
        "# Benchmark results", "",
        f"{cfg['date']}, {cfg['cpus']} CPUs, loopback only, suites: {', '.join(cfg.get('suites', []))}. "
        f"{CONCURRENCY} concurrent clients per scenario, except those read one at a time and those whose row "
        f"says one client, "
        f"{cfg['duration_s']:g} s each after a {cfg['warmup_s']:g} s warm-up. "
        f"Tools: {', '.join(f'{k}: {v}' for k, v in cfg['tools'].items())}.", "",
        f"**Seeding:** {seeding['customers']:,} customers in {seeding['seconds']:.1f} s = "
        f"**{seeding['rows_per_s']:,.0f} rows/s** (BatchCreateCustomers, batches of 500).", "",
        *([f"**Wall time:** {cfg['total_s'] / 60:.1f} min in all; by part: "
           + ", ".join(f"{name} {seconds / 60:.1f} min" for name, seconds in cfg["suite_s"].items()) + ".", ""]
          if "total_s" in cfg and "suite_s" in cfg else []),
        *[line for note in report.notes for line in (note, "")],
        *_table(["scenario", "req/s", "p50 ms", "p99 ms", "floor", "ratio", "target", "met?"], rows), "",
        "Errors (non-2xx / non-OK / socket errors): "
        + ", ".join(f"({r.key}) {r.errors}" for r in report.results.values()) + ".", "",
        "## CPU cores busy per process group during each scenario", "",
        "The load generator (wrk, ghz or Python) uses the rest of the 2 cores; `bench` is the benchmark's own "
        "process (the event consumer of (h)/(i), the CSV reader of (j)).", "",
        *_table(["scenario", *groups],
                [[f"({r.key})", *(f"{r.cpu_cores.get(g, 0):.2f}" for g in groups)] for r in report.results.values()]),
        "",
    ]
    if report.single_calls:
        lines += [
            "## One request at a time, at full size", "",
            *_table(["operation", "repeats", "median ms", "max ms", "statuses"],
                    [[c["operation"], c["repeats"], f"{c['median_ms']:.1f}", f"{c['max_ms']:.1f}",
                      ", ".join(map(str, c["statuses"]))] for c in report.single_calls]), ""]
    lines += [
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


def _json_safe(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def write_report(report: Report) -> str:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {**asdict(report), "results": [asdict(r) for r in report.results.values()],
               "checks": [{**asdict(c), "target": c.target, "met": c.met} for c in report.checks],
               "all_met": all(c.met for c in report.checks)}
    (RESULTS / "results.json").write_text(json.dumps(_json_safe(payload), indent=2, ensure_ascii=False) + "\n")
    markdown = render_markdown(report)
    (RESULTS / "results.md").write_text(markdown)
    return markdown
