"""The simulator against GitHub's published description (github/docs copilot.json, vendored next to
the simulator): every answer's status is one the operation declares, and every success body
validates against the operation's JSON Schema. If the simulator drifts from the contract, this fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from conftest import RunningSimulator

import copilot_seats.simulator

DESCRIPTION = Path(copilot_seats.simulator.__file__).with_name("github-copilot-user-management.rest.json")
OPERATIONS = {(op["verb"].upper(), op["requestPath"]): op for op in json.loads(DESCRIPTION.read_text())}
BASIC_ERROR = {  # GitHub's components/schemas/basic-error
    "type": "object", "required": ["message", "documentation_url"],
    "properties": {"message": {"type": "string"}, "documentation_url": {"type": "string"},
                   "url": {"type": "string"}, "status": {"type": "string"}},
}
_HTTP = httpx.Client()


def nullable_one_of(schema: Any) -> Any:
    """GitHub writes "null or one of these objects" as ``type: [null, object]`` + ``oneOf``; under strict
    JSON Schema a null then fails the ``oneOf``. Rewrite it once as ``anyOf: [null, *oneOf]``."""
    if isinstance(schema, list):
        return [nullable_one_of(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: nullable_one_of(v) for k, v in schema.items()}
    if "oneOf" in out and isinstance(out.get("type"), list) and "null" in out["type"]:
        out["anyOf"] = [{"type": "null"}, *out.pop("oneOf")]
        del out["type"]
    return out


def validate_success(verb: str, path: str, response: httpx.Response) -> None:
    op = OPERATIONS[(verb, path)]
    example = op["codeExamples"][0]["response"]
    assert str(response.status_code) == example["statusCode"], response.text
    schema = nullable_one_of(example["schema"])
    jsonschema.validate(response.json(), schema, format_checker=jsonschema.FormatChecker())


def declared(verb: str, path: str) -> set[int]:
    return {int(code["httpStatusCode"]) for code in OPERATIONS[(verb, path)]["statusCodes"]}


def call(sim: RunningSimulator, verb: str, path: str, body: Any = None, token: str | None = None,
         params: dict[str, Any] | None = None) -> httpx.Response:
    return _HTTP.request(verb, sim.base_url + path, json=body, params=params,
                         headers={"Authorization": f"Bearer {token or sim.token}",
                                  "Accept": "application/vnd.github+json"})


def test_the_description_covers_the_seven_organization_operations() -> None:
    assert len(OPERATIONS) == 7


def test_nullable_one_of_rewrite_accepts_null_and_objects_only() -> None:
    schema = nullable_one_of({"type": ["null", "object"], "oneOf": [{"type": "object", "required": ["slug"]}]})
    jsonschema.validate(None, schema)
    jsonschema.validate({"slug": "x"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x"}, schema)


SUCCESSES = [
    pytest.param("GET", "/orgs/{org}/copilot/billing", "/orgs/acme/copilot/billing", None, id="O1-billing"),
    pytest.param("GET", "/orgs/{org}/copilot/billing/seats", "/orgs/acme/copilot/billing/seats", None,
                 id="O2-list-seats-team-direct-pending-and-null-assignee"),
    pytest.param("POST", "/orgs/{org}/copilot/billing/selected_teams", "/orgs/acme/copilot/billing/selected_teams",
                 {"selected_teams": ["platform"]}, id="O3-add-teams"),
    pytest.param("DELETE", "/orgs/{org}/copilot/billing/selected_teams",
                 "/orgs/acme/copilot/billing/selected_teams", {"selected_teams": ["platform"]}, id="O4-remove-teams"),
    pytest.param("POST", "/orgs/{org}/copilot/billing/selected_users", "/orgs/acme/copilot/billing/selected_users",
                 {"selected_usernames": ["frank", "erin"]}, id="O5-add-users"),
    pytest.param("DELETE", "/orgs/{org}/copilot/billing/selected_users",
                 "/orgs/acme/copilot/billing/selected_users", {"selected_usernames": ["bob"]}, id="O6-remove-users"),
    pytest.param("GET", "/orgs/{org}/members/{username}/copilot", "/orgs/acme/members/carol/copilot", None,
                 id="O7-member-seat-team-derived"),
    pytest.param("GET", "/orgs/{org}/members/{username}/copilot", "/orgs/acme/members/alice/copilot", None,
                 id="O7-member-seat-direct"),
]


@pytest.mark.parametrize(("verb", "template", "path", "body"), SUCCESSES)
def test_success_answers_match_the_published_schema(simulator: RunningSimulator, verb: str, template: str,
                                                    path: str, body: Any) -> None:
    validate_success(verb, template, call(simulator, verb, path, body))


def test_every_listing_page_matches_the_schema_after_writes(simulator: RunningSimulator) -> None:
    simulator.client().remove_teams("acme", ["platform"])
    simulator.client().remove_users("acme", ["bob"])
    for page in (1, 2, 3):
        response = call(simulator, "GET", "/orgs/acme/copilot/billing/seats", params={"per_page": 3, "page": page})
        validate_success("GET", "/orgs/{org}/copilot/billing/seats", response)


def test_enterprise_listing_matches_the_organization_listing_schema(simulator: RunningSimulator) -> None:
    response = call(simulator, "GET", "/enterprises/acme-ent/copilot/billing/seats")
    validate_success("GET", "/orgs/{org}/copilot/billing/seats", response)  # same wrapper and seat schema


ERRORS = [
    pytest.param("GET", "/orgs/{org}/copilot/billing", "/orgs/nope/copilot/billing", None, None, 404,
                 id="O1-404-unknown-org"),
    pytest.param("GET", "/orgs/{org}/copilot/billing/seats", "/orgs/acme/copilot/billing/seats", None, "bad", 401,
                 id="O2-401-bad-credentials"),
    pytest.param("POST", "/orgs/{org}/copilot/billing/selected_users", "/orgs/allorg/copilot/billing/selected_users",
                 {"selected_usernames": ["zed"]}, None, 422, id="O5-422-assign-all"),
    pytest.param("DELETE", "/orgs/{org}/copilot/billing/selected_users",
                 "/orgs/acme/copilot/billing/selected_users", {"selected_usernames": ["carol"]}, None, 422,
                 id="O6-422-team-derived-seat"),
    pytest.param("POST", "/orgs/{org}/copilot/billing/selected_teams", "/orgs/allorg/copilot/billing/selected_teams",
                 {"selected_teams": ["x"]}, None, 422, id="O3-422-assign-all"),
    pytest.param("DELETE", "/orgs/{org}/copilot/billing/selected_teams",
                 "/orgs/acme/copilot/billing/selected_teams", {"selected_teams": ["platform"]},
                 "ghp_readOnlyToken000", 403, id="O4-403-read-only-token"),
    pytest.param("GET", "/orgs/{org}/members/{username}/copilot", "/orgs/acme/members/stranger/copilot", None,
                 None, 404, id="O7-404-non-member"),
]


@pytest.mark.parametrize(("verb", "template", "path", "body", "token", "status"), ERRORS)
def test_error_answers_use_declared_statuses_and_githubs_error_shape(
        simulator: RunningSimulator, verb: str, template: str, path: str, body: Any, token: str | None,
        status: int) -> None:
    response = call(simulator, verb, path, body, token=token)
    assert response.status_code == status
    assert status in declared(verb, template)
    jsonschema.validate(response.json(), BASIC_ERROR)


def test_injected_server_error_is_a_declared_status(simulator: RunningSimulator) -> None:
    simulator.state.inject(status=500)
    response = call(simulator, "GET", "/orgs/acme/copilot/billing")
    assert response.status_code in declared("GET", "/orgs/{org}/copilot/billing")
    jsonschema.validate(response.json(), BASIC_ERROR)


# -- rate limits: the headers GitHub documents for each kind -----------------------------------
# GitHub ("Rate limits for the REST API", "Best practices"): a *primary* limit answers 403 or 429
# with x-ratelimit-remaining: 0 and x-ratelimit-reset (and no retry-after); a *secondary* limit
# answers 403 or 429, may carry retry-after, and leaves x-ratelimit-remaining as it is.

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset",
                "x-ratelimit-resource")


@pytest.mark.parametrize("status", [403, 429])
def test_injected_primary_limit_sends_remaining_zero_and_a_near_reset(simulator: RunningSimulator,
                                                                     status: int) -> None:
    import time

    simulator.state.inject(status=status, primary=True, reset_in=42)
    response = call(simulator, "GET", "/orgs/acme/copilot/billing")
    assert response.status_code == status
    assert all(h in response.headers for h in RATE_HEADERS)
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["x-ratelimit-used"] == response.headers["x-ratelimit-limit"]
    assert 0 < int(response.headers["x-ratelimit-reset"]) - time.time() <= 43
    assert "retry-after" not in response.headers
    assert "rate limit" in response.json()["message"].lower()


@pytest.mark.parametrize("retry_after", [None, 7])
def test_injected_secondary_limit_keeps_the_budget_and_sends_retry_after_when_asked(
        simulator: RunningSimulator, retry_after: int | None) -> None:
    simulator.state.inject(status=403, retry_after=retry_after)
    response = call(simulator, "GET", "/orgs/acme/copilot/billing")
    assert response.status_code == 403
    assert int(response.headers["x-ratelimit-remaining"]) > 0
    assert response.headers.get("retry-after") == (None if retry_after is None else str(retry_after))
    assert "secondary rate limit" in response.json()["message"]


def test_exhausted_budget_answers_like_a_primary_limit(simulator: RunningSimulator) -> None:
    simulator.state.rate_limit.configure(limit=5000, remaining=0)
    response = call(simulator, "GET", "/orgs/acme/copilot/billing")
    assert response.status_code == 403 and response.headers["x-ratelimit-remaining"] == "0"
    assert "retry-after" not in response.headers


def test_client_takes_the_primary_path_for_a_primary_fault(simulator: RunningSimulator) -> None:
    """Our client waits until x-ratelimit-reset for a primary limit (not the 60 s secondary wait)."""
    waits: list[float] = []
    client = simulator.client(sleep=waits.append)
    simulator.state.inject(status=403, primary=True, reset_in=30)
    client.get_billing("acme")
    assert len(waits) == 1 and 0 < waits[0] <= 31


def test_client_takes_the_secondary_path_for_a_secondary_fault(simulator: RunningSimulator) -> None:
    from copilot_seats import defaults

    waits: list[float] = []
    client = simulator.client(sleep=waits.append)
    simulator.state.inject(status=403)
    client.get_billing("acme")
    assert waits == [defaults.SECONDARY_LIMIT_WAIT_SECONDS]


def test_organization_endpoint_serves_the_org_and_404s_unknown_ones(simulator: RunningSimulator) -> None:
    found = call(simulator, "GET", "/orgs/ACME")
    assert found.status_code == 200
    assert found.json()["login"] == "acme" and found.json()["type"] == "Organization"
    missing = call(simulator, "GET", "/orgs/nope")
    assert missing.status_code == 404
    jsonschema.validate(missing.json(), BASIC_ERROR)
