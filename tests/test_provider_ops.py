"""The providers' I/O layer against the simulator: one listing per process, idempotent writes."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import RunningSimulator

from copilot_seats.errors import UnprocessableError
from copilot_seats.provider import ops as provider_ops


@pytest.fixture
def env(simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSimulator]:
    for key, value in {**simulator.env(), "COPILOT_SEATS_WRITE_SPACING": "0"}.items():
        monkeypatch.setenv(key, value)
    provider_ops.reset_caches()
    yield simulator
    provider_ops.reset_caches()


def props(login: str) -> dict[str, str]:
    return {"organization": "acme", "login": login}


def test_concurrent_reads_share_one_listing(env: RunningSimulator) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        seen = list(pool.map(lambda login: provider_ops.observe_user(props(login)),
                             ["Alice", "bob", "carol", "erin", "ghost"] * 4))
    assert len(env.requests) == 2  # billing + one page, whatever the number of resources
    assert seen[0] is not None and seen[0]["last_activity_editor"].startswith("vscode")
    assert seen[3] is None  # erin: pending cancellation counts as gone
    assert seen[4] is None  # ghost: no seat


def test_observe_team_counts_active_seats_through_the_team(env: RunningSimulator) -> None:
    assert provider_ops.observe_team({"organization": "acme", "team": "platform"}) == {"live": True, "live_seats": 2}
    assert provider_ops.observe_team({"organization": "acme", "team": "empty-team"}) is None


def test_revoking_a_seat_that_is_gone_or_pending_succeeds(env: RunningSimulator) -> None:
    provider_ops.revoke_users(props("erin"), ["erin"])   # already pending
    provider_ops.revoke_users(props("frank"), ["frank"])  # member without a seat
    provider_ops.revoke_users(props("bob"), ["bob"])
    bob = [s for s in env.client().list_seats("acme") if s["assignee"] and s["assignee"]["login"] == "bob"]
    assert bob[0]["pending_cancellation_date"] is not None


def test_cancelling_the_direct_grant_of_a_team_only_seat_succeeds_and_keeps_the_seat(env: RunningSimulator) -> None:
    provider_ops.revoke_users(props("carol"), ["carol", "bob"])  # the batch 422s for carol
    seats = {s["assignee"]["login"]: s for s in env.client().list_seats("acme") if s["assignee"]}
    assert seats["carol"]["pending_cancellation_date"] is None  # still seated through platform
    assert seats["bob"]["pending_cancellation_date"] is not None


def test_a_seat_is_revoked_at_most_once_per_process(env: RunningSimulator) -> None:
    provider_ops.revoke_users(props("bob"), ["bob"])
    provider_ops.revoke_users(props("bob"), ["BOB"])
    assert len([w for w in env.writes if w.method == "DELETE"]) == 1


def test_a_seat_granted_again_can_be_revoked_again(env: RunningSimulator) -> None:
    provider_ops.revoke_users(props("bob"), ["bob"])
    provider_ops.grant_users(props("bob"), ["bob"])
    provider_ops.revoke_users(props("bob"), ["bob"])
    assert len([w for w in env.writes if w.method == "DELETE"]) == 2


def test_any_other_422_on_revoke_is_raised(env: RunningSimulator) -> None:
    env.state.org("acme").seat_management_setting = "assign_all"
    with pytest.raises(UnprocessableError):
        provider_ops.revoke_users(props("bob"), ["bob"])


def test_grant_uses_the_environment_token_and_sends_one_post(env: RunningSimulator) -> None:
    provider_ops.grant_users(props("frank"), ["frank"])
    posts = [w for w in env.writes if w.method == "POST"]
    assert len(posts) == 1 and posts[0].body == {"selected_usernames": ["frank"]}


def test_stack_config_token_is_read_once_per_process(
        simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_API_URL", simulator.base_url)
    monkeypatch.setenv("COPILOT_SEATS_WRITE_SPACING", "0")
    lookups: list[str | None] = []

    def from_cli(stack: str | None) -> str:
        lookups.append(stack)
        return simulator.token

    monkeypatch.setattr(provider_ops, "token_from_stack_config", from_cli)
    provider_ops.reset_caches()
    try:
        for login in ("frank", "newbie", "bob"):
            provider_ops.grant_users({**props(login), "stack": "prod"}, [login])
        provider_ops.revoke_users({**props("frank"), "stack": "prod"}, ["frank"])
    finally:
        provider_ops.reset_caches()
    assert lookups == ["prod"]
    assert len([w for w in simulator.writes if w.method == "POST"]) == 3
