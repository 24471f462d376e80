from __future__ import annotations

import pytest

from crm_gateway.app import create_app
from crm_kit.events.bus import EventsSettings
from crm_gateway.settings import GatewaySettings
from tests.conftest import AUTH_WITHOUT_GRANTS, token


def gateway_settings(targets: dict[str, str], redis_url: str, events_url: str = "") -> GatewaySettings:
    return GatewaySettings(targets=targets, grpc_timeout_seconds=2.0, list_timeout_seconds=5.0, max_body_bytes=64 * 1024,
                           redis_url=redis_url.rsplit("/", 1)[0] + "/1", idempotency_ttl_seconds=86400,
                           auth=AUTH_WITHOUT_GRANTS, log_level="INFO",
                           events=EventsSettings(url=events_url) if events_url else None)


@pytest.fixture(scope="session")
def app(services, stores):
    return create_app(gateway_settings(services.targets, stores.redis_url, stores.events_redis_url))


@pytest.fixture(scope="session")
def spec(app):
    """The served OpenAPI document."""
    return app.test_client().get("/openapi.json").get_json()


@pytest.fixture
def client(app):
    return app.test_client()


def auth(subject: str = "rep-a", role: str = "rep", team: str = "team-1", **kw) -> dict[str, str]:
    """Headers for a principal; everyone is in team-1 unless told otherwise."""
    return {"Authorization": f"Bearer {token(subject, role, team=team, **kw)}"}
