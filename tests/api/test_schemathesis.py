"""Property-based tests of the whole API from its own OpenAPI document: whatever a client
sends, the answer is never a 5xx and always matches the documented shapes and statuses.

schemathesis' pytest fixture loader does not work with pytest 9, so each operation is
driven through its Hypothesis strategy directly.
"""

from __future__ import annotations

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.test_openapi import SPEC_FILE

OPERATIONS = [
    (path, method)
    for path, item in yaml.safe_load(SPEC_FILE.read_text())["paths"].items()
    for method in item
    if method in ("get", "post", "put", "patch", "delete")
]


@pytest.mark.parametrize("path, method", OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_operation_conforms_to_its_document(app, auth, path, method):
    operation = schemathesis.openapi.from_wsgi("/openapi.json", app)[path][method.upper()]
    headers = auth("admin")

    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        # Schema-valid data may still be refused for reasons JSON Schema can't state
        # (a phone number that doesn't exist, a duplicate email), so that one check is off.
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    run()


POSTS = [(path, method) for path, method in OPERATIONS if method == "post"]


@pytest.mark.parametrize("path, method", POSTS, ids=[f"{m.upper()} {p}" for p, m in POSTS])
def test_posts_with_an_idempotency_key_conform_to_their_document(app, auth, path, method):
    """The same with `Idempotency-Key` set: its fingerprint reads the body before the view does."""
    operation = schemathesis.openapi.from_wsgi("/openapi.json", app)[path][method.upper()]
    headers = auth("admin")
    keys = iter(range(1_000_000))

    @given(case=operation.as_strategy())
    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        case.call_and_validate(
            headers={**headers, "Idempotency-Key": f"st-{path}-{next(keys)}"},
            excluded_checks=[positive_data_acceptance],
        )

    run()
