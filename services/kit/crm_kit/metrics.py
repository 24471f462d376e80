"""Prometheus metrics shared by all processes (RED per gRPC method, store latency).

Names follow Prometheus conventions: `_total` counters, `_seconds` histograms.
"""

from __future__ import annotations

import ipaddress
import os

from prometheus_client import Counter, Histogram, start_http_server

from crm_kit.settings import SettingsError

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

GRPC_SERVER_HANDLED = Counter(
    "grpc_server_handled_total", "gRPC calls completed on the server, by status code.",
    ["grpc_service", "grpc_method", "grpc_code"])
GRPC_SERVER_SECONDS = Histogram(
    "grpc_server_handling_seconds", "Time to handle a gRPC call on the server.",
    ["grpc_service", "grpc_method"], buckets=LATENCY_BUCKETS)
GRPC_CLIENT_HANDLED = Counter(
    "grpc_client_handled_total", "gRPC calls completed by this process as a client, by status code.",
    ["grpc_service", "grpc_method", "grpc_code"])
GRPC_CLIENT_SECONDS = Histogram(
    "grpc_client_handling_seconds", "Time until a gRPC call made by this process completed.",
    ["grpc_service", "grpc_method"], buckets=LATENCY_BUCKETS)
STORE_SECONDS = Histogram(
    "store_command_seconds", "Latency of commands sent to a store.",
    ["store", "command"], buckets=LATENCY_BUCKETS)
STORE_FAILED = Counter(
    "store_command_failures_total", "Store commands that failed.", ["store", "command"])


def split_method(full_method: str) -> tuple[str, str]:
    """'/crm.customer.v1.CustomerService/GetCustomer' -> (service, method)."""
    _, service, method = full_method.split("/", 2) if full_method.count("/") == 2 else ("", "unknown", full_method)
    return service, method


def metrics_host(service: str) -> str:
    """Where a service's /metrics listens: `<SVC>_METRICS_HOST`, an IP
    address; loopback unless told (Kubernetes sets the pod IP or 0.0.0.0 so
    Prometheus can scrape). A bad value is a SettingsError naming it."""
    name = f"{service.upper()}_METRICS_HOST"
    value = os.environ.get(name) or "127.0.0.1"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise SettingsError(f"environment variable {name}={value!r} must be an IP address "
                            "(127.0.0.1, 0.0.0.0, the pod IP)") from None
    return value


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics on its own port (services; the gateway serves its own
    route), on loopback unless a host is given. Each service keeps its own
    registry: it must not run with PROMETHEUS_MULTIPROC_DIR (the gateway's)."""
    start_http_server(port, addr=host)
