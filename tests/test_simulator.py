"""simulator: GitHub's seat semantics, pagination, auth, rate limits, faults, request log, state file.

Raw HTTP (httpx) where the wire matters; the real CopilotClient where client+simulator matter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SMALL_FIXTURE, RunningSimulator

from copilot_seats import simulator as simulator_pkg
from copilot_seats.errors import AuthError, RateLimitError, UnprocessableError
from copilot_seats.github.live import fetch_snapshot
from copilot_seats.simulator import DEMO_FIXTURE, load_fixture, read_fixture
from copilot_seats.simulator.make_demo import DOUBLE_GRANTED, MISSING, PENDING, build_demo

SEATS = "/orgs/acme/copilot/billing/seats"
_HTTP = httpx.Client()  # one client: creating one per request costs ~50 ms of TLS setup


def http(sim: RunningSimulator, method: str, path: str, token: str | None = "default",
         **kwargs: Any) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {sim.token if token == 'default' else token}"}
    return _HTTP.request(method, sim.base_url + path, headers=headers, **kwargs)


def logins(sim: RunningSimulator) -> dict[str, dict[str, Any]]:
    seats = http(sim, "GET", SEATS, params={"per_page": 100}).json()["seats"]
    return {s["assignee"]["login"].casefold(): s for s in seats if s["assignee"]}


def test_package_exports_are_pinned() -> None:
    assert sorted(simulator_pkg.__all__) == [
        "DEMO_FIXTURE", "Fault", "RateLimit", "RequestLog", "RequestRecord", "SimError", "SimState",
        "SimulatorServer", "dump_state", "load_fixture", "read_fixture"]


@pytest.mark.parametrize(
    ("params", "count", "link_rels"),
    [
        pytest.param({}, 7, set(), id="default-per-page-50-fits-one-page"),
        pytest.param({"per_page": 3}, 3, {"next", "last"}, id="first-page-has-next-and-last"),
        pytest.param({"per_page": 3, "page": 2}, 3, {"next", "last", "prev", "first"}, id="middle-page"),
        pytest.param({"per_page": 3, "page": 3}, 1, {"prev", "first"}, id="last-page-has-no-next"),
        pytest.param({"per_page": 500}, 7, set(), id="per-page-capped-at-100"),
    ],
)
def test_listing_paginates_with_link_headers(simulator: RunningSimulator, params: dict[str, int], count: int,
                                             link_rels: set[str]) -> None:
    response = http(simulator, "GET", SEATS, params=params)
    assert response.status_code == 200 and response.json()["total_seats"] == 7
    assert len(response.json()["seats"]) == count
    assert set(response.links) == link_rels


def test_default_page_size_is_50_not_100(make_simulator: Any) -> None:
    sim = make_simulator({"organizations": [{"login": "acme", "seats": [
        {"login": f"u{i}", "created_at": {"days_ago": 1}} for i in range(120)]}]})
    first = http(sim, "GET", SEATS)
    assert len(first.json()["seats"]) == 50
    assert "per_page=50&page=2" in first.links["next"]["url"]


def test_revoking_sets_pending_cancellation_and_keeps_the_seat_listed(simulator: RunningSimulator) -> None:
    result = simulator.client().remove_users("acme", ["bob"])
    assert result.count == 1
    bob = logins(simulator)["bob"]
    assert bob["pending_cancellation_date"] is not None


def test_granting_a_pending_seat_restores_it(simulator: RunningSimulator) -> None:
    assert simulator.client().add_users("acme", ["erin"]).count == 1
    assert logins(simulator)["erin"]["pending_cancellation_date"] is None


def test_granting_a_team_creates_team_derived_seats_for_members(make_simulator: Any) -> None:
    sim = make_simulator({"organizations": [{"login": "acme", "members": ["a", "b"],
                                             "teams": [{"slug": "Squad", "members": ["a", "b"]}]}]})
    assert sim.client().add_teams("acme", ["squad"]).count == 2
    seats = logins(sim)
    assert {s["assigning_team"]["slug"] for s in seats.values()} == {"Squad"}
    assert sim.client().remove_teams("acme", ["squad"]).count == 2
    assert all(s["pending_cancellation_date"] for s in logins(sim).values())


def test_direct_revoke_of_double_granted_seat_keeps_access_through_the_team(simulator: RunningSimulator) -> None:
    assert simulator.client().remove_users("acme", ["dave"]).count == 0
    dave = logins(simulator)["dave"]
    assert dave["pending_cancellation_date"] is None and dave["assigning_team"]["slug"] == "platform"


@pytest.mark.parametrize(
    ("org", "call", "names", "match"),
    [
        pytest.param("allorg", "add_users", ["zed"], "all users", id="grant-under-assign-all"),
        pytest.param("allorg", "remove_users", ["zed"], "all users", id="revoke-under-assign-all"),
        pytest.param("allorg", "add_teams", ["x"], "all users", id="team-grant-under-assign-all"),
        pytest.param("acme", "remove_users", ["carol"], "via a team", id="revoke-team-derived-seat-per-user"),
        pytest.param("acme", "add_users", ["stranger"], "not members", id="grant-non-member"),
        pytest.param("acme", "add_teams", ["nope"], "does not exist", id="grant-unknown-team"),
    ],
)
def test_refused_writes_answer_422_and_change_nothing(simulator: RunningSimulator, org: str, call: str,
                                                     names: list[str], match: str) -> None:
    before = json.dumps(http(simulator, "GET", "/_simulator/state").json(), sort_keys=True)
    with pytest.raises(UnprocessableError, match=match):
        getattr(simulator.client(), call)(org, names).raise_for_errors()
    assert json.dumps(http(simulator, "GET", "/_simulator/state").json(), sort_keys=True) == before


def test_empty_name_list_is_422(simulator: RunningSimulator) -> None:
    response = http(simulator, "POST", "/orgs/acme/copilot/billing/selected_users",
                    json={"selected_usernames": []})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("path", "status"),
    [pytest.param("/orgs/nope/copilot/billing", 404, id="unknown-org"),
     pytest.param("/orgs/acme/members/stranger/copilot", 404, id="non-member"),
     pytest.param("/orgs/acme/members/frank/copilot", 404, id="member-without-seat"),
     pytest.param("/orgs/acme/members/CAROL/copilot", 200, id="member-lookup-is-case-insensitive"),
     pytest.param("/enterprises/nope/copilot/billing/seats", 404, id="unknown-enterprise"),
     pytest.param("/orgs/acme/unknown", 404, id="unknown-route")],
)
def test_lookups(simulator: RunningSimulator, path: str, status: int) -> None:
    assert http(simulator, "GET", path).status_code == status


@pytest.mark.parametrize(
    ("token", "message"),
    [pytest.param(None, "Requires authentication", id="missing-token"),
     pytest.param("wrong", "Bad credentials", id="bad-token")],
)
def test_token_check_answers_401_in_githubs_shape(simulator: RunningSimulator, token: str | None,
                                                  message: str) -> None:
    response = http(simulator, "GET", "/orgs/acme/copilot/billing", token=token)
    assert response.status_code == 401
    assert response.json()["message"] == message and "documentation_url" in response.json()


def test_read_only_token_gets_403_on_writes(simulator: RunningSimulator) -> None:
    client = simulator.client(token="ghp_readOnlyToken000")
    assert client.get_billing("acme")
    with pytest.raises(AuthError, match="admin:org"):
        client.add_users("acme", ["frank"]).raise_for_errors()


def test_every_answer_carries_rate_limit_headers(simulator: RunningSimulator) -> None:
    response = http(simulator, "GET", "/orgs/acme/copilot/billing")
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used"} <= set(
        response.headers)


def test_exhausted_budget_answers_403_with_remaining_zero(simulator: RunningSimulator) -> None:
    simulator.state.rate_limit.configure(limit=5000, remaining=1)
    assert http(simulator, "GET", "/orgs/acme/copilot/billing").status_code == 200
    limited = http(simulator, "GET", "/orgs/acme/copilot/billing")
    assert limited.status_code == 403 and limited.headers["x-ratelimit-remaining"] == "0"
    with pytest.raises(RateLimitError):
        simulator.client(max_rate_limit_wait=1).get_billing("acme")


@pytest.mark.parametrize(
    ("fault", "slept"),
    [pytest.param({"status": 429, "retry_after": 2}, [2.0], id="429-retry-after"),
     pytest.param({"status": 403, "retry_after": 1}, [1.0], id="secondary-403-retry-after"),
     pytest.param({"status": 502, "times": 2}, [0.0, 0.0], id="5xx-twice-then-success"),
     pytest.param({"status": 0, "latency": 0.05}, [], id="latency-only")],
)
def test_client_rides_out_injected_faults(simulator: RunningSimulator, fault: dict[str, Any],
                                          slept: list[float]) -> None:
    waits: list[float] = []
    simulator.state.inject(**fault)
    snap = fetch_snapshot(simulator.client(sleep=waits.append), "acme")
    assert len(snap.seats) == 6 and waits == slept


def test_faults_can_be_queued_over_http_and_target_a_path(simulator: RunningSimulator) -> None:
    assert http(simulator, "POST", "/_simulator/faults", json={"status": 500, "path": "/seats"}).status_code == 201
    assert http(simulator, "GET", "/orgs/acme/copilot/billing").status_code == 200
    assert http(simulator, "GET", SEATS).status_code == 500
    assert http(simulator, "GET", SEATS).status_code == 200


def test_request_log_records_api_requests_but_not_admin_ones(simulator: RunningSimulator) -> None:
    fetch_snapshot(simulator.client(), "acme")
    log = http(simulator, "GET", "/_simulator/requests").json()
    assert [(r["method"], r["path"], r["query"], r["status"]) for r in log] == [
        ("GET", "/orgs/acme/copilot/billing", "", 200), ("GET", SEATS, "per_page=100", 200)]
    assert simulator.writes == []
    assert http(simulator, "DELETE", "/_simulator/requests").status_code == 204
    assert simulator.requests == []


def test_enterprise_listing_repeats_users_per_org_but_counts_them_once(simulator: RunningSimulator) -> None:
    body = http(simulator, "GET", "/enterprises/acme-ent/copilot/billing/seats").json()
    listed = [s["assignee"]["login"].casefold() for s in body["seats"] if s["assignee"]]
    assert listed.count("alice") == 2 and body["total_seats"] == 7
    assert {s["organization"]["login"] for s in body["seats"]} == {"acme", "labs"}
    assert len(simulator.client().list_enterprise_seats("acme-ent")) == 7


def test_end_of_cycle_drops_pending_seats(simulator: RunningSimulator) -> None:
    assert http(simulator, "POST", "/_simulator/end_cycle").json() == {"seats_removed": 1}
    assert "erin" not in logins(simulator)


def test_state_file_persists_writes_across_restarts(tmp_path: Path, make_simulator: Any) -> None:
    state_file = tmp_path / "state.json"
    first = make_simulator(state_file=state_file)
    first.client().add_users("acme", ["frank"])
    assert state_file.exists()
    second = make_simulator(read_fixture(state_file))
    assert "frank" in logins(second)


def test_relative_fixture_times_are_resolved_against_now() -> None:
    from datetime import UTC, datetime
    now = datetime(2026, 3, 1, tzinfo=UTC)
    state = load_fixture(SMALL_FIXTURE, now=now)
    assert state.orgs["acme"].seats["carol"].last_activity_at == datetime(2025, 12, 16, tzinfo=UTC)


def test_demo_fixture_is_generated_from_seats_yaml_deterministically() -> None:
    import yaml
    spec = yaml.safe_load((Path(__file__).parents[1] / "seats.yaml").read_text())
    assert build_demo(spec) == json.loads(DEMO_FIXTURE.read_text()), "re-run make_demo.py"
    org = read_fixture("demo")["organizations"][0]
    seated = {s["login"] for s in org["seats"]}
    assert 280 <= len(seated) <= 320 and not seated & set(MISSING) and set(PENDING) <= seated
    assert set(spec["teams"]) <= {t["slug"] for t in org["teams"]}
    assert any(DOUBLE_GRANTED in t["members"] for t in org["teams"])


def test_simulate_command_prints_its_url_first_and_stops_on_sigterm(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "copilot-seats"
    proc = subprocess.Popen([str(script), "simulate", "--fixture", "demo", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("SIMULATOR_URL=http://127.0.0.1:")
        url = first.split("=", 1)[1]
        response = httpx.get(f"{url}/orgs/octo-demo/copilot/billing",
                             headers={"Authorization": "Bearer simulator-token"})
        assert response.json()["seat_management_setting"] == "assign_selected"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
