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
from crm_kit.grpc_errors import to_status
from crm_kit.jobs import PeriodicJob
from crm_kit.settings import SettingsError, env_address, env_float, env_int, env_str

log = logging.getLogger("crm.grpc")

_principal: ContextVar[Principal | None] = ContextVar("principal", default=None)

# Calls anyone may make without a token: probes and tooling.
PUBLIC_METHOD_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")


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
    """Wraps every unary call: request id, auth, metrics, logs, error mapping."""

    def __init__(self, verifier: TokenVerifier):
        self.verifier = verifier
        self._labels: dict[str, tuple] = {}

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        public = method.startswith(PUBLIC_METHOD_PREFIXES)
        service, name = metrics.split_method(method)
        inner = handler.unary_unary
        seconds = metrics.GRPC_SERVER_SECONDS.labels(service, name)

        def behavior(request, ctx: grpc.ServicerContext):
            md = dict(ctx.invocation_metadata())
            rid_token = context.request_id.set(context.accept_request_id(md.get("x-request-id")))
            principal_token = None
            start = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                if not public:
                    principal_token = _principal.set(self.verifier.verify_header(md.get("authorization")))
                remaining = ctx.time_remaining()
                deadline_token = context.deadline.set(None if remaining is None else time.monotonic() + remaining)
                try:
                    return inner(request, ctx)
                finally:
                    context.deadline.reset(deadline_token)
            except PyMongoError as err:
                if not err.timeout:
                    raise
                code = grpc.StatusCode.DEADLINE_EXCEEDED
                ctx.abort(code, "the deadline passed before the store answered")
            except DomainError as err:
                status = to_status(err)
                code = status.code
                ctx.abort_with_status(status)
            except Exception:
                if ctx.code() not in (None, grpc.StatusCode.OK):  # the servicer aborted on purpose
                    code = ctx.code()
                    raise
                code = grpc.StatusCode.INTERNAL
                log.exception("unhandled error", extra={"fields": {"method": method}})
                ctx.abort(grpc.StatusCode.INTERNAL, "internal error")
            finally:
                elapsed = time.perf_counter() - start
                seconds.observe(elapsed)
                metrics.GRPC_SERVER_HANDLED.labels(service, name, code.name).inc()
                if log.isEnabledFor(logging.DEBUG) or code not in (grpc.StatusCode.OK,):
                    log.log(logging.WARNING if code == grpc.StatusCode.INTERNAL else logging.INFO, "rpc",
                            extra={"fields": {"method": method, "code": code.name, "ms": round(elapsed * 1000, 2)}})
                if principal_token is not None:
                    _principal.reset(principal_token)
                context.request_id.reset(rid_token)

        return grpc.unary_unary_rpc_method_handler(
            behavior, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)


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
            options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 8 * 1024 * 1024)],
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
        if settings.server.metrics_port:
            metrics.serve_metrics(settings.server.metrics_port)
        host = build_host(settings)
    except SettingsError as err:
        sys.exit(f"crm-{name}: {err}")
    host.run_until_signalled()
