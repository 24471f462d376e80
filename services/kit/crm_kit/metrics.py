"""Prometheus metrics shared by all processes (RED per gRPC method, store latency).

Names follow Prometheus conventions: `_total` counters, `_seconds` histograms.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

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


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:
    """Expose /metrics on its own port (services; the gateway serves its own route)."""
    start_http_server(port, addr=host)
