"""The provider's GitHub session against the simulator: one listing per process, per-name write
failures, idempotent revocations, and credentials that never show (copilot_seats.provider.session)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import RunningSimulator

from copilot_seats.decisions.planning import Approval, NotApproved
from copilot_seats.errors import AuthError, CredentialsError, UnprocessableError
from copilot_seats.provider.session import ProviderConfig, Session


def make_session(sim: RunningSimulator, token: str | None = None) -> Session:
    config = ProviderConfig.resolve({"baseUrl": sim.base_url},
                                    env={"COPILOT_SEATS_WRITE_SPACING": "0", "GITHUB_TOKEN": token or sim.token})
    return Session(config, settings_reader=lambda _stack: {})


def everyone(org: str = "acme") -> Approval:
    """An approval covering every name of the small fixture (the guard is tested elsewhere)."""
    names = frozenset({"alice", "bob", "carol", "dave", "erin", "frank", "newbie", "nobody"})
    return Approval(org, names, frozenset({"platform", "empty-team", "ghost-team"}))


@pytest.fixture
def session(simulator: RunningSimulator) -> Iterator[Session]:
    s = make_session(simulator)
    yield s
    s.close()


def seats(sim: RunningSimulator) -> dict[str, dict[str, object]]:
    return {s["assignee"]["login"]: s for s in sim.client().list_seats("acme") if s["assignee"]}


def deletes(sim: RunningSimulator) -> list[list[str]]:
    return [w.body["selected_usernames"] for w in sim.writes if w.method == "DELETE"]


def posts(sim: RunningSimulator) -> list[list[str]]:
    return [w.body["selected_usernames"] for w in sim.writes if w.method == "POST"]


# -- reads ----------------------------------------------------------------------------------------

def test_concurrent_reads_share_one_listing(simulator: RunningSimulator, session: Session) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        seen = list(pool.map(lambda org: session.snapshot(org), ["acme", "ACME", "acme", "Acme"] * 4))
    assert len(simulator.requests) == 2  # billing + one page, however many callers
    assert all(s is seen[0] for s in seen)
    assert str(seen[0].seats["alice"].last_activity_editor).startswith("vscode")


def test_the_listing_is_cached_per_org_case_insensitively_and_fresh_fetches_again(
        simulator: RunningSimulator, session: Session) -> None:
    assert "frank" not in session.snapshot("acme").seats
    session.snapshot("ACME")
    assert len(simulator.requests) == 2
    assert session.grant_users("acme", ["frank"]) == {}
    assert "frank" not in session.snapshot("acme").seats  # the cache is what the process read first
    assert "frank" in session.snapshot("acme", fresh=True).seats
    assert "frank" in session.snapshot("acme").seats  # and the fresh listing replaces the cached one
    assert len([r for r in simulator.requests if r.method == "GET"]) == 4


def test_a_grant_sends_one_post_with_every_name(simulator: RunningSimulator, session: Session) -> None:
    assert session.grant_users("acme", ["frank", "newbie"]) == {}
    assert posts(simulator) == [["frank", "newbie"]]
    assert session.writes == 1


def test_one_refused_login_fails_alone_and_the_others_are_granted(
        simulator: RunningSimulator, session: Session) -> None:
    logins = ["frank", "bob", "mallory", "newbie", "erin"]  # mallory is no member: GitHub 422s the batch
    failures = session.grant_users("acme", logins)
    assert list(failures) == ["mallory"]
    assert isinstance(failures["mallory"], UnprocessableError) and "mallory" in str(failures["mallory"])
    now = seats(simulator)
    assert {"frank", "bob", "newbie", "erin"} <= set(now) and "mallory" not in now
    assert now["erin"]["pending_cancellation_date"] is None  # granting a pending seat restores it
    assert len(posts(simulator)) <= 1 + 2 * 3  # halving: about 2 log2(n) requests, not one per name


def test_an_auth_error_applies_to_every_name_without_splitting(simulator: RunningSimulator) -> None:
    session = make_session(simulator, token="wrong-token-0123456789")
    try:
        failures = session.grant_users("acme", ["frank", "newbie", "bob"])
    finally:
        session.close()
    assert sorted(failures) == ["bob", "frank", "newbie"]
    assert all(isinstance(e, AuthError) for e in failures.values())
    assert len(simulator.writes) == 1


def test_an_org_wide_refusal_fails_every_name(simulator: RunningSimulator, session: Session) -> None:
    simulator.state.org("acme").seat_management_setting = "assign_all"
    failures = session.grant_users("acme", ["frank", "newbie"])
    assert sorted(failures) == ["frank", "newbie"]
    assert all(isinstance(e, UnprocessableError) for e in failures.values())


def test_an_org_wide_refusal_of_a_full_batch_costs_three_requests_not_two_hundred(
        simulator: RunningSimulator, session: Session) -> None:
    simulator.state.org("acme").seat_management_setting = "assign_all"
    names = [f"user{i:03d}" for i in range(100)]
    failures = session.grant_users("acme", names)
    assert sorted(failures) == names
    assert [len(body) for body in posts(simulator)] == [100, 50, 50]
    # none holds a seat: each 422 is then looked up, not retried
    session.revoke_users("acme", names[:64], Approval("acme", frozenset(names)))
    assert [len(body) for body in deletes(simulator)] == [64, 32, 32]


def test_team_grants_report_an_unknown_team_alone(simulator: RunningSimulator, session: Session) -> None:
    failures = session.grant_teams("acme", ["platform", "no-such-team"])
    assert list(failures) == ["no-such-team"]
    assert seats(simulator)["carol"]["pending_cancellation_date"] is None


# -- revocations ----------------------------------------------------------------------------------

def test_revoking_a_seat_that_is_gone_or_pending_succeeds(simulator: RunningSimulator, session: Session) -> None:
    assert session.revoke_users("acme", ["erin"], everyone()) == {}   # already pending
    assert session.revoke_users("acme", ["frank"], everyone()) == {}  # member without a seat
    assert session.revoke_users("acme", ["bob"], everyone()) == {}
    assert seats(simulator)["bob"]["pending_cancellation_date"] is not None


def test_a_404_on_revoke_is_success(simulator: RunningSimulator, session: Session) -> None:
    simulator.state.inject(status=404, method="DELETE", path="selected_users", times=5)
    assert session.revoke_users("acme", ["bob", "newbie"], everyone()) == {}
    assert len(simulator.writes) == 1  # a 404 is not split: it means "nothing to revoke"
    simulator.state.inject(status=404, method="DELETE", path="selected_teams")
    assert session.revoke_teams("acme", ["platform"], everyone()) == {}


def test_cancelling_the_direct_grant_of_a_team_only_seat_succeeds_and_keeps_the_seat(
        simulator: RunningSimulator, session: Session) -> None:
    assert session.revoke_users("acme", ["carol", "bob"], everyone()) == {}  # the batch 422s for carol
    now = seats(simulator)
    assert now["carol"]["pending_cancellation_date"] is None  # still seated through platform
    assert now["bob"]["pending_cancellation_date"] is not None


def test_a_seat_held_directly_and_through_a_team_keeps_its_team_seat(
        simulator: RunningSimulator, session: Session) -> None:
    assert session.revoke_users("acme", ["dave"], everyone()) == {}
    dave = seats(simulator)["dave"]
    assert dave["pending_cancellation_date"] is None
    assert dave["assigning_team"]["slug"] == "platform"  # type: ignore[index]


def test_a_seat_is_revoked_at_most_once_per_process(simulator: RunningSimulator, session: Session) -> None:
    session.revoke_users("acme", ["bob"], everyone())
    session.revoke_users("ACME", ["BOB"], everyone())
    assert deletes(simulator) == [["bob"]]


def test_a_seat_granted_again_can_be_revoked_again(simulator: RunningSimulator, session: Session) -> None:
    session.revoke_users("acme", ["bob"], everyone())
    session.grant_users("acme", ["Bob"])
    session.revoke_users("acme", ["bob"], everyone())
    assert deletes(simulator) == [["bob"], ["bob"]]


def test_a_failed_revocation_is_tried_again(simulator: RunningSimulator, session: Session) -> None:
    simulator.state.inject(status=403, method="DELETE", path="selected_users",
                           message="Resource not accessible by integration")
    assert list(session.revoke_users("acme", ["bob"], everyone())) == ["bob"]
    assert session.revoke_users("acme", ["bob"], everyone()) == {}
    assert deletes(simulator) == [["bob"], ["bob"]]


def test_any_other_422_on_revoke_is_the_logins_failure(simulator: RunningSimulator, session: Session) -> None:
    simulator.state.org("acme").seat_management_setting = "assign_all"
    failures = session.revoke_users("acme", ["bob"], everyone())
    assert list(failures) == ["bob"] and isinstance(failures["bob"], UnprocessableError)
    assert session.revoke_users("acme", ["bob"], everyone()) != {}  # not remembered as revoked


# -- credentials ----------------------------------------------------------------------------------

def test_the_token_comes_from_the_environment_never_from_a_provider_input() -> None:
    env = {"GITHUB_TOKEN": "env-token-0123456789", "GITHUB_API_URL": "http://127.0.0.1:1"}
    config = ProviderConfig.resolve({"token": "config-token-0123456789", "baseUrl": "http://other"}, env=env)
    assert (config.token, config.token_source, config.base_url) == (
        "env-token-0123456789", "GITHUB_TOKEN", "http://127.0.0.1:1")
    without = ProviderConfig.resolve({"token": "config-token-0123456789", "stack": "dev"}, env={})
    assert without.token is None and without.token_source == "github:token"  # read through the CLI later


def test_a_malformed_token_is_refused_naming_its_source_never_its_value() -> None:
    with pytest.raises(CredentialsError) as raised:
        ProviderConfig.resolve({}, env={"GITHUB_TOKEN": "secret-part-one secret-part-two"})
    message = str(raised.value)
    assert "GITHUB_TOKEN" in message and "malformed" in message
    assert "secret-part" not in message


def test_the_config_repr_never_shows_the_token() -> None:
    config = ProviderConfig.resolve({}, env={"GITHUB_TOKEN": "env-token-0123456789"})
    assert "env-token" not in repr(config) and "GITHUB_TOKEN" in repr(config)


# -- deny by default ------------------------------------------------------------------------------

def test_a_revocation_no_verdict_approved_is_refused_and_nothing_is_sent(
        simulator: RunningSimulator, session: Session) -> None:
    approval = Approval("acme", frozenset({"bob"}))
    with pytest.raises(NotApproved, match="newbie"):
        session.revoke_users("acme", ["bob", "newbie"], approval)
    with pytest.raises(NotApproved, match="team platform"):
        session.revoke_teams("acme", ["platform"], approval)
    with pytest.raises(NotApproved):
        session.revoke_users("labs", ["bob"], approval)  # another org
    assert simulator.writes == []
    assert session.revoke_users("acme", ["BOB"], approval) == {}
    assert deletes(simulator) == [["BOB"]]


def test_no_token_fails_on_first_use_with_what_to_do(simulator: RunningSimulator) -> None:
    session = Session(ProviderConfig.resolve({"baseUrl": simulator.base_url}, env={}))
    with pytest.raises(CredentialsError, match="GITHUB_TOKEN"):
        session.snapshot("acme")
    assert simulator.requests == []


def test_write_spacing_is_read_from_the_environment() -> None:
    assert ProviderConfig.resolve({}, env={"COPILOT_SEATS_WRITE_SPACING": "0.25"}).write_spacing == 0.25


def test_settings_are_read_once_per_stack(simulator: RunningSimulator) -> None:
    reads: list[str] = []

    def reader(stack: str) -> dict[str, str]:
        reads.append(stack)
        return {"onDelete": "forget"} if stack == "prod" else {}

    session = Session(make_session(simulator).config, settings_reader=reader)
    assert session.delete_forgets("prod") and session.delete_forgets("prod")
    assert not session.delete_forgets("dev")
    assert reads == ["prod", "dev"]
