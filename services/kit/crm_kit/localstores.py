"""Real local stores for tests and `make run`: FerretDB (SQLite) and Redis.

One piece of code builds FerretDB once (tools/build-ferretdb.sh into the
git-ignored .tools/ folder), starts it and Debian's `redis-server` (AOF on)
on free loopback ports with data under a folder of the caller's choosing,
waits until both answer, and stops them. A second `redis-server` holds the
event streams (DESIGN.md section 5: an event Redis of their own, AOF with
`appendfsync always`), at `events_redis_url`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
FERRETDB_BIN = REPO_ROOT / ".tools" / "bin" / "ferretdb"
# FerretDB's Go garbage collector. Each find allocates a fresh copy of the document it decodes,
# and at Go's default GOGC of 100 FerretDB collects often. At 400 a heap may grow to five times
# what is live, so a soft limit (GOMEMLIMIT) makes Go collect sooner near it. FERRETDB_GOGC and
# FERRETDB_GOMEMLIMIT ("off" for none) override these defaults; a GOGC set for the whole
# environment does not reach FerretDB. What each costs in CPU and memory, as measured, is in the
# README's "Performance on FerretDB".
DEFAULT_FERRETDB_GOGC = "400"
DEFAULT_FERRETDB_GOMEMLIMIT = "150MiB"
# SQLite's page cache, per connection. FerretDB opens up to 100 connections to each database, and
# at SQLite's default of 2,000 KiB each they held over a third of FerretDB's memory under the sales
# suite's concurrency; the pages they drop are still in the OS's file cache, so a read of one costs
# a syscall, not a disk read. FERRETDB_SQLITE_CACHE_KIB overrides it, within 1 KiB..1 GiB (SQLite
# reads the pragma as a 32-bit number: a larger one would silently give no cache at all).
DEFAULT_FERRETDB_SQLITE_CACHE_KIB = 512
MAX_FERRETDB_SQLITE_CACHE_KIB = 1024 * 1024


class StoreStartError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_ferretdb() -> Path:
    explicit = os.environ.get("FERRETDB_BIN")
    if explicit:
        return Path(explicit)
    subprocess.run(["bash", str(REPO_ROOT / "tools" / "build-ferretdb.sh")], check=True)
    return FERRETDB_BIN


def ensure_redis() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise StoreStartError("redis-server not found: install it with `apt-get install redis-server`")
    return found


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class LocalStores:
    """Running FerretDB and Redis processes; `stop()` ends them."""

    mongodb_uri: str
    redis_url: str
    data_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)
    # The event Redis (EVENTS_REDIS_URL).
    events_redis_url: str = ""

    def stop(self, timeout: float = 10.0) -> None:
        terminate(self.processes, timeout)
        self.processes.clear()


def terminate(processes: list[subprocess.Popen], grace: float) -> None:
    """SIGTERM all, wait up to `grace` seconds in total, SIGKILL what is left."""
    for proc in processes:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in processes:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_local_stores(data_dir: Path, *, mongo_port: int | None = None, redis_port: int | None = None,
                       events_redis_port: int | None = None, wait_seconds: float = 30.0) -> LocalStores:
    data_dir = Path(data_dir)
    sqlite_cache_kib = _ferretdb_sqlite_cache_kib()  # a bad setting stops the start before anything is made
    (data_dir / "ferretdb").mkdir(parents=True, exist_ok=True)
    (data_dir / "redis").mkdir(parents=True, exist_ok=True)
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    ferretdb = ensure_ferretdb()
    redis_server = ensure_redis()
    mongo_port = mongo_port or free_port()
    redis_port = redis_port or free_port()
    stores = LocalStores(
        mongodb_uri=f"mongodb://127.0.0.1:{mongo_port}/",
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        data_dir=data_dir,
    )
    try:
        # FerretDB keeps its state (state.json) in its data folder, given as an
        # absolute path, and runs there: nothing it writes lands in the cwd.
        ferretdb_dir = (data_dir / "ferretdb").resolve()
        stores.processes.append(_spawn([
            str(ferretdb), "--handler=sqlite", f"--sqlite-url={_ferretdb_sqlite_url(ferretdb_dir, sqlite_cache_kib)}",
            "--telemetry=disable", f"--listen-addr=127.0.0.1:{mongo_port}",
            f"--debug-addr=127.0.0.1:{free_port()}", f"--state-dir={ferretdb_dir}",
            "--log-level=warn",
        ], data_dir / "logs" / "ferretdb.log", cwd=ferretdb_dir, env=_ferretdb_environment()))
        stores.processes.append(_spawn([
            redis_server, "--bind", "127.0.0.1", "--port", str(redis_port), "--dir", str(data_dir / "redis"),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
            "--loglevel", "warning",
        ], data_dir / "logs" / "redis.log"))
        _wait_until_ready(stores, mongo_port, redis_port, wait_seconds)
        stores.events_redis_url, events = start_events_redis(data_dir / "events-redis", port=events_redis_port,
                                                             log_path=data_dir / "logs" / "events-redis.log",
                                                             wait_seconds=wait_seconds)
        stores.processes.append(events)
    except BaseException:
        stores.stop()
        raise
    return stores


def start_events_redis(data_dir: Path, *, port: int | None = None, log_path: Path | None = None,
                       wait_seconds: float = 30.0) -> tuple[str, subprocess.Popen]:
    """A `redis-server` for event streams, AOF on with `appendfsync always`
    (an acknowledged XADD survives a crash), data under `data_dir`. Started
    again on the same folder it finds its streams. Returns (url, process)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    proc = _spawn([
        ensure_redis(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir),
        "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
        "--loglevel", "warning",
    ], log_path or data_dir / "redis.log")
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for_redis(proc, url, port, wait_seconds)
    except BaseException:
        terminate([proc], 5.0)
        raise
    return url, proc


def _wait_for_redis(proc: subprocess.Popen, url: str, port: int, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        if proc.poll() is not None:
            raise StoreStartError(f"{proc.args[0]} exited with {proc.returncode}")
        if _port_answers(port) and _redis_ready(url):
            return
        if time.monotonic() > deadline:
            raise StoreStartError(f"redis on port {port} did not answer within {wait_seconds:.0f}s")
        time.sleep(0.05)


def _redis_ready(url: str) -> bool:
    """Whether Redis answers; False while it loads its data set (a restart
    with a large append-only file answers LOADING for a while) or drops
    the connection while it starts."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    try:  # one probe, no retries of its own: the callers' loops wait, up to their deadline
        with redis.Redis.from_url(url, socket_timeout=1, retry=Retry(NoBackoff(), 0)) as client:
            client.ping()
        return True
    except redis.exceptions.ConnectionError:  # BusyLoadingError among them
        return False


def _ferretdb_sqlite_cache_kib() -> int:
    raw = os.environ.get("FERRETDB_SQLITE_CACHE_KIB", str(DEFAULT_FERRETDB_SQLITE_CACHE_KIB))
    digits = raw.isascii() and raw.isdigit() and len(raw) <= 10  # int() of a 5,000-digit string raises
    if not digits or not 1 <= int(raw) <= MAX_FERRETDB_SQLITE_CACHE_KIB:
        raise StoreStartError(f"FERRETDB_SQLITE_CACHE_KIB must be a whole number of KiB from 1 to "
                              f"{MAX_FERRETDB_SQLITE_CACHE_KIB}, got {raw[:40]!r}")
    return int(raw)


def _ferretdb_sqlite_url(ferretdb_dir: Path, cache_kib: int) -> str:
    # A negative cache_size is in KiB (a positive one would count pages).
    return f"file:{ferretdb_dir}/?_pragma=cache_size(-{cache_kib})"


def _ferretdb_environment() -> dict[str, str]:
    return {**os.environ, "GOGC": os.environ.get("FERRETDB_GOGC", DEFAULT_FERRETDB_GOGC),
            "GOMEMLIMIT": os.environ.get("FERRETDB_GOMEMLIMIT", DEFAULT_FERRETDB_GOMEMLIMIT)}


def _spawn(argv: list[str], log_path: Path, cwd: Path | None = None,
           env: dict[str, str] | None = None) -> subprocess.Popen:
    log = open(log_path, "ab")
    # Own process group: Ctrl-C in a terminal reaches the supervisor only,
    # which then stops the stores last, after the services have drained.
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=cwd, env=env)


def _wait_until_ready(stores: LocalStores, mongo_port: int, redis_port: int, wait_seconds: float) -> None:
    import pymongo

    deadline = time.monotonic() + wait_seconds
    pending = {"ferretdb": mongo_port, "redis": redis_port}
    while pending:
        for proc in stores.processes:
            if proc.poll() is not None:
                raise StoreStartError(f"{proc.args[0]} exited with {proc.returncode}; see {stores.data_dir / 'logs'}")
        if "ferretdb" in pending and _port_answers(mongo_port):
            with pymongo.MongoClient(stores.mongodb_uri, serverSelectionTimeoutMS=1000) as client:
                client.admin.command("ping")
            pending.pop("ferretdb")
        if "redis" in pending and _port_answers(redis_port) and _redis_ready(stores.redis_url):
            pending.pop("redis")
        if pending and time.monotonic() > deadline:
            raise StoreStartError(f"{', '.join(pending)} did not answer within {wait_seconds:.0f}s")
        if pending:
            time.sleep(0.05)
