"""Run the whole platform as separate processes: stores, four services, the
gateway under gunicorn, and the local message sink (`crm sink`: an SMTP
server and an SMS provider endpoint that keep what the loyalty service's
greetings send). Used by `crm run` (make run), the end-to-end tests
and the benchmark, so all three boot it the same way.

`supervise()` keeps it running as a process manager would: a service or the
gateway that exits is started again after an exponential back-off (0.5 s,
1 s, 2 s, … capped at 30 s; back to 0.5 s once it has run 30 s), each
restart logged as a JSON line naming the process, its exit code and the
next delay. A store that exits stops the platform (its data would be at
stake). `start()` can be cancelled (an Event) at any moment: what was
started so far is stopped."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from crm_kit.auth import grant_verify_key_of, new_grant_keys
from crm_kit.localstores import LocalStores, free_port, start_local_stores, terminate

SERVICES = ("customer", "sales", "support", "loyalty")
FIXED_PORTS = {"customer": 50051, "sales": 50052, "support": 50053, "loyalty": 50054}
# The sink's SMTP and HTTP ports under make run (its own defaults, crm_cli.sink).
SINK_PORTS = {"smtp": 2525, "http": 8025}
SINK_ARGV = ["-m", "crm_cli.main", "sink"]
# The SMS signing key the loyalty service and the sink share locally (never a production secret).
DEV_SMS_KEY = "crm-dev-only-sms-signing-key-0123456789"
GATEWAY_ARGV = ["-m", "gunicorn", "-c", "python:crm_gateway.gunicorn_conf", "crm_gateway.app:create_app()"]

log = logging.getLogger("crm.supervisor")


class Cancelled(Exception):
    """start() was cancelled (a signal during start-up)."""


@dataclass(frozen=True)
class Backoff:
    """Delay before restart n (0-based) of a process: initial * 2^n, at most
    cap; a process that ran `healthy_after` seconds starts again from n = 0."""

    initial: float = 0.5
    cap: float = 30.0
    healthy_after: float = 30.0

    def delay(self, failures: int) -> float:
        return min(self.cap, self.initial * 2 ** min(failures, 32))


def dev_secret(data_dir: Path) -> str:
    """The HS256 development secret, kept under var/ so tokens survive restarts."""
    if os.environ.get("CRM_JWT_DEV_SECRET"):
        return os.environ["CRM_JWT_DEV_SECRET"]
    return _kept(data_dir / "dev-jwt-secret", lambda: secrets.token_urlsafe(48))


def _kept(path: Path, make) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


# Who gets which customer grant key (crm_kit.customer_directory): the customer service signs, the services
# that follow its answers verify; support, the sink and the gateway get neither.
GRANT_KEY_OF = {"customer": "CRM_CUSTOMER_GRANT_SIGNING_KEY", "sales": "CRM_CUSTOMER_GRANT_VERIFY_KEY",
                "loyalty": "CRM_CUSTOMER_GRANT_VERIFY_KEY"}


def dev_grant_keys(data_dir: Path) -> dict[str, str]:
    """The development grant keys by variable name: the signing key from the environment or kept under var/."""
    signing = os.environ.get("CRM_CUSTOMER_GRANT_SIGNING_KEY") or \
        _kept(data_dir / "dev-customer-grant-key", lambda: new_grant_keys()[0])
    return {"CRM_CUSTOMER_GRANT_SIGNING_KEY": signing, "CRM_CUSTOMER_GRANT_VERIFY_KEY": grant_verify_key_of(signing)}


@dataclass
class Platform:
    data_dir: Path
    fixed_ports: bool = False  # make run: well-known ports; tests and bench: free ones
    gateway_port: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    stores: LocalStores | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    grant_keys: dict[str, str] = field(default_factory=dict)  # by variable name (GRANT_KEY_OF)
    grpc_ports: dict[str, int] = field(default_factory=dict)
    cancel: threading.Event | None = None  # set: start() stops what it started and raises Cancelled
    started_at: dict[str, float] = field(default_factory=dict)
    sink_ports: dict[str, int] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def sink_url(self) -> str:
        """The sink's HTTP side: GET /messages lists what it received."""
        return f"http://127.0.0.1:{self.sink_ports['http']}"

    def target(self, service: str) -> str:
        return f"127.0.0.1:{self.grpc_ports[service]}"

    def start(self, timeout: float = 60.0) -> "Platform":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("start-up cancelled")

    def _start(self, timeout: float) -> None:
        self._check_cancel()
        mongo_uri = os.environ.get("CUSTOMER_MONGODB_URI")
        redis_url = os.environ.get("LOYALTY_REDIS_URL")
        events_url = os.environ.get("EVENTS_REDIS_URL")
        if not (mongo_uri and redis_url):
            self.stores = start_local_stores(self.data_dir)
            mongo_uri, redis_url = self.stores.mongodb_uri, self.stores.redis_url
            # Events have a Redis of their own (AOF, appendfsync always: DESIGN section 5).
            events_url = events_url or self.stores.events_redis_url
        self._check_cancel()
        redis_base = redis_url.rsplit("/", 1)[0]
        self.grpc_ports = {s: FIXED_PORTS[s] if self.fixed_ports else free_port() for s in SERVICES}
        self.gateway_port = self.gateway_port or (8080 if self.fixed_ports else free_port())
        self.sink_ports = dict(SINK_PORTS) if self.fixed_ports else {"smtp": free_port(), "http": free_port()}
        env = dict(os.environ)
        env.update({
            "CRM_JWT_DEV_SECRET": dev_secret(self.data_dir),
            "CUSTOMER_MONGODB_URI": mongo_uri,
            "SALES_MONGODB_URI": os.environ.get("SALES_MONGODB_URI", mongo_uri),
            "SUPPORT_MONGODB_URI": os.environ.get("SUPPORT_MONGODB_URI", mongo_uri),
            "LOYALTY_REDIS_URL": redis_url,
            "GATEWAY_REDIS_URL": os.environ.get("GATEWAY_REDIS_URL", f"{redis_base}/1"),
            "EVENTS_REDIS_URL": events_url or f"{redis_base}/2",
            "GATEWAY_BIND": f"127.0.0.1:{self.gateway_port}",
            # Greetings go to the local sink: e-mail by SMTP, SMS by its signed HTTP API.
            "CRM_SINK_SMTP_PORT": str(self.sink_ports["smtp"]),
            "CRM_SINK_HTTP_PORT": str(self.sink_ports["http"]),
            "LOYALTY_SMTP_HOST": "127.0.0.1",
            "LOYALTY_SMTP_PORT": str(self.sink_ports["smtp"]),
            "LOYALTY_SMS_URL": f"http://127.0.0.1:{self.sink_ports['http']}/sms",
            "LOYALTY_SMS_KEY": os.environ.get("LOYALTY_SMS_KEY", DEV_SMS_KEY),
        })
        # Only the gateway runs prometheus-client in multiprocess mode, in a
        # directory of its own (start_gateway): a service writing there would be
        # summed into the gateway's /metrics.
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        for service in SERVICES:
            prefix = service.upper()
            env[f"{prefix}_GRPC_ADDR"] = f"127.0.0.1:{self.grpc_ports[service]}"
            env[f"{prefix}_GRPC_TARGET"] = f"127.0.0.1:{self.grpc_ports[service]}"
            env[f"{prefix}_METRICS_PORT"] = str(FIXED_PORTS[service] + 9101 - 50051 if self.fixed_ports else free_port())
        # Grant keys are given per service (start_service), never to everyone.
        for name in set(GRANT_KEY_OF.values()):
            env.pop(name, None)
        self.grant_keys = dev_grant_keys(self.data_dir)
        env.update(self.extra_env)
        self.env = env
        self._check_cancel()
        self.start_sink()
        for service in SERVICES:
            self._check_cancel()
            self.start_service(service)
        self._check_cancel()
        self.start_gateway()
        self.wait_ready(timeout)

    def start_service(self, service: str) -> None:
        key = GRANT_KEY_OF.get(service)
        env = {key: self.grant_keys[key], **self.env} if key else None  # an override (restart_with) wins
        self._spawn(service, [sys.executable, "-m", f"crm_{service}.main"], env)

    def start_sink(self) -> None:
        self._spawn("sink", [sys.executable, *SINK_ARGV])

    def start_gateway(self) -> None:
        env = {**self.env, "PROMETHEUS_MULTIPROC_DIR": str(self._fresh_dir("gateway-metrics"))}
        self._spawn("gateway", [sys.executable, *GATEWAY_ARGV], env)

    def restart(self, name: str) -> None:
        if name == "gateway":
            self.start_gateway()
        elif name == "sink":
            self.start_sink()
        else:
            self.start_service(name)

    def restart_with(self, name: str, env: dict[str, str] | None = None, *, grace: float = 15.0,
                     timeout: float = 60.0) -> None:
        """Stop one service or the gateway and start it again with `env` laid
        over the platform's environment (same ports), then wait until the
        platform is ready. `env=None` starts it with the platform's own
        environment again. (The benchmark: events off, rate limits off.)"""
        proc = self.processes.pop(name, None)
        if proc is not None:
            terminate([proc], grace)
        saved = self.env
        self.env = {**saved, **(env or {})}
        try:
            self.restart(name)
        finally:
            self.env = saved
        self.wait_ready(timeout)

    def store_pids(self) -> dict[str, list[int]]:
        """The local stores' processes by name (ferretdb, redis, events-redis);
        empty when the stores came from the environment."""
        if not self.stores:
            return {}
        names = ("ferretdb", "redis", "events-redis")
        return {name: [proc.pid] for name, proc in zip(names, self.stores.processes) if proc.poll() is None}

    def _fresh_dir(self, name: str) -> Path:
        path = self.data_dir / name
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.iterdir():
            stale.unlink()
        return path

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        with open(self.data_dir / "logs" / f"{name}.log", "ab") as out:
            self.processes[name] = subprocess.Popen(argv, env=env or self.env, stdout=out,
                                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                    start_new_session=True)
        self.started_at[name] = time.monotonic()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._check_cancel()
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    tail = (self.data_dir / "logs" / f"{name}.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(f"{self.gateway_url}/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"platform not ready within {timeout:.0f}s; logs in {self.data_dir / 'logs'}")
            time.sleep(0.2)

    def kill(self, name: str) -> None:
        """SIGKILL one process (fault tests)."""
        proc = self.processes[name]
        proc.kill()
        proc.wait()

    def pids(self) -> dict[str, list[int]]:
        """Every platform process, gunicorn workers included."""
        out = {name: [p.pid] for name, p in self.processes.items() if p.poll() is None}
        gateway = self.processes.get("gateway")
        if gateway and gateway.poll() is None:
            children = Path(f"/proc/{gateway.pid}/task/{gateway.pid}/children")
            if children.exists():
                out["gateway"] += [int(pid) for pid in children.read_text().split()]
        if self.stores:
            out["ferretdb"] = [self.stores.processes[0].pid]
            out["redis"] = [self.stores.processes[1].pid]
        return out

    def supervise(self, stop: threading.Event, backoff: Backoff = Backoff(), poll: float = 0.2) -> str:
        """Keep every service and the gateway running until `stop` is set
        (returns "stopped") or a store exits (returns "store-exited")."""
        failures = {name: 0 for name in self.processes}
        due: dict[str, float] = {}  # name -> when to start it again
        while not stop.is_set():
            now = time.monotonic()
            if self.stores and any(p.poll() is not None for p in self.stores.processes):
                dead = [Path(p.args[0]).name for p in self.stores.processes if p.poll() is not None]
                log.error("a store exited; stopping the platform", extra={"fields": {"child": ", ".join(dead)}})
                return "store-exited"
            for name, proc in list(self.processes.items()):
                code = proc.poll()
                if name in due or code is None:
                    continue
                ran = now - self.started_at.get(name, now)
                if ran >= backoff.healthy_after:
                    failures[name] = 0
                delay = backoff.delay(failures.get(name, 0))
                failures[name] = failures.get(name, 0) + 1
                due[name] = now + delay
                fields = {"child": name, "exit_code": code, "ran_seconds": round(ran, 1),
                          "restart_in_seconds": delay, "restarts": failures[name]}
                if code < 0:
                    fields["signal"] = signal.Signals(-code).name
                log.warning(f"{name} exited with {code}; restarting in {delay:g} s", extra={"fields": fields})
            for name, when in list(due.items()):
                if now >= when and not stop.is_set():
                    del due[name]
                    self.restart(name)
                    log.info(f"{name} started again", extra={"fields": {"child": name,
                                                                       "pid": self.processes[name].pid}})
            stop.wait(poll)
        return "stopped"

    def stop(self, grace: float = 15.0) -> None:
        """Gateway first (stop taking requests), then services drain, stores last."""
        for group in (("gateway",), SERVICES, ("sink",)):
            terminate([self.processes[n] for n in group if n in self.processes], grace)
        self.processes.clear()
        if self.stores:
            self.stores.stop()
            self.stores = None
