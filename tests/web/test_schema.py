"""The OpenAPI schema of the web chat's JSON endpoints, fuzzed with schemathesis: no 5xx,
answers as documented. Half of the generated requests carry a valid session id, so the
fuzzing reaches the conversation and not only the session check."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import REQUIRE_SERVICES

try:
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        response_schema_conformance,
        status_code_conformance,
    )
except ImportError:  # CI (HOTLINE_REQUIRE_SERVICES=1) must have it: fail, do not skip
    if REQUIRE_SERVICES:
        raise
    pytest.skip("schemathesis is not installed", allow_module_level=True)

EXAMPLES = 40


def _operations(live):
    schema = schemathesis.openapi.from_url(live.url + "/openapi.json")
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/api/chat"):
            found.append(operation)
    return found


def test_openapi_lists_the_chat_endpoints(live):
    paths = {op.path for op in _operations(live)}
    assert {"/api/chat/start", "/api/chat/event", "/api/chat/poll", "/api/chat/exit"} <= paths
    document = httpx.get(live.url + "/openapi.json").json()
    assert not any(path.startswith("/focal") for path in document["paths"])  # HTML, not API


def test_chat_api_never_answers_5xx(live):
    session = httpx.post(live.url + "/api/chat/start", json={"lang": "en"}).json()["session"]
    for operation in _operations(live):
        _fuzz(live, operation, session)


def _fuzz(live, operation, session: str) -> None:
    @given(case=operation.as_strategy(), real_session=st.booleans())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case, real_session):
        if real_session and "/start" not in operation.path:
            case.headers = {**(case.headers or {}), "X-Session": session}
        if operation.path == "/api/chat/poll" and case.query:
            case.query = {**case.query, "wait": 0}  # no 25 s holds while fuzzing
        response = case.call(base_url=live.url)
        assert response.status_code < 500, (operation.path, response.status_code)
        if response.status_code < 400:  # 401/415/429 are not in the schema by design
            case.validate_response(
                response,
                checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
            )

    run()
