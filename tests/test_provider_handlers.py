"""The ``copilot`` provider's resource handlers: pure diff/check decisions (the guard in the
Organization's check), and create/update/read/delete against the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any, TypeVar

import pytest
from conftest import RunningSimulator

from copilot_seats.provider.batching import WriteBatcher
from copilot_seats.provider.handler import Context, ProviderError
from copilot_seats.provider.records import OrganizationHandler, RevocationHandler, RosterHandler
from copilot_seats.provider.seats import SeatHandler, TeamGrantHandler
from copilot_seats.provider.session import ProviderConfig, Session

T = TypeVar("T")

BASE: dict[str, Any] = {
    "organization": "octo-demo", "login": "alice", "owner": "platform", "reason": "dev",
    "expires": None, "cost_center": None, "stale_exemption_reason": None, "stale_exemption_until": None,
    "live": True, "last_activity_at": "2026-11-01T00:00:00Z", "assigning_team": None,
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COPILOT_SEATS_ALLOW_MASS_REMOVAL", "COPILOT_SEATS_ALLOW_ORGANIZATION_CHANGE",
                 "COPILOT_SEATS_ON_DELETE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_ctx(simulator: RunningSimulator) -> Iterator[Callable[..., Context]]:
    """A provider context on the simulator; ``settings`` are the stacks' copilot-seats config."""
    made: list[Session] = []

    def make(settings: Mapping[str, Mapping[str, str]] | None = None) -> Context:
        config = ProviderConfig.resolve({"token": simulator.token, "baseUrl": simulator.base_url},
                                        env={"COPILOT_SEATS_WRITE_SPACING": "0"})
        session = Session(config, settings_reader=lambda stack: (settings or {}).get(stack, {}))
        made.append(session)
        return Context(session, WriteBatcher(session, idle=0.005))

    yield make
    for session in made:
        session.close()


@pytest.fixture
def ctx(make_ctx: Callable[..., Context]) -> Context:
    return make_ctx()


def seats(sim: RunningSimulator) -> dict[str, dict[str, Any]]:
    return {s["assignee"]["login"].casefold(): s for s in sim.client().list_seats("acme") if s["assignee"]}


def written(sim: RunningSimulator, method: str, field: str = "selected_usernames") -> list[list[str]]:
    return [w.body[field] for w in sim.writes if w.method == method and field in w.body]


def acme(login: str, **changes: Any) -> dict[str, Any]:
    return with_(organization="acme", login=login, stack="dev", **changes)


# -- Seat: diff and check (no API) ----------------------------------------------------------------

@pytest.mark.parametrize(
    "news",
    [
        with_(last_activity_at="2026-11-20T00:00:00Z"),
        with_(live=False, pending_cancellation_date="2026-12-01"),
        with_(api_url="http://127.0.0.1:9999", stack="other"),
        with_(login="Alice"),
        with_(organization="Octo-Demo"),
    ],
    ids=["new-activity", "seat-went-pending-without-planned-repair", "run-settings", "login-case-only",
         "org-case-only"],
)
def test_seat_diff_ignores_observations(news: dict[str, Any]) -> None:
    assert SeatHandler().diff(BASE, news) == []


@pytest.mark.parametrize(
    ("news", "changed"),
    [(with_(owner="someone-else"), ["owner"]), (with_(reason="new"), ["reason"]),
     (with_(expires="2027-01-01"), ["expires"]), (with_(stale_exemption_until="2027-01-01"), ["stale_exemption_until"]),
     (with_(organization="acme-two"), ["organization"]), (with_(repair_kind="grant"), ["repair"]),
     (with_(repair_kind="re-grant"), ["repair"]), (with_(repair_kind="grant-direct"), ["repair"])],
    ids=["owner", "reason", "expires", "exemption", "org-moved", "repair-grant", "repair-re-grant",
         "repair-grant-direct"],
)
def test_seat_diff_names_the_changed_desired_field(news: dict[str, Any], changed: list[str]) -> None:
    assert SeatHandler().diff(BASE, news) == changed


def test_a_direct_grant_through_an_undeclared_team_is_sent_once() -> None:
    assert SeatHandler().diff(with_(granted_directly=True), with_(repair_kind="grant-direct")) == []


def test_check_remembers_last_activity_after_github_drops_it() -> None:
    olds = with_(last_activity_at="2026-06-01T00:00:00Z", remembered_last_activity_at="2026-06-01T00:00:00Z")
    checked, failures = SeatHandler().check(olds, with_(last_activity_at=None))
    assert failures == []
    assert checked["remembered_last_activity_at"] == "2026-06-01T00:00:00Z"
    assert checked["last_activity_at"] is None


def test_check_takes_newer_activity_and_works_without_olds() -> None:
    olds = with_(remembered_last_activity_at="2026-06-01T00:00:00Z")
    checked, _ = SeatHandler().check(olds, with_(last_activity_at="2026-11-24T10:00:00Z"))
    assert checked["remembered_last_activity_at"] == "2026-11-24T10:00:00Z"
    fresh, _ = SeatHandler().check({}, with_(last_activity_at=None))
    assert fresh["remembered_last_activity_at"] is None


def test_team_diff_ignores_case_and_observations() -> None:
    olds = {"organization": "o", "team": "ml"}
    assert TeamGrantHandler().diff(olds, {**olds, "team": "ML"}) == []
    assert TeamGrantHandler().diff(olds, {**olds, "live_seats": 9}) == []
    assert TeamGrantHandler().diff(olds, {**olds, "repair_kind": "re-grant"}) == ["repair"]


# -- Seat and TeamGrant: writes -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("props", "grants", "direct"),
    [
        (acme("alice"), [], True),
        (acme("carol", assigning_team="platform"), [], False),
        (acme("frank", live=False, repair_kind="grant"), ["frank"], True),
        (acme("erin", pending_cancellation_date="2026-12-01", repair_kind="re-grant"), ["erin"], True),
        (acme("carol", assigning_team="design", repair_kind="grant-direct"), ["carol"], True),
    ],
    ids=["already-direct-no-write", "via-declared-team-no-write", "missing-grants", "pending-restores",
         "undeclared-team-gets-direct-grant"],
)
def test_seat_create_grants_only_for_a_planned_repair(
        simulator: RunningSimulator, ctx: Context, props: dict[str, Any], grants: list[str], direct: bool) -> None:
    id_, outputs = run(SeatHandler().create(ctx, props))
    assert written(simulator, "POST") == ([grants] if grants else [])
    assert id_ == f"acme/{props['login']}"
    assert outputs["login"] == props["login"] and outputs["granted_directly"] is direct
    assert "live" not in outputs and "last_activity_at" not in outputs  # observations stay inputs only
    if grants:
        assert seats(simulator)[grants[0]]["pending_cancellation_date"] is None


def test_seat_create_fails_with_githubs_answer_for_that_login(simulator: RunningSimulator, ctx: Context) -> None:
    with pytest.raises(ProviderError, match=r"could not grant a seat to mallory: .*not members"):
        run(SeatHandler().create(ctx, acme("mallory", live=False, repair_kind="grant")))


@pytest.mark.parametrize(
    ("olds", "news", "grants"),
    [
        (acme("frank"), acme("frank", owner="x"), []),
        (acme("frank"), acme("frank", repair_kind="re-grant"), ["frank"]),
        (acme("frank", granted_directly=True), acme("frank", repair_kind="grant-direct"), []),
        (acme("frank"), acme("frank", repair_kind="grant-direct"), ["frank"]),
    ],
    ids=["metadata-only", "repair", "already-granted-directly", "grant-direct"],
)
def test_seat_update_grants_only_for_a_planned_repair(
        simulator: RunningSimulator, ctx: Context, olds: dict[str, Any], news: dict[str, Any],
        grants: list[str]) -> None:
    outputs = run(SeatHandler().update(ctx, "acme/frank", olds, news))
    assert written(simulator, "POST") == ([grants] if grants else [])
    assert outputs["granted_directly"] is (bool(grants) or bool(olds.get("granted_directly")))


def test_seat_update_keeps_desired_fields_but_not_observations_as_outputs(
        simulator: RunningSimulator, ctx: Context) -> None:
    outputs = run(SeatHandler().update(ctx, "id", acme("alice"), acme("alice", owner="x")))
    assert outputs["owner"] == "x" and outputs["login"] == "alice" and outputs["organization"] == "acme"
    assert "last_activity_at" not in outputs and "live" not in outputs
    assert simulator.writes == []


def test_a_seat_moved_to_another_org_is_no_longer_held_directly(ctx: Context) -> None:
    olds = acme("alice", granted_directly=True)
    outputs = run(SeatHandler().update(ctx, "id", olds, {**olds, "organization": "labs"}))
    assert outputs["granted_directly"] is False


def test_seat_delete_revokes_the_direct_grant(simulator: RunningSimulator, ctx: Context) -> None:
    run(SeatHandler().delete(ctx, "acme/bob", acme("bob")))
    assert written(simulator, "DELETE") == [["bob"]]
    assert seats(simulator)["bob"]["pending_cancellation_date"] is not None


def test_seat_delete_of_a_team_seat_succeeds_and_keeps_it(simulator: RunningSimulator, ctx: Context) -> None:
    run(SeatHandler().delete(ctx, "acme/carol", acme("carol")))
    assert seats(simulator)["carol"]["pending_cancellation_date"] is None


def test_delete_with_on_delete_forget_writes_nothing(simulator: RunningSimulator,
                                                     make_ctx: Callable[..., Context]) -> None:
    ctx = make_ctx({"dev": {"onDelete": "forget"}})
    run(SeatHandler().delete(ctx, "acme/bob", acme("bob")))
    run(TeamGrantHandler().delete(ctx, "acme/team/platform", {"organization": "acme", "team": "platform",
                                                               "stack": "dev"}))
    assert simulator.writes == []


def test_seat_delete_failure_names_the_login(simulator: RunningSimulator, ctx: Context) -> None:
    simulator.state.org("acme").seat_management_setting = "assign_all"
    with pytest.raises(ProviderError, match="could not revoke the seat of bob"):
        run(SeatHandler().delete(ctx, "acme/bob", acme("bob")))


def test_team_create_update_and_delete(simulator: RunningSimulator, ctx: Context) -> None:
    props = {"organization": "acme", "team": "Platform", "stack": "dev", "owner": "infra", "live_seats": 2}
    id_, outputs = run(TeamGrantHandler().create(ctx, props))
    assert id_ == "acme/team/platform" and outputs["team"] == "Platform" and "live_seats" not in outputs
    assert written(simulator, "POST", "selected_teams") == [["Platform"]]
    run(TeamGrantHandler().update(ctx, id_, props, {**props, "owner": "new"}))  # metadata: no write
    run(TeamGrantHandler().update(ctx, id_, props, {**props, "repair_kind": "re-grant"}))
    # the same process granted it already (one engine operation): its outcome, no second request
    assert written(simulator, "POST", "selected_teams") == [["Platform"]]
    run(TeamGrantHandler().delete(ctx, id_, props))
    assert written(simulator, "DELETE", "selected_teams") == [["Platform"]]
    assert seats(simulator)["carol"]["pending_cancellation_date"] is not None
    assert seats(simulator)["dave"]["pending_cancellation_date"] is None  # dave also holds a direct grant


def test_team_grant_of_an_unknown_team_fails_with_its_slug(ctx: Context) -> None:
    with pytest.raises(ProviderError, match="could not grant seats to team ghosts"):
        run(TeamGrantHandler().create(ctx, {"organization": "acme", "team": "ghosts"}))


# -- read: refresh and `pulumi import` ------------------------------------------------------------

@pytest.mark.parametrize(("id_", "direct"), [("acme/Alice", True), ("acme/carol", False)])
def test_import_reads_a_seat_from_its_id(ctx: Context, id_: str, direct: bool) -> None:
    found = run(SeatHandler().read(ctx, id_, {}, {}))
    assert found is not None
    outputs, inputs = found
    login = id_.split("/")[1]
    assert outputs == {"organization": "acme", "login": login, "granted_directly": direct}
    assert inputs == {"organization": "acme", "login": login}


@pytest.mark.parametrize("id_", ["acme/ghost", "acme/erin"], ids=["no-seat", "pending"])
def test_import_or_refresh_of_a_seat_that_is_gone_finds_nothing(ctx: Context, id_: str) -> None:
    assert run(SeatHandler().read(ctx, id_, {}, {})) is None
    login = id_.split("/")[1]
    assert run(SeatHandler().read(ctx, id_, acme(login), acme(login))) is None


def test_refresh_keeps_the_recorded_outputs(simulator: RunningSimulator, ctx: Context) -> None:
    props = acme("bob", granted_directly=True)
    found = run(SeatHandler().read(ctx, "acme/bob", props, {"organization": "acme", "login": "bob"}))
    assert found is not None
    assert found[0]["granted_directly"] is True and "live" not in found[0]
    assert found[1] == {"organization": "acme", "login": "bob"}
    assert simulator.writes == []


def test_import_reads_a_team_from_its_id(ctx: Context) -> None:
    assert run(TeamGrantHandler().read(ctx, "acme/team/platform", {}, {})) == (
        {"organization": "acme", "team": "platform"}, {"organization": "acme", "team": "platform"})
    assert run(TeamGrantHandler().read(ctx, "acme/team/empty-team", {}, {})) is None


@pytest.mark.parametrize("id_", ["acme", "acme/", "/alice", "acme/alice/x"])
def test_an_invalid_seat_id_is_a_clear_error(ctx: Context, id_: str) -> None:
    with pytest.raises(ProviderError, match=r"invalid id .*expected <organization>/<login>"):
        run(SeatHandler().read(ctx, id_, {}, {}))


@pytest.mark.parametrize("id_", ["acme/platform", "acme/teams/platform", "acme/team/", "acme/team/a/b"])
def test_an_invalid_team_id_is_a_clear_error(ctx: Context, id_: str) -> None:
    with pytest.raises(ProviderError, match=r"invalid id .*expected <organization>/team/<slug>"):
        run(TeamGrantHandler().read(ctx, id_, {}, {}))


# -- Organization: the guard in check -------------------------------------------------------------

def org_props(users: list[str], live_direct: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"organization": "octo-demo", "roster_users": users, "roster_teams": [], "mode": "additive",
            "declared_count": len(users), "unmanaged_direct": live_direct if live_direct is not None else [],
            "team_seats": {}, "max_removal_count": 10, "max_removal_fraction": 0.1,
            "allow_mass_removal": False, **extra}


def test_organization_check_fails_before_mass_removal() -> None:
    before = org_props([f"u{i}" for i in range(30)])
    inputs, failures = OrganizationHandler().check(before, org_props([], live_direct=[f"u{i}" for i in range(30)]))
    assert len(failures) == 1 and failures[0][0] == "mass_removal_guard"
    assert "refusing to revoke 30 Copilot seats" in failures[0][1]
    assert inputs["revoking"]["seats"] == 30


def test_organization_check_counts_only_removed_users_that_still_hold_a_seat() -> None:
    before = org_props([f"u{i}" for i in range(30)])
    inputs, failures = OrganizationHandler().check(before, org_props([], live_direct=["u1", "u2"]))
    assert failures == [] and inputs["revoking"] == {"users": ["u1", "u2"], "teams": {}, "seats": 2}


def test_organization_check_refuses_a_change_of_org_but_not_of_its_case() -> None:
    before = org_props(["a"])
    assert OrganizationHandler().check(before, org_props(["a"], organization="OCTO-demo"))[1] == []
    _, moved = OrganizationHandler().check(before, org_props(["a"], organization="octo-two"))
    assert "refusing to change the managed organization" in moved[0][1]
    allowed = org_props(["a"], organization="octo-two", allow_organization_change=True)
    assert OrganizationHandler().check(before, allowed)[1] == []


def test_organization_check_reads_the_roster_of_earlier_versions() -> None:
    legacy = {"organization": "octo-demo", "declared_users": [f"u{i}" for i in range(30)],
              "declared_team_seats": {"ml": 5}, "declared_count": 35}
    _, failures = OrganizationHandler().check(legacy, org_props([], live_direct=[f"u{i}" for i in range(30)],
                                                                team_seats={"ml": 5}))
    assert "refusing to revoke 35 Copilot seats" in failures[0][1]


def test_organization_check_allows_when_explicitly_allowed_or_forgetting() -> None:
    before = org_props([f"u{i}" for i in range(30)])
    live = [f"u{i}" for i in range(30)]
    assert OrganizationHandler().check(before, org_props([], live, allow_mass_removal=True))[1] == []
    assert OrganizationHandler().check(before, org_props([], live, on_delete="forget"))[1] == []


def test_a_new_stack_passes_the_guard_in_additive_mode() -> None:
    assert OrganizationHandler().check({}, org_props(["a"], live_direct=[f"x{i}" for i in range(50)]))[1] == []


def test_organization_diff_never_changes_for_observations() -> None:
    olds = org_props(["a"], unmanaged=[{"login": "x"}])
    assert OrganizationHandler().diff(olds, org_props(["a", "b"], unmanaged=[])) == []


def test_organization_create_and_update_keep_only_the_org(ctx: Context) -> None:
    assert run(OrganizationHandler().create(ctx, org_props(["a"], organization="Acme"))) == (
        "acme", {"organization": "Acme"})
    assert run(OrganizationHandler().update(ctx, "acme", org_props(["a"]), org_props(["b"]))) == {
        "organization": "octo-demo"}


# -- Roster: authoritative revocations and the destroy guard --------------------------------------

def test_roster_diff_changes_only_with_the_roster_or_planned_revocations() -> None:
    olds = org_props(["a", "b"])
    assert RosterHandler().diff(olds, {**olds, "unmanaged_direct": ["z"], "run_id": "x"}) == []
    assert RosterHandler().diff(olds, org_props(["a"])) == ["roster_users"]
    assert RosterHandler().diff(olds, {**olds, "organization": "Octo-Demo"}) == []
    assert RosterHandler().diff(olds, {**olds, "revoke": {"users": ["z"], "teams": {}}}) == ["revoke"]


def test_roster_check_records_the_plan_and_the_guard_limit() -> None:
    inputs, failures = RosterHandler().check(org_props(["a", "b"]), org_props(["a"], live_direct=["b"]))
    assert failures == []
    assert inputs["revoking"] == {"users": ["b"], "teams": {}, "seats": 1, "limit": 10}


def roster(users: list[str], revoke_users: list[str], revoke_teams: dict[str, int] | None = None,
           limit: int = 10, **extra: Any) -> dict[str, Any]:
    teams = revoke_teams or {}
    return {**org_props(users, organization="acme", mode="authoritative", stack="dev", run_id="r1"),
            "revoke": {"users": revoke_users, "teams": teams},
            "revoking": {"users": revoke_users, "teams": teams,
                         "seats": len(revoke_users) + sum(teams.values()), "limit": limit}, **extra}


def test_roster_revokes_outside_seats_teams_first_then_what_that_reveals(
        simulator: RunningSimulator, ctx: Context) -> None:
    # GitHub lists dave (direct and via platform) under the team: revoking the team reveals his
    # direct grant, which is outside seats.yaml too, so the same run revokes it
    props = roster(["alice"], ["bob", "newbie"], {"platform": 2})
    id_, outputs = run(RosterHandler().create(ctx, props))
    assert id_ == "acme/roster" and outputs["run_id"] == "r1" and outputs["revoking"]["seats"] == 4
    assert [(w.method, w.body) for w in simulator.writes] == [
        ("DELETE", {"selected_teams": ["platform"]}), ("DELETE", {"selected_usernames": ["bob", "newbie"]}),
        ("DELETE", {"selected_usernames": ["dave"]})]
    now = seats(simulator)
    assert all(now[k]["pending_cancellation_date"] for k in ("bob", "newbie", "carol", "dave"))
    assert now["alice"]["pending_cancellation_date"] is None


def test_roster_revokes_what_the_revocations_reveal_within_the_guard(
        simulator: RunningSimulator, ctx: Context) -> None:
    # the plan missed the undeclared team (as when GitHub showed its seats as direct): one run converges
    run(RosterHandler().update(ctx, "acme/roster", {}, roster(["alice", "dave"], ["bob", "newbie"])))
    assert written(simulator, "DELETE", "selected_teams") == [["platform"]]
    assert seats(simulator)["carol"]["pending_cancellation_date"] is not None


def test_roster_stops_when_revealed_seats_exceed_the_guard(simulator: RunningSimulator, ctx: Context) -> None:
    with pytest.raises(ProviderError, match="more than the guard allows"):
        run(RosterHandler().update(ctx, "acme/roster", {}, roster(["alice", "dave"], ["bob", "newbie"], limit=2)))
    assert written(simulator, "DELETE", "selected_teams") == []


def test_roster_in_additive_mode_revokes_only_the_planned_removals(simulator: RunningSimulator, ctx: Context) -> None:
    run(RosterHandler().update(ctx, "acme/roster", {}, roster(["alice"], [])))
    assert simulator.writes == []
    run(RosterHandler().create(ctx, roster(["alice"], ["bob"], mode="additive")))  # bob's entry was removed
    assert [(w.method, w.body) for w in simulator.writes] == [("DELETE", {"selected_usernames": ["bob"]})]
    run(SeatHandler().delete(ctx, "acme/bob", acme("bob")))  # his delete finds the outcome: no request
    assert len(simulator.writes) == 1


def destroy_props(users: list[str]) -> dict[str, Any]:
    return {**org_props(users, organization="acme"), "stack": "dev"}


def test_destroy_beyond_the_guard_is_refused_before_any_revocation(
        simulator: RunningSimulator, make_ctx: Callable[..., Context]) -> None:
    ctx = make_ctx({"dev": {"maxRemovalCount": "1", "maxRemovalFraction": "0"}})
    with pytest.raises(ProviderError, match=r"refusing to revoke 3 Copilot seats in one destroy.*Nothing was revoked"):
        run(RosterHandler().delete(ctx, "acme/roster", destroy_props(["alice", "bob", "newbie", "ghost"])))
    assert simulator.writes == []


@pytest.mark.parametrize("settings", [{"maxRemovalCount": "3"}, {"maxRemovalCount": "0", "allowMassRemoval": "true"},
                                      {"maxRemovalCount": "0", "onDelete": "forget"}],
                         ids=["within-limit", "allowed", "forget"])
def test_destroy_within_the_guard_passes(simulator: RunningSimulator, make_ctx: Callable[..., Context],
                                         settings: dict[str, str]) -> None:
    ctx = make_ctx({"dev": {"maxRemovalFraction": "0", **settings}})
    run(RosterHandler().delete(ctx, "acme/roster", destroy_props(["alice", "bob", "newbie"])))
    if settings.get("onDelete") == "forget":
        assert simulator.writes == []
        return
    # allowed: one batch for every managed seat; each seat's delete then sends nothing
    assert [w.body for w in simulator.writes] == [{"selected_usernames": ["alice", "bob", "newbie"]}]
    for login in ("alice", "bob", "newbie"):
        run(SeatHandler().delete(ctx, f"acme/{login}", acme(login)))
    assert len(simulator.writes) == 1


def test_destroy_counts_seats_through_declared_teams(make_ctx: Callable[..., Context]) -> None:
    ctx = make_ctx({"dev": {"maxRemovalCount": "1", "maxRemovalFraction": "0"}})
    with pytest.raises(ProviderError, match=r"refusing to revoke 2 Copilot seats.*team platform"):
        run(RosterHandler().delete(ctx, "acme/roster", {**destroy_props([]), "roster_teams": ["platform"]}))


# -- Revocation (legacy) --------------------------------------------------------------------------

def test_legacy_revocation_records_are_never_created_and_delete_writes_nothing(
        simulator: RunningSimulator, ctx: Context) -> None:
    with pytest.raises(ProviderError, match="no longer created"):
        run(RevocationHandler().create(ctx, {"organization": "acme", "login": "bob"}))
    run(RevocationHandler().delete(ctx, "acme/bob", {"organization": "acme", "login": "bob"}))
    assert simulator.writes == []
