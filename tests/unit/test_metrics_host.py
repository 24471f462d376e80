"""Where a service's /metrics listens (crm_kit.metrics.metrics_host)."""

from __future__ import annotations

import inspect

import pytest

from crm_kit import metrics
from crm_kit.settings import SettingsError


def test_loopback_unless_told(monkeypatch):
    monkeypatch.delenv("CUSTOMER_METRICS_HOST", raising=False)
    assert metrics.metrics_host("customer") == "127.0.0.1"
    assert inspect.signature(metrics.serve_metrics).parameters["host"].default == "127.0.0.1"


@pytest.mark.parametrize("value", ["0.0.0.0", "10.1.2.3", "::", "fd00::7"])
def test_an_ip_address_from_the_environment(monkeypatch, value):
    monkeypatch.setenv("SALES_METRICS_HOST", value)
    assert metrics.metrics_host("sales") == value


@pytest.mark.parametrize("value", ["localhost:9102", "not an address", "999.1.1.1"])
def test_anything_else_stops_start_up_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("LOYALTY_METRICS_HOST", value)
    with pytest.raises(SettingsError, match="LOYALTY_METRICS_HOST"):
        metrics.metrics_host("loyalty")


def test_a_service_with_a_bad_metrics_host_exits_with_a_message():
    import os
    import subprocess
    import sys

    env = {**os.environ, "SALES_METRICS_HOST": "everywhere", "CRM_JWT_DEV_SECRET": "s" * 40,
           "SALES_METRICS_PORT": "0", "SALES_GRPC_ADDR": "127.0.0.1:0"}
    env.pop("CRM_JWT_JWKS_FILE", None)
    done = subprocess.run([sys.executable, "-m", "crm_sales.main"], env=env, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode != 0 and "SALES_METRICS_HOST" in done.stderr
