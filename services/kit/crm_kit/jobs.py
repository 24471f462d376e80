"""Scheduled work inside a service process (for example the pool release).

Jobs must be idempotent: every replica runs its own schedule, so two may
run at once. A failing run is logged and retried at the next tick; it never
takes the process down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from prometheus_client import Counter

log = logging.getLogger("crm.jobs")

JOB_RUNS = Counter("crm_job_runs_total", "Scheduled job runs, by job and outcome.", ["job", "outcome"])


class PeriodicJob:
    def __init__(self, name: str, interval_seconds: float, run: Callable[[], object],
                 first_run_after: float | None = None, runs: int | None = None):
        self.name = name
        self.interval = interval_seconds
        self.run = run
        # The first run comes this many seconds after start (0: at once), one interval by default.
        self.first_run_after = interval_seconds if first_run_after is None else first_run_after
        self.runs = runs  # the job ends after this many runs that did not fail (None: never)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"job-{name}", daemon=True)

    def start(self) -> None:
        if self.interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        wait, done = self.first_run_after, 0
        while not self._stop.wait(wait):
            wait = self.interval
            try:
                result = self.run()
                JOB_RUNS.labels(self.name, "ok").inc()
                log.info("job finished", extra={"fields": {"job": self.name, "result": result}})
                done += 1
                if self.runs is not None and done >= self.runs:
                    return
            except Exception:  # noqa: BLE001 - the next tick retries
                JOB_RUNS.labels(self.name, "failed").inc()
                log.exception("job failed", extra={"fields": {"job": self.name}})
