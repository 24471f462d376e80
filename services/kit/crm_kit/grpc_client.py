"""Client channels: a deadline on every unary call (streaming callers set
their own), retries for idempotent reads, request id and caller token forwarded,
a customer grant sent where the caller set one (the gateway's card), client-side RED metrics."""

from __future__ import annotations

import json
import time
from collections import namedtuple

import grpc

from crm_kit import context, metrics

# The metadata key of a customer grant (crm_kit.customer_directory.CustomerGrants).
GRANT_METADATA = "x-crm-customer-grant"

# Clients ping a quiet connection this often, also during a long call, so a dead peer is noticed; kit
# servers accept pings at this rate (grpc_server.keepalive_policy).
KEEPALIVE_MS = 30_000

_Details = namedtuple("_Details", ["method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"])


class _ClientCallDetails(_Details, grpc.ClientCallDetails):
    pass


class ClientInterceptor(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, default_timeout: float):
        self.default_timeout = default_timeout

    def intercept_unary_unary(self, continuation, client_call_details, request):
        metadata = list(client_call_details.metadata or [])
        keys = {k for k, _ in metadata}
        rid = context.request_id.get()
        if rid and "x-request-id" not in keys:
            metadata.append(("x-request-id", rid))
        token = context.bearer_token.get()
        if token and "authorization" not in keys:
            metadata.append(("authorization", f"Bearer {token}"))
        grant = context.customer_grant.get()
        if grant and GRANT_METADATA not in keys:
            metadata.append((GRANT_METADATA, grant))
        timeout = client_call_details.timeout
        details = _ClientCallDetails(
            client_call_details.method, self.default_timeout if timeout is None else timeout, metadata,
            client_call_details.credentials, client_call_details.wait_for_ready, client_call_details.compression)
        service, name = metrics.split_method(client_call_details.method)
        start = time.perf_counter()

        def record(call):
            metrics.GRPC_CLIENT_SECONDS.labels(service, name).observe(time.perf_counter() - start)
            metrics.GRPC_CLIENT_HANDLED.labels(service, name, call.code().name).inc()

        outcome = continuation(details, request)
        outcome.add_done_callback(record)
        return outcome


def open_channel(target: str, service: str, idempotent_methods: tuple[str, ...] = (),
                 default_timeout: float = 2.0, max_receive_bytes: int = 0) -> grpc.Channel:
    """A channel to `target` whose idempotent methods retry on UNAVAILABLE.

    A method is named alone (of `service`) or as "package.Service/Method" (of
    another service served at the same target).

    Reconnect backoff is capped at one second, so a restarted service is
    used again promptly rather than after gRPC's default two minutes.
    """
    config = {"methodConfig": [{
        "name": [{"service": m.rpartition("/")[0] or service, "method": m.rpartition("/")[2]}
                 for m in idempotent_methods] or [{"service": service}],
        "retryPolicy": {
            "maxAttempts": 3, "initialBackoff": "0.02s", "maxBackoff": "0.2s", "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        },
    }]} if idempotent_methods else {}
    options = [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", json.dumps(config)),
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 1000),
        ("grpc.keepalive_time_ms", KEEPALIVE_MS),
        ("grpc.http2.max_pings_without_data", 0),  # go on pinging through a long call
    ]
    if max_receive_bytes:  # gRPC's default is 4 MB a message
        options.append(("grpc.max_receive_message_length", max_receive_bytes))
    channel = grpc.insecure_channel(target, options=options)
    return grpc.intercept_channel(channel, ClientInterceptor(default_timeout))
