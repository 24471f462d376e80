"""A long call from a kit client survives its keepalive pings: the kit server
accepts pings at the clients' interval (by default gRPC servers answer the
third early ping with GOAWAY too_many_pings, which once cut a festival's
greetings run after a few minutes). The interval is shortened here so that
several pings fall inside one call."""

from __future__ import annotations

import time

import grpc

from crm_kit import grpc_client
from crm_kit.grpc_server import ServiceHost
from tests.conftest import server_settings, token

SERVICE = "crm.test.v1.Slow"
CALL_SECONDS = 5.0


def _register(server: grpc.Server) -> None:
    def slow(request: bytes, _ctx) -> bytes:
        time.sleep(CALL_SECONDS)
        return b"done"

    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, {
        "Wait": grpc.unary_unary_rpc_method_handler(slow)})])


def test_a_call_longer_than_several_keepalive_pings_completes(monkeypatch):
    monkeypatch.setattr(grpc_client, "KEEPALIVE_MS", 1000)
    host = ServiceHost(server_settings("keepalivetest"), [SERVICE], _register)
    port = host.start()
    try:
        channel = grpc_client.open_channel(f"127.0.0.1:{port}", SERVICE, default_timeout=30)
        answer = channel.unary_unary(f"/{SERVICE}/Wait")(b"", metadata=[("authorization", f"Bearer {token()}")])
        assert answer == b"done"
        channel.close()
    finally:
        host.stop(0.2)
