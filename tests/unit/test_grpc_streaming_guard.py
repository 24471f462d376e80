"""The service interceptor guards streaming methods as it guards unary ones:
a real gRPC server (crm_kit.grpc_server.ServiceHost) with a tiny generic
service of every kind of method."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from crm_kit.errors import NotFound
from crm_kit.grpc_server import ServiceHost, current_principal
from tests.conftest import server_settings, token

SERVICE = "crm.test.v1.Echo"
ran: list[str] = []


def _say(request: bytes, _ctx) -> bytes:
    ran.append("say")
    return current_principal().subject.encode()


def _watch(request: bytes, _ctx):
    ran.append("watch")
    for i in range(3):
        yield f"{current_principal().subject}:{i}".encode()  # the caller is known at every step
    if request == b"fail":
        raise NotFound("thing", "thing-1")


def _upload(requests, _ctx) -> bytes:
    ran.append("upload")
    return b"+".join([current_principal().subject.encode(), *requests])


def _chat(requests, _ctx):
    ran.append("chat")
    for item in requests:
        yield current_principal().subject.encode() + b">" + item


def _register(server: grpc.Server) -> None:
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, {
        "Say": grpc.unary_unary_rpc_method_handler(_say),
        "Watch": grpc.unary_stream_rpc_method_handler(_watch),
        "Upload": grpc.stream_unary_rpc_method_handler(_upload),
        "Chat": grpc.stream_stream_rpc_method_handler(_chat),
    })])


@pytest.fixture(scope="module")
def channel():
    host = ServiceHost(server_settings("guardtest"), [SERVICE], _register)
    port = host.start()
    ch = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield ch
    ch.close()
    host.stop(0.2)


def _calls(ch):
    return {
        "say": lambda md: ch.unary_unary(f"/{SERVICE}/Say")(b"hi", metadata=md),
        "watch": lambda md: list(ch.unary_stream(f"/{SERVICE}/Watch")(b"go", metadata=md)),
        "upload": lambda md: ch.stream_unary(f"/{SERVICE}/Upload")(iter([b"a", b"b"]), metadata=md),
        "chat": lambda md: list(ch.stream_stream(f"/{SERVICE}/Chat")(iter([b"x", b"y"]), metadata=md)),
    }


@pytest.mark.parametrize("kind", ["say", "watch", "upload", "chat"])
@pytest.mark.parametrize("metadata", [None, [("authorization", "Bearer not-a-token")]])
def test_every_kind_of_method_refuses_a_caller_without_a_valid_token(channel, kind, metadata):
    ran.clear()
    with pytest.raises(grpc.RpcError) as err:
        _calls(channel)[kind](metadata)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert ran == []  # the handler never ran


def test_streaming_methods_know_the_caller_and_map_domain_errors(channel):
    md = [("authorization", f"Bearer {token('rep-stream', 'rep')}")]
    calls = _calls(channel)
    assert calls["say"](md) == b"rep-stream"
    assert calls["watch"](md) == [b"rep-stream:0", b"rep-stream:1", b"rep-stream:2"]
    assert calls["upload"](md) == b"rep-stream+a+b"
    assert calls["chat"](md) == [b"rep-stream>x", b"rep-stream>y"]
    stream = channel.unary_stream(f"/{SERVICE}/Watch")(b"fail", metadata=md)
    with pytest.raises(grpc.RpcError) as err:
        list(stream)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND and err.value.details() == "thing not found"


def test_public_streaming_methods_still_need_no_token(channel):
    watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    watch.cancel()
