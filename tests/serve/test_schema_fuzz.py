"""Schemathesis over the service's OpenAPI schema, in process (issue 13).

Every operation of :func:`medmodal.serve.app.create_app` gets generated requests
(valid and invalid bodies, forms, files); the checks: no 5xx, only documented status
codes and content types, and responses that match their schema. ``make test`` runs a
few examples per operation; ``pytest -m slow`` runs more.
"""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the service needs the 'serve' extra")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from medmodal.serve.app import create_app  # noqa: E402
from medmodal.serve.settings import Settings  # noqa: E402

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
QUICK, SLOW = 5, 200

# schemathesis's in-process client sends ``Host: testserver``; the tmp folder is pytest's.
APP = create_app(Settings(allowed_hosts=("testserver", "localhost")))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

_common = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck)}


@schema.parametrize()
@settings(max_examples=QUICK, derandomize=True, **_common)
def test_service_agrees_with_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=SLOW, **_common)
def test_service_agrees_with_its_schema_long(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
