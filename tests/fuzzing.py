"""Schemathesis against a service's own OpenAPI schema, in-process over the real database and
broker: every operation gets cases generated from its schema (valid and invalid), sent with
the caller's headers; no answer may be a 5xx, and every answer must match the schema.

The number of cases per service is `FUZZ_CASES` (environment), spread over its operations:
`make test` runs a short round, `make test-fuzz` at least 1,000 per service.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import schemathesis
import schemathesis.specs.openapi.schemas  # see the note below the imports
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import HypothesisDeprecationWarning, Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import response_schema_conformance

# schemathesis.specs.openapi.schemas is loaded above, at collection time: schemathesis imports it
# lazily inside `from_dict`, deep in a test's stack, where pytest's assertion rewriting
# (schemathesis is a pytest plugin) runs ast.parse and CPython 3.11.7 can fail with
# "AST constructor recursion depth mismatch".

SHORT_CASES = 120  # per service, inside `make test`
MAX_ROUNDS = 20
CHECKS = [not_a_server_error, response_schema_conformance]


def cases_per_service(default: int = SHORT_CASES) -> int:
    return int(os.environ.get("FUZZ_CASES", default))


@dataclass
class Report:
    service: str
    cases: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.by_status.items()))
        return (
            f"fuzz {self.service}: {self.cases} cases ({statuses}), {len(self.failures)} failures"
        )


def _request(case: Case[Any], headers: Mapping[str, str]) -> dict[str, Any]:
    """The case as keyword arguments of the test client (httpx's names, not requests')."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=dict(headers))
    cookies = kwargs.pop("cookies", None) or {}
    if cookies:  # per-request cookies are deprecated in httpx: send them as a header
        kwargs["headers"] = {
            **(kwargs.get("headers") or {}),
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        }
    files = kwargs.get("files")
    if files:  # a generated part may be a number or text, where httpx wants bytes
        kwargs["files"] = [(name, _file_part(part)) for name, part in _pairs(files)]
    data = kwargs.pop("data", None)
    if isinstance(data, bytes | str):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    return kwargs


def _pairs(files: Any) -> list[tuple[str, Any]]:
    return list(files.items()) if isinstance(files, dict) else list(files)


def _file_part(part: Any) -> Any:
    if isinstance(part, tuple):
        name, content, *rest = part
        return (name, _as_bytes(content), *rest)
    return _as_bytes(part)


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def fuzz(
    client: TestClient,
    service: str,
    *,
    cases: int,
    headers_for: Callable[[str, str], Mapping[str, str]] = lambda method, path: {},
    prepare: Callable[[Case[Any]], None] = lambda case: None,
    skip: Callable[[str, str], bool] = lambda method, path: False,
) -> Report:
    """Run `cases` cases over the service's operations (at least 5 each) and report."""
    raw = client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise AssertionError(f"{service}: the schema does not load: {result.err()}")
        operation = result.ok()
        # Readiness answers for the brokers, not for its input (Kafka is off in some tests).
        if operation.path != "/readyz" and not skip(operation.method, operation.path):
            operations.append(operation)
    report = Report(service)
    per_operation = max(5, cases // max(1, len(operations)))
    # Rounds with other seeds until the service got its cases: an operation with few
    # distinct inputs (an enum) runs out of new ones within a round.
    for round_ in range(MAX_ROUNDS):
        for operation in operations:
            _fuzz_operation(client, operation, report, per_operation, headers_for, prepare, round_)
        if report.cases >= cases:
            break
    return report


def _fuzz_operation(
    client: TestClient,
    operation: Any,
    report: Report,
    examples: int,
    headers_for: Callable[[str, str], Mapping[str, str]],
    prepare: Callable[[Case[Any]], None],
    round_: int,
) -> None:
    headers = headers_for(operation.method, operation.path)

    @seed(round_)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def send(case: Case[Any]) -> None:
        prepare(case)
        response = client.request(**_request(case, headers))
        report.cases += 1
        report.by_status[response.status_code] = report.by_status.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as exc:
            first = str(exc).strip().splitlines()[:6]
            report.failures.append(
                f"{case.method} {case.formatted_path} -> {response.status_code}: "
                + " | ".join(first)
            )

    try:
        with warnings.catch_warnings():
            # schemathesis' own strategies draw from `random`, which hypothesis deprecates.
            warnings.simplefilter("ignore", HypothesisDeprecationWarning)
            send()
    except Unsatisfiable:
        report.failures.append(f"{operation.method} {operation.path}: no case generated")
