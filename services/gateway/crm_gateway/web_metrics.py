"""HTTP RED metrics, correct across gunicorn workers.

Under gunicorn, PROMETHEUS_MULTIPROC_DIR is set (see gunicorn_conf) and a
scrape merges every worker's files; without it the process registry is used.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

from crm_kit.metrics import LATENCY_BUCKETS

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests answered, by route and status.",
                        ["method", "route", "status"])
HTTP_SECONDS = Histogram("http_request_duration_seconds", "Time to answer an HTTP request.",
                         ["method", "route"], buckets=LATENCY_BUCKETS)


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
