"""`crm run` (make run) as a process manager, with real processes: a service
killed with SIGKILL is started again after a back-off that doubles, and says
so in a JSON log line; SIGTERM at any moment of start-up leaves no process
behind. Each run has its own var directory, on free ports."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def processes_of(var_dir: Path) -> dict[int, str]:
    """pid -> command line of every live process started for this var dir
    (each inherits CRM_VAR_DIR: stores, services, gunicorn and its workers)."""
    marker = f"CRM_VAR_DIR={var_dir}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            stat = (entry / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":  # a zombie has exited
                continue
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
    return found


class CrmRun:
    """`python -m crm_cli.main run --free-ports --seed 0` with its output read in threads."""

    def __init__(self, var_dir: Path, env: dict[str, str]):
        self.var_dir = var_dir
        self.proc = subprocess.Popen([sys.executable, "-m", "crm_cli.main", "run", "--free-ports", "--seed", "0"],
                                     env={**env, "CRM_VAR_DIR": str(var_dir)}, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        self.out: queue.Queue[str] = queue.Queue()
        self.logs: list[dict] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, False), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, True), daemon=True).start()

    def _read(self, stream, is_log: bool) -> None:
        for line in stream:
            if is_log and line.startswith("{"):
                self.logs.append(json.loads(line))
            else:
                self.out.put(line)

    def wait_for_output(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.out.get(timeout=0.2)
            except queue.Empty:
                assert self.proc.poll() is None, f"crm run exited with {self.proc.returncode}"
                continue
            if text in line:
                return line
        raise AssertionError(f"no {text!r} from crm run within {timeout}s")

    def wait_for_log(self, predicate, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in list(self.logs):
                if predicate(entry):
                    return entry
            time.sleep(0.1)
        raise AssertionError(f"no such log line within {timeout}s; logs: {self.logs[-5:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for pid in processes_of(self.var_dir):  # never leave strays behind, whatever the test found
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def pid_of(var_dir: Path, module: str) -> int:
    [pid] = [pid for pid, cmd in processes_of(var_dir).items() if f"-m {module}" in cmd]
    return pid


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


def base_env(with_own_stores: bool, stores) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CUSTOMER_", "SALES_", "SUPPORT_", "LOYALTY_",
                                                                   "GATEWAY_", "EVENTS_", "PROMETHEUS_"))}
    suffix = uuid.uuid4().hex[:8]
    env.update({"CUSTOMER_MONGODB_DATABASE": f"crm_customer_sup_{suffix}",
                "SALES_MONGODB_DATABASE": f"crm_sales_sup_{suffix}",
                "SUPPORT_MONGODB_DATABASE": f"crm_support_sup_{suffix}"})
    if not with_own_stores:
        env.update({"CUSTOMER_MONGODB_URI": stores.mongodb_uri, "LOYALTY_REDIS_URL": stores.redis_url})
    return env


def test_a_killed_service_is_started_again_with_a_growing_back_off(stores, tmp_path):
    run = CrmRun(tmp_path / "var", base_env(False, stores))
    try:
        gateway = run.wait_for_output("gateway ", 90).split()[1]
        assert status(f"{gateway}/readyz") == 200
        others = {name: pid_of(run.var_dir, f"crm_{name}.main") for name in ("sales", "support", "loyalty")}
        delays = []
        for attempt in (1, 2):
            old = pid_of(run.var_dir, "crm_customer.main")
            os.kill(old, signal.SIGKILL)
            entry = run.wait_for_log(lambda e: e.get("child") == "customer" and e.get("restarts") == attempt, 10)
            assert entry["exit_code"] == -9 and entry["signal"] == "SIGKILL" and entry["level"] == "warning"
            delays.append(entry["restart_in_seconds"])
            deadline = time.monotonic() + 30
            while status(f"{gateway}/readyz/customer") != 200:
                assert time.monotonic() < deadline, "the customer service did not come back"
                time.sleep(0.2)
            assert pid_of(run.var_dir, "crm_customer.main") != old
        assert delays == [0.5, 1.0]  # doubles while the service keeps crashing
        # The rest never stopped (same processes); every gateway worker's channel
        # reconnects to the new customer service within gRPC's reconnect back-off.
        assert {name: pid_of(run.var_dir, f"crm_{name}.main") for name in others} == others
        deadline = time.monotonic() + 30
        while status(f"{gateway}/readyz") != 200:
            assert time.monotonic() < deadline, "the gateway never saw every service serving again"
            time.sleep(0.2)
    finally:
        run.stop()
    assert run.proc.returncode == 0
    assert processes_of(run.var_dir) == {}


@pytest.mark.parametrize("moment", ["stores", "services", "gateway"])
def test_sigterm_during_start_up_leaves_no_process_behind(stores, tmp_path, moment):
    own_stores = moment == "stores"
    run = CrmRun(tmp_path / "var", base_env(own_stores, stores))
    wanted = {"stores": "ferretdb", "services": "crm_customer.main", "gateway": "gunicorn"}[moment]
    try:
        deadline = time.monotonic() + 60
        while not any(wanted in cmd for cmd in processes_of(run.var_dir).values()):
            assert run.proc.poll() is None and time.monotonic() < deadline, f"no {wanted} started"
            time.sleep(0.02)
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(60) == 0
        assert processes_of(run.var_dir) == {}
    finally:
        run.stop()
