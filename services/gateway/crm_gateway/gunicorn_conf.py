"""gunicorn settings for the gateway: `gunicorn -c python:crm_gateway.gunicorn_conf
'crm_gateway.app:create_app()'`.

gthread workers (gevent hangs with grpcio); gRPC channels open lazily in
each worker after the fork; prometheus-client in multiprocess mode so a
scrape of /metrics sums every worker. Only the gateway runs in
multiprocess mode, in a directory of its own (a service sharing it would
have its series summed into the gateway's /metrics).

The errors gunicorn answers itself, before the app sees the request (414 a
request line over `limit_request_line`, 431 too many or too large header
fields, 400 a malformed request), are problem+json like every other error.
"""

import json
import os
import shutil
import tempfile

from gunicorn import util as _gunicorn_util
from prometheus_client import multiprocess

bind = os.environ.get("GATEWAY_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("GATEWAY_WORKERS", "2"))
threads = int(os.environ.get("GATEWAY_THREADS", "8"))
worker_class = "gthread"
graceful_timeout = int(os.environ.get("GATEWAY_GRACE_SECONDS", "10"))
timeout = 30
keepalive = 5
accesslog = None  # request logs carry no personal data only if we write them ourselves
limit_request_line = 4094  # gunicorn's defaults, stated: longer is 414, more or larger fields 431
limit_request_fields = 100
limit_request_field_size = 8190

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="crm-gateway-metrics-")
_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
for _stale in os.listdir(_metrics_dir):  # counters from a previous run would be summed in
    os.remove(os.path.join(_metrics_dir, _stale))


def problem_error(sock, status_int, reason, mesg):
    """gunicorn's own error answer (util.write_error), as problem+json. The
    detail is generic: gunicorn's message may quote what the client sent."""
    detail = {414: "the request line is too long", 431: "the request header fields are too large"}.get(
        status_int, "the request could not be read" if status_int < 500 else "internal error")
    body = json.dumps({"type": f"urn:crm:problem:{reason.lower().replace(' ', '-')}", "title": reason,
                       "status": status_int, "detail": detail}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n"
            "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\r\n").encode("latin-1")
    _gunicorn_util.write_nonblock(sock, head + body)


# The worker's handle_error calls util.write_error; gunicorn has no hook for
# it, so the config replaces it (in the master, inherited by every worker).
_gunicorn_util.write_error = problem_error


def on_starting(server):
    """Validate the environment once, in the master, with a clear message."""
    from crm_kit.settings import SettingsError
    from crm_gateway.settings import GatewaySettings

    try:
        GatewaySettings.from_env()
    except SettingsError as err:
        raise SystemExit(f"crm-gateway: {err}") from None


def post_worker_init(worker):
    from crm_kit import logs

    logs.configure("gateway", os.environ.get("CRM_LOG_LEVEL", "INFO"))


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    shutil.rmtree(_metrics_dir, ignore_errors=True)


def worker_exit(server, worker):
    """Graceful stop of the worker's event consumer: finish the entry in hand, ack, exit."""
    app = getattr(worker, "wsgi", None)
    consumer = getattr(app, "extensions", {}).get("erasure_consumer") if app is not None else None
    if consumer is not None:
        consumer.stop(timeout=5)
