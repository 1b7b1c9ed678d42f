"""api: requests, pagination, batching, read-only mode, error mapping (fake transport, no network)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from copilot_seats import defaults
from copilot_seats.errors import (
    ApiError,
    ApiStatusError,
    AuthError,
    CredentialsError,
    GuardError,
    NotFoundError,
    UnprocessableError,
)
from copilot_seats.github import api
from copilot_seats.github.api import CopilotClient, client_from_env

TOKEN = "fake-super-secret-token-123456"
BASE = "https://api.example.test"

Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler, **options: object) -> tuple[CopilotClient, list[httpx.Request], list[float]]:
    seen: list[httpx.Request] = []
    slept: list[float] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    options.setdefault("write_spacing", 0)
    client = CopilotClient(BASE, TOKEN, transport=httpx.MockTransport(record), sleep=slept.append,
                           **options)  # type: ignore[arg-type]
    return client, seen, slept


def seat(login: str) -> dict[str, object]:
    return {"created_at": "2025-01-01T00:00:00Z", "assignee": {"login": login}}


def test_module_exports_are_pinned() -> None:
    assert sorted(api.__all__) == ["CopilotClient", "PageProgress", "SeatPage", "WriteResult", "client_from_env"]


def test_every_request_sends_github_headers() -> None:
    client, seen, _ = make(lambda r: httpx.Response(200, json={"seat_breakdown": {}}))
    client.get_billing("acme")
    request = seen[0]
    assert request.url == f"{BASE}/orgs/acme/copilot/billing"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == defaults.API_VERSION
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_list_seats_asks_for_100_per_page_and_follows_link_next() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        seats = [seat(f"u{page}-{i}") for i in range(100 if page < 3 else 5)]
        headers = {"Link": f'<{BASE}/orgs/acme/copilot/billing/seats?per_page=100&page={page + 1}>; rel="next"'} \
            if page < 3 else {}
        return httpx.Response(200, json={"total_seats": 205, "seats": seats}, headers=headers)

    client, seen, _ = make(handler)
    progress: list[tuple[int, int, int | None]] = []
    seats = client.list_seats("acme", on_page=lambda *a: progress.append(a))
    assert len(seats) == 205 and len(seen) == 3
    assert seen[0].url.params["per_page"] == "100"
    assert progress == [(1, 100, 205), (2, 200, 205), (3, 205, 205)]


def test_list_seats_refuses_to_follow_a_link_to_another_origin() -> None:
    client, _, _ = make(lambda r: httpx.Response(
        200, json={"seats": [seat("a")]}, headers={"Link": '<https://evil.test/steal?page=2>; rel="next"'}))
    with pytest.raises(ApiError, match="another origin"):
        client.list_seats("acme")


def test_enterprise_listing_deduplicates_logins_case_insensitively() -> None:
    payload = {"total_seats": 2, "seats": [seat("Alice"), seat("alice"), seat("bob"),
                                           {"created_at": "2025-01-01T00:00:00Z", "assignee": None}]}
    client, seen, _ = make(lambda r: httpx.Response(200, json=payload))
    seats = client.list_enterprise_seats("ent")
    assert [s["assignee"] and s["assignee"]["login"] for s in seats] == ["Alice", "bob", None]
    assert seen[0].url.path == "/enterprises/ent/copilot/billing/seats"


def test_member_seat_accepts_the_documented_wrapped_shape() -> None:
    client, _, _ = make(lambda r: httpx.Response(200, json={"total_seats": 1, "seats": [seat("a")]}))
    assert client.get_member_seat("acme", "a")["assignee"] == {"login": "a"}


def test_writes_are_batched_deduplicated_and_counted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        names = json.loads(request.content)["selected_usernames"]
        return httpx.Response(201, json={"seats_created": len(names)})

    client, seen, _ = make(handler, batch_size=2)
    result = client.add_users("acme", ["a", "b", "c", "a", "d", "e"])
    assert result.ok and result.count == 5
    assert [json.loads(r.content)["selected_usernames"] for r in seen] == [["a", "b"], ["c", "d"], ["e"]]
    assert {r.method for r in seen} == {"POST"}


@pytest.mark.parametrize(
    ("method_name", "verb", "path", "field"),
    [pytest.param("add_users", "POST", "selected_users", "selected_usernames", id="add-users"),
     pytest.param("remove_users", "DELETE", "selected_users", "selected_usernames", id="remove-users"),
     pytest.param("add_teams", "POST", "selected_teams", "selected_teams", id="add-teams"),
     pytest.param("remove_teams", "DELETE", "selected_teams", "selected_teams", id="remove-teams")],
)
def test_write_endpoints(method_name: str, verb: str, path: str, field: str) -> None:
    key = "seats_created" if verb == "POST" else "seats_cancelled"
    client, seen, _ = make(lambda r: httpx.Response(201 if verb == "POST" else 200, json={key: 3}))
    assert getattr(client, method_name)("acme", ["x"]).count == 3
    assert seen[0].method == verb and seen[0].url.path == f"/orgs/acme/copilot/billing/{path}"
    assert json.loads(seen[0].content) == {field: ["x"]}


def test_failed_batches_are_collected_and_the_rest_still_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        names = json.loads(request.content)["selected_usernames"]
        if "bad" in names:
            return httpx.Response(422, json={"message": "Validation Failed"})
        return httpx.Response(200, json={"seats_cancelled": len(names)})

    client, seen, _ = make(handler, batch_size=1)
    result = client.remove_users("acme", ["a", "bad", "c"])
    assert len(seen) == 3 and result.count == 2 and not result.ok
    assert result.errors[0][0] == ("bad",)
    with pytest.raises(UnprocessableError):
        result.raise_for_errors()


def test_read_only_client_refuses_every_write_before_sending() -> None:
    client, seen, _ = make(lambda r: httpx.Response(201, json={}), read_only=True)
    for method in (client.add_users, client.remove_users, client.add_teams, client.remove_teams):
        with pytest.raises(GuardError, match="read-only"):
            method("acme", ["x"])
    assert seen == []


def test_writes_are_spaced_as_configured() -> None:
    client, _, slept = make(lambda r: httpx.Response(201, json={"seats_created": 1}),
                            write_spacing=1.0, batch_size=1)
    client.add_users("acme", ["a", "b", "c"])
    assert len(slept) == 2 and all(0.9 < s <= 1.0 for s in slept)


@pytest.mark.parametrize(
    ("status", "method", "error", "hint"),
    [
        pytest.param(401, "get_billing", AuthError, "manage_billing:copilot", id="401-names-scopes"),
        pytest.param(403, "get_billing", AuthError, "read:org", id="403-read-names-read-scopes"),
        pytest.param(403, "add_users", AuthError, "admin:org", id="403-write-names-write-scopes"),
        pytest.param(404, "get_billing", NotFoundError, "owner", id="404-org-not-found-or-no-access"),
        pytest.param(422, "add_users", UnprocessableError, "assign_selected", id="422-setting"),
        pytest.param(418, "get_billing", ApiStatusError, "unexpected", id="other-status"),
    ],
)
def test_error_statuses_map_to_typed_actionable_errors(status: int, method: str, error: type[Exception],
                                                       hint: str) -> None:
    client, _, _ = make(lambda r: httpx.Response(status, json={"message": "nope",
                                                               "documentation_url": "https://docs"}))
    call = getattr(client, method)
    with pytest.raises(error, match=hint) as info:
        result = call("acme", ["x"]) if method == "add_users" else call("acme")
        result.raise_for_errors()
    assert isinstance(info.value, ApiStatusError) and info.value.status == status
    assert info.value.documentation_url == "https://docs"


def test_422_for_team_derived_seat_explains_team_removal() -> None:
    client, _, _ = make(lambda r: httpx.Response(422, json={
        "message": "A user's seat cannot be cancelled because it was assigned to them via a team."}))
    with pytest.raises(UnprocessableError, match="remove the team grant"):
        client.remove_users("acme", ["carol"]).raise_for_errors()


def test_client_from_env_reads_token_and_api_url() -> None:
    client = client_from_env({"GITHUB_TOKEN": " t ", "GITHUB_API_URL": "https://api.x.ghe.com/"})
    assert client.base_url == "https://api.x.ghe.com"
    assert client_from_env({"GITHUB_TOKEN": "t"}).base_url == defaults.DEFAULT_BASE_URL
    with pytest.raises(CredentialsError, match="GITHUB_TOKEN is not set"):
        client_from_env({})


def test_token_never_appears_in_repr_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # a server that echoes the credential
        return httpx.Response(401, json={"message": f"Bad credentials {request.headers['Authorization']}"})

    caplog.set_level("DEBUG")
    client, _, _ = make(handler)
    with pytest.raises(AuthError) as info:
        client.get_billing("acme")
    texts = [str(info.value), repr(info.value), info.value.message, repr(client), caplog.text]
    assert all(TOKEN not in text for text in texts)
    assert "***" in info.value.message
    assert any(r.name == "copilot_seats.github.api" for r in caplog.records)
