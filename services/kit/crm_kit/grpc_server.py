"""gRPC server start-up shared by every service.

Health (`grpc.health.v1`), server reflection (so `grpcurl` works), one
interceptor for request ids, JSON logs, RED metrics, bearer-JWT
authentication and domain-error mapping, and graceful SIGTERM: report
NOT_SERVING, refuse new calls, drain in-flight ones within a grace period.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent import futures
from contextvars import ContextVar
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from pymongo.errors import PyMongoError

from crm_kit import context, logs, metrics
from crm_kit.auth import AuthSettings, Principal, TokenVerifier
from crm_kit.errors import DomainError, Unauthenticated
from crm_kit.grpc_client import GRANT_METADATA
from crm_kit.grpc_errors import to_status
from crm_kit.jobs import PeriodicJob
from crm_kit.settings import SettingsError, env_address, env_float, env_int, env_str

log = logging.getLogger("crm.grpc")

_principal: ContextVar[Principal | None] = ContextVar("principal", default=None)

# Calls anyone may make without a token: probes and tooling.
PUBLIC_METHOD_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")


def _bearer(authorization: str | None) -> str:
    """The token of an `authorization: Bearer <token>` header; "" without one."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def current_principal() -> Principal:
    """The authenticated caller of the gRPC call being handled."""
    principal = _principal.get()
    if principal is None:
        raise Unauthenticated("no authenticated caller")
    return principal


@dataclass(frozen=True)
class ServerSettings:
    name: str
    listen_addr: str
    metrics_port: int
    workers: int
    grace_seconds: float
    log_level: str
    auth: AuthSettings

    @classmethod
    def from_env(cls, name: str, default_port: int, default_metrics_port: int) -> "ServerSettings":
        prefix = name.upper()
        return cls(
            name=name,
            listen_addr=env_address(f"{prefix}_GRPC_ADDR", f"127.0.0.1:{default_port}"),
            metrics_port=env_int(f"{prefix}_METRICS_PORT", default_metrics_port, minimum=0, maximum=65535),
            workers=env_int(f"{prefix}_GRPC_WORKERS", 16, minimum=1, maximum=512),
            grace_seconds=env_float(f"{prefix}_GRACE_SECONDS", 10.0),
            log_level=env_str("CRM_LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")),
            auth=AuthSettings.from_env(),
        )


class ServiceInterceptor(grpc.ServerInterceptor):
    """Wraps every call, unary or streaming: request id, auth, metrics, logs,
    error mapping. A streaming handler gets the same checks as a unary one
    (authenticated before its first message is read or sent, the caller set
    around each step of its iterators), so no method can skip them. Public
    streaming methods (health Watch, reflection) are passed through as they
    are: they need no caller, and Watch keeps its non-blocking form."""

    _KINDS = {  # handler attribute -> (factory, requests streamed, responses streamed)
        "unary_unary": (grpc.unary_unary_rpc_method_handler, False, False),
        "unary_stream": (grpc.unary_stream_rpc_method_handler, False, True),
        "stream_unary": (grpc.stream_unary_rpc_method_handler, True, False),
        "stream_stream": (grpc.stream_stream_rpc_method_handler, True, True),
    }

    def __init__(self, verifier: TokenVerifier):
        self.verifier = verifier
        self._labels: dict[str, tuple] = {}

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        public = method.startswith(PUBLIC_METHOD_PREFIXES)
        kind = next((k for k in self._KINDS if getattr(handler, k, None) is not None), None)
        if kind is None:
            raise RuntimeError(f"{method}: a handler of no known kind cannot be guarded")
        if kind != "unary_unary" and public:
            return handler
        factory, streams_requests, streams_responses = self._KINDS[kind]
        inner = getattr(handler, kind)
        service, name = metrics.split_method(method)
        seconds = metrics.GRPC_SERVER_SECONDS.labels(service, name)
        end = self._END

        def begin(ctx: grpc.ServicerContext) -> "ServiceInterceptor._Call":
            return self._Call(self.verifier, method, public, ctx, service, name, seconds)

        if streams_requests:
            def guarded_requests(requests, call: "ServiceInterceptor._Call"):
                """The request stream, each message read with the call's context set."""
                while True:
                    item = call.run(lambda: next(requests, end))
                    if item is end:
                        return
                    yield item
        else:
            def guarded_requests(request, _call):
                return request

        if streams_responses:
            def behavior(request, ctx: grpc.ServicerContext):
                call = begin(ctx)
                try:
                    responses = call.run(lambda: iter(inner(guarded_requests(request, call), ctx)))
                    while True:
                        item = call.run(lambda: next(responses, end))
                        if item is end:
                            return
                        yield item
                finally:
                    call.finish()
        else:
            def behavior(request, ctx: grpc.ServicerContext):
                call = begin(ctx)
                try:
                    return call.run(lambda: inner(guarded_requests(request, call), ctx))
                finally:
                    call.finish()

        return factory(behavior, request_deserializer=handler.request_deserializer,
                       response_serializer=handler.response_serializer)

    _END = object()  # the end of a stream, as `next` returns it

    class _Call:
        """One call's request id, caller, deadline and outcome. `run` does a step
        of the call (the whole handler, or one message of a stream) with them
        set, mapping errors to status codes; the context variables are reset
        after each step, never held across a yield."""

        def __init__(self, verifier: TokenVerifier, method: str, public: bool, ctx: grpc.ServicerContext,
                     service: str, name: str, seconds):
            md = dict(ctx.invocation_metadata())
            self.verifier, self.method, self.public, self.ctx = verifier, method, public, ctx
            self.service, self.name, self.seconds = service, name, seconds
            self.request_id = context.accept_request_id(md.get("x-request-id"))
            self.authorization = md.get("authorization")
            self.customer_grant = md.get(GRANT_METADATA, "")
            self.principal: Principal | None = None
            self.code = grpc.StatusCode.OK
            self.start = time.perf_counter()

        def run(self, step: Callable):
            ctx = self.ctx
            rid_token = context.request_id.set(self.request_id)
            # The caller's own token travels on with calls this step makes to
            # other services (grpc_client), so they apply the caller's rights.
            bearer_token = context.bearer_token.set(_bearer(self.authorization))
            customer_grant = context.received_customer_grant.set(self.customer_grant)
            principal_token = None
            try:
                if not self.public:
                    if self.principal is None:
                        self.principal = self.verifier.verify_header(self.authorization)
                    principal_token = _principal.set(self.principal)
                remaining = ctx.time_remaining()
                deadline_token = context.deadline.set(None if remaining is None else time.monotonic() + remaining)
                try:
                    return step()
                finally:
                    context.deadline.reset(deadline_token)
            except PyMongoError as err:
                if not err.timeout:
                    raise
                self.code = grpc.StatusCode.DEADLINE_EXCEEDED
                ctx.abort(self.code, "the deadline passed before the store answered")
            except DomainError as err:
                status = to_status(err)
                self.code = status.code
                ctx.abort_with_status(status)
            except Exception:
                if ctx.code() not in (None, grpc.StatusCode.OK):  # the servicer aborted on purpose
                    self.code = ctx.code()
                    raise
                self.code = grpc.StatusCode.INTERNAL
                log.exception("unhandled error", extra={"fields": {"method": self.method}})
                ctx.abort(grpc.StatusCode.INTERNAL, "internal error")
            finally:
                if principal_token is not None:
                    _principal.reset(principal_token)
                context.received_customer_grant.reset(customer_grant)
                context.bearer_token.reset(bearer_token)
                context.request_id.reset(rid_token)

        def finish(self) -> None:
            """Metrics and the log line, once per call."""
            code = self.code
            elapsed = time.perf_counter() - self.start
            self.seconds.observe(elapsed)
            metrics.GRPC_SERVER_HANDLED.labels(self.service, self.name, code.name).inc()
            if log.isEnabledFor(logging.DEBUG) or code not in (grpc.StatusCode.OK,):
                rid_token = context.request_id.set(self.request_id)
                try:
                    log.log(logging.WARNING if code == grpc.StatusCode.INTERNAL else logging.INFO, "rpc",
                            extra={"fields": {"method": self.method, "code": code.name, "ms": round(elapsed * 1000, 2)}})
                finally:
                    context.request_id.reset(rid_token)



def keepalive_policy() -> list[tuple[str, int]]:
    """Accept the kit clients' keepalive pings (grpc_client.KEEPALIVE_MS). By
    default a server allows one ping per 5 minutes when no data flows and
    answers the third early one with GOAWAY too_many_pings, which killed any
    call that ran longer than about a minute (a big greetings run, a rebuild)."""
    from crm_kit.grpc_client import KEEPALIVE_MS

    return [("grpc.http2.min_ping_interval_without_data_ms", KEEPALIVE_MS // 2),
            ("grpc.keepalive_permit_without_calls", 1)]


class ServiceHost:
    """A running gRPC server for one service, with health and reflection."""

    def __init__(self, settings: ServerSettings, service_names: list[str],
                 register: Callable[[grpc.Server], None], jobs: tuple[PeriodicJob, ...] = ()):
        self.settings = settings
        self.service_names = service_names
        self.jobs = jobs
        self.health = health.HealthServicer(experimental_non_blocking=True)
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix=settings.name),
            interceptors=[ServiceInterceptor(TokenVerifier(settings.auth))],
            options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 8 * 1024 * 1024),
                     *keepalive_policy()],
        )
        register(self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server)
        self.port = self.server.add_insecure_port(settings.listen_addr)
        if self.port == 0:
            raise RuntimeError(f"cannot listen on {settings.listen_addr}")
        self._stopped = threading.Event()

    def start(self) -> int:
        self.server.start()
        for name in ["", *self.service_names]:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        for job in self.jobs:
            job.start()
        log.info("serving", extra={"fields": {"addr": self.settings.listen_addr, "port": self.port}})
        return self.port

    def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING first (load balancers stop routing), then drain in-flight calls."""
        self.health.enter_graceful_shutdown()
        for job in self.jobs:
            job.stop()
        grace = self.settings.grace_seconds if grace is None else grace
        self.server.stop(grace).wait(grace + 1)
        self._stopped.set()

    def run_until_signalled(self) -> None:
        def on_signal(signum, _frame):
            log.info("shutting down", extra={"fields": {"signal": signal.Signals(signum).name}})
            threading.Thread(target=self.stop, daemon=True).start()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.start()
        self._stopped.wait()
        log.info("stopped")


def run_service(name: str, load_settings: Callable, build_host: Callable[..., ServiceHost]) -> None:
    """The whole life of a service process: settings (exit with a message
    naming the bad variable), logs, metrics endpoint, serve until SIGTERM."""
    try:
        settings = load_settings()
        host = None
        logs.configure(name, settings.server.log_level)
        metrics_host = metrics.metrics_host(name)  # <SVC>_METRICS_HOST, validated even when the port is 0
        if settings.server.metrics_port:
            metrics.serve_metrics(settings.server.metrics_port, metrics_host)
        host = build_host(settings)
    except SettingsError as err:
        sys.exit(f"crm-{name}: {err}")
    host.run_until_signalled()
