"""API fuzzing with schemathesis against the running app (pytest-django's live server): every
operation of the generated OpenAPI document, with generated parameters and a valid token, never
answers with a server error, and every 200 matches its documented schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from compliance.models import AuditLogEntry
from openclaw_web.api.api import api
from tests.security.planted import HOSTILE_TITLES, bearer_for, plant

pytestmark = [pytest.mark.slow]

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
MAX_EXAMPLES = 20  # per operation: ~360 requests in all


@pytest.fixture
def fuzz_target(live_server, admin_user, settings, tmp_path):
    """The live server with planted (hostile) rows and an admin's token."""
    settings.MEDIA_ROOT = tmp_path / "media"
    plant(titles=HOSTILE_TITLES[:4], opened_by=admin_user)
    return live_server.url, bearer_for(admin_user)


def _operations() -> list[object]:
    return [result.ok() for result in schema.get_all_operations()]


def test_the_fuzzer_sees_every_api_operation():
    assert len(_operations()) == len(api.get_openapi_schema()["paths"]) >= 18


# One test walks every operation so the live server's database is set up (and flushed) once,
# not once per operation: the flush dominates the cost.
def test_no_generated_request_makes_the_api_fail(fuzz_target):
    base_url, headers = fuzz_target
    failures = []
    for operation in _operations():

        @given(case=operation.as_strategy())  # type: ignore[attr-defined]
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, timeout=30,
                                   checks=[not_a_server_error, response_schema_conformance])  # fmt: skip

        try:
            fuzz()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {exc}")  # type: ignore[attr-defined]
    assert failures == [], "\n\n".join(failures)
    calls = AuditLogEntry.objects.filter(action__in=["api.call", "report.downloaded"]).count()
    assert calls >= 5 * len(_operations()), f"only {calls} calls reached the server"
