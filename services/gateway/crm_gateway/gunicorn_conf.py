"""gunicorn settings for the gateway: `gunicorn -c python:crm_gateway.gunicorn_conf
'crm_gateway.app:create_app()'`.

gthread workers (gevent hangs with grpcio); gRPC channels open lazily in
each worker after the fork; prometheus-client in multiprocess mode so a
scrape of /metrics sums every worker.
"""

import os
import shutil
import tempfile

from prometheus_client import multiprocess

bind = os.environ.get("GATEWAY_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("GATEWAY_WORKERS", "2"))
threads = int(os.environ.get("GATEWAY_THREADS", "8"))
worker_class = "gthread"
graceful_timeout = int(os.environ.get("GATEWAY_GRACE_SECONDS", "10"))
timeout = 30
keepalive = 5
accesslog = None  # request logs carry no personal data only if we write them ourselves

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="crm-gateway-metrics-")
_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
for _stale in os.listdir(_metrics_dir):  # counters from a previous run would be summed in
    os.remove(os.path.join(_metrics_dir, _stale))


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
