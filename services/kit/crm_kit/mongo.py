"""MongoDB client factory (works against MongoDB and FerretDB alike).

Writes use write concern `majority` with journaling; retryable writes are on
(MongoDB applies them on a replica set; FerretDB ignores what it can't do).
Every command's latency lands in `store_command_seconds`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

import pymongo
from pymongo import IndexModel, MongoClient, monitoring
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError
from pymongo.database import Database

from crm_kit import context, metrics
from crm_kit.settings import env_str, env_url


class _CommandMetrics(monitoring.CommandListener):
    def __init__(self):
        self._children: dict[str, object] = {}

    def _seconds(self, command: str):
        child = self._children.get(command)
        if child is None:
            child = self._children[command] = metrics.STORE_SECONDS.labels("mongodb", command)
        return child

    def started(self, event):
        pass

    def succeeded(self, event):
        self._seconds(event.command_name).observe(event.duration_micros / 1e6)

    def failed(self, event):
        self._seconds(event.command_name).observe(event.duration_micros / 1e6)
        metrics.STORE_FAILED.labels("mongodb", event.command_name).inc()


def connect(uri: str, app_name: str) -> MongoClient:
    return MongoClient(
        uri, appname=app_name, w="majority", journal=True, retryWrites=True, tz_aware=True,
        serverSelectionTimeoutMS=5000, connectTimeoutMS=3000, socketTimeoutMS=10000,
        maxPoolSize=64, event_listeners=[_CommandMetrics()],
    )


@contextmanager
def within_caller_deadline():
    """Give up a long read when the gRPC caller has (no scan running on for
    an answer nobody waits for). Only for reads: a write that a revision
    claim promised must land whatever the caller does."""
    deadline = context.deadline.get()
    remaining = None if deadline is None else deadline - time.monotonic()
    if remaining is None or remaining > 3600:
        yield
        return
    with pymongo.timeout(max(remaining, 0.001)):
        yield


def ensure_indexes(db: Database, indexes: dict[str, list[IndexModel]]) -> None:
    """Create the indexes a service declares in code; a no-op when present."""
    for collection, models in indexes.items():
        # One index per command: FerretDB v1.24 drops the connection (a panic
        # in its createIndexes) when a multi-index command meets existing indexes.
        for model in models:
            db[collection].create_indexes([model])


@dataclass(frozen=True)
class MongoSettings:
    uri: str
    database: str

    @classmethod
    def from_env(cls, service: str) -> "MongoSettings":
        prefix = service.upper()
        return cls(
            uri=env_url(f"{prefix}_MONGODB_URI", "mongodb://127.0.0.1:27017/", schemes=("mongodb", "mongodb+srv")),
            database=env_str(f"{prefix}_MONGODB_DATABASE", f"crm_{service}"),
        )

    def open(self, app_name: str) -> Database:
        return connect(self.uri, app_name)[self.database]


@dataclass(frozen=True)
class MongoServiceSettings:
    """What a service backed by one MongoDB database needs to start."""

    server: "ServerSettings"
    store: MongoSettings

    @classmethod
    def from_env(cls, service: str, default_port: int, default_metrics_port: int) -> "MongoServiceSettings":
        from crm_kit.grpc_server import ServerSettings

        return cls(ServerSettings.from_env(service, default_port, default_metrics_port), MongoSettings.from_env(service))


DUPLICATE_KEY = 11000


def duplicate_positions(err: BulkWriteError) -> set[int]:
    """Indexes (in the batch sent) of the writes a bulk insert refused as
    duplicate `_id`s or unique keys; any other write error is re-raised."""
    positions = set()
    for write_error in err.details.get("writeErrors", []):
        if write_error.get("code") != DUPLICATE_KEY:
            raise err
        positions.add(write_error["index"])
    return positions


# Ids per `$in` read: FerretDB (patched, see tools/build-ferretdb.sh) pushes down at most 1,000.
IDS_PER_READ = 1000


def find_by_ids(collection: Collection, ids: Iterable[str]) -> dict[str, dict]:
    """The documents with these `_id`s, by `_id` (missing ones absent), in
    one read per IDS_PER_READ ids. On MongoDB the `_id` index serves it; on
    FerretDB's SQLite back end only with the patch the platform builds it
    with (tools/ferretdb-sqlite-id-in.patch; unpatched it is a table scan)."""
    wanted = list(dict.fromkeys(ids))
    if len(wanted) == 1:  # a lone equality needs no patch
        doc = collection.find_one({"_id": wanted[0]})
        return {doc["_id"]: doc} if doc else {}
    found: dict[str, dict] = {}
    for i in range(0, len(wanted), IDS_PER_READ):
        found.update((doc["_id"], doc) for doc in collection.find({"_id": {"$in": wanted[i:i + IDS_PER_READ]}}))
    return found


def pinged_host(settings: MongoServiceSettings, service_name: str, add_servicer, servicer):
    """A ServiceHost for a Mongo-backed service, its store pinged first (a
    wrong URI fails at start-up, not on the first call)."""
    from crm_kit.grpc_server import ServiceHost

    settings.store.open(f"crm-{settings.server.name}").command("ping")
    return ServiceHost(settings.server, [service_name], lambda server: add_servicer(servicer, server))
