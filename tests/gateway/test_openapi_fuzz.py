"""OpenAPI conformance fuzzing: schemathesis generates requests from
/openapi.json (valid and invalid) and checks that every answer is a
documented status, content type and body, and never a 5xx.

Excluded: "schema-valid data must be accepted". The schema cannot say which
phone numbers exist, so a well-shaped but unassigned number is rightly a 422
from the customer service's phone-number library.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.gateway.conftest import auth


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("who", [("fuzz-manager", "manager"), ("fuzz-rep", "rep")])
def test_every_operation_conforms_to_the_document(app, who):
    headers = auth(*who)
    for operation in _operations(app):
        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def check(case):
            # Our token wins over the random one generated for the security scheme.
            case.call_and_validate(headers={**(case.headers or {}), **headers},
                                   excluded_checks=[positive_data_acceptance])

        check()
