"""The ``copilot:index:Seats`` handler: the guard in check, entry-level diffs, writes that only
the operation's own verdict approves and that count only when GitHub shows them done, destroy,
import, and the retirement of 0.1's per-seat types (copilot_seats.provider.seats / legacy)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from conftest import RunningSimulator

from copilot_seats.decisions.run_settings import OnDelete, RunSettings
from copilot_seats.desired.spec import Mode, SeatSpec, Settings, TeamGrant, UserGrant
from copilot_seats.github.live import fetch_snapshot
from copilot_seats.provider.contract import SeatsInputs, UserEntry
from copilot_seats.provider.handler import Context, ProviderError
from copilot_seats.provider.legacy import LegacyHandler, LegacyRosterHandler
from copilot_seats.provider.seats import SeatsHandler, previous_roster
from copilot_seats.provider.session import ProviderConfig, Session
from copilot_seats.stack.model import RunOptions, build_stack

T = TypeVar("T")
HANDLER = SeatsHandler()


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
        config = ProviderConfig.resolve({"baseUrl": simulator.base_url, "stack": "dev"},
                                        env={"COPILOT_SEATS_WRITE_SPACING": "0", "GITHUB_TOKEN": simulator.token})
        session = Session(config, settings_reader=lambda stack: (settings or {}).get(stack, {}))
        made.append(session)
        return Context(session)

    yield make
    for session in made:
        session.close()


@pytest.fixture
def ctx(make_ctx: Callable[..., Context]) -> Context:
    return make_ctx()


def record(sim: RunningSimulator, users: list[str], teams: list[str] = (), mode: Mode = Mode.ADDITIVE,
           **settings: Any) -> dict[str, Any]:
    """The Seats inputs the program would send for acme with these entries (against the live listing)."""
    spec = SeatSpec("acme", tuple(UserGrant(login=u, owner="platform", reason="dev") for u in users),
                    tuple(TeamGrant(slug=t, owner="platform") for t in teams), Settings(mode=mode))
    client = sim.client()
    snapshot = fetch_snapshot(client, "acme")
    run_settings = RunSettings(**{"max_removal_count": 10, "max_removal_fraction": 0.1, **settings})
    options = RunOptions(settings=run_settings, run_id="r1")
    return build_stack(spec, snapshot, datetime.now(UTC), options).seats.to_props()


def checked(olds: dict[str, Any], news: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    return HANDLER.check(olds, news)


def writes(sim: RunningSimulator, method: str, field: str = "selected_usernames") -> list[list[str]]:
    return [w.body[field] for w in sim.writes if w.method == method and field in w.body]


def active_direct(sim: RunningSimulator) -> set[str]:
    return {s["assignee"]["login"].casefold() for s in sim.client().list_seats("acme")
            if s["assignee"] and not s.get("assigning_team") and not s.get("pending_cancellation_date")}


ALL = ["Alice", "bob", "newbie"]
"""acme's active direct seats (carol and dave are listed through team platform; erin is pending)."""


# -- check: the guard ------------------------------------------------------------------------------

def test_removing_entries_within_the_limit_plans_exactly_their_revocation(simulator: RunningSimulator) -> None:
    olds, _ = checked({}, record(simulator, ALL))
    news, failures = checked(olds, record(simulator, ["Alice"]))
    assert failures == []
    assert news["revoking"]["users"] == {"bob": "entry removed from seats.yaml",
                                         "newbie": "entry removed from seats.yaml"}
    assert news["revoking"]["seats"] == 2


def test_the_guard_refuses_more_removals_than_its_limit_naming_them(simulator: RunningSimulator) -> None:
    olds, _ = checked({}, record(simulator, ALL))
    _, failures = checked(olds, record(simulator, ["Alice"], max_removal_count=1, max_removal_fraction=0))
    assert len(failures) == 1
    prop, message = failures[0]
    assert prop == "" and "refusing to revoke 2 Copilot seats" in message and "limit 1" in message
    assert "bob" in message and "COPILOT_SEATS_ALLOW_MASS_REMOVAL" in message
    allowed, failures = checked(olds, record(simulator, ["Alice"], max_removal_count=1, max_removal_fraction=0,
                                             allow_mass_removal=True))
    assert failures == [] and allowed["revoking"]["seats"] == 2


def test_forget_revokes_nothing_and_costs_the_guard_nothing(simulator: RunningSimulator) -> None:
    olds, _ = checked({}, record(simulator, ALL))
    news, failures = checked(olds, record(simulator, [], max_removal_count=0, max_removal_fraction=0,
                                          on_delete=OnDelete.FORGET))
    assert failures == [] and news["revoking"]["users"] == {}


def test_authoritative_mode_revokes_seats_outside_seats_yaml_within_the_absolute_limit_of_a_new_stack(
        simulator: RunningSimulator) -> None:
    news, failures = checked({}, record(simulator, ["Alice"], mode=Mode.AUTHORITATIVE))
    assert failures == []
    assert news["revoking"]["users"] == {u: "held outside seats.yaml (authoritative mode)" for u in ("bob", "newbie")}
    assert news["revoking"]["teams"] == {"platform": 2}  # carol and dave (dave is not declared)
    _, failures = checked({}, record(simulator, ["Alice"], mode=Mode.AUTHORITATIVE, max_removal_count=2))
    assert failures and "refusing to revoke" in failures[0][1]


def test_moving_the_record_to_another_organization_is_refused(simulator: RunningSimulator) -> None:
    olds, _ = checked({}, record(simulator, ALL))
    moved = {**record(simulator, ALL), "organization": "labs"}
    _, failures = checked(olds, moved)
    assert failures and "refusing to change the managed organization" in failures[0][1]
    _, failures = checked(olds, {**moved, "organization": "ACME"})
    assert failures == []  # letter case is not a move


def test_remembered_activity_survives_githubs_90_day_reset(simulator: RunningSimulator) -> None:
    olds, _ = checked({}, record(simulator, ALL))
    assert olds["remembered"] == {}  # GitHub's own dates are the newest: nothing to remember yet
    observed = olds["observed_users"]
    alice = observed["logins"].index("alice")
    seen = observed["last_activity_at"][alice]
    forgotten = record(simulator, ALL)
    forgotten["observed_users"]["last_activity_at"][alice] = None  # GitHub reports null now
    news, _ = checked(olds, forgotten)
    assert news["remembered"] == {"alice": seen}
    later, _ = checked(news, forgotten)
    assert later["remembered"] == {"alice": seen}  # carried forward run after run


def test_a_team_only_seat_is_granted_directly_once(simulator: RunningSimulator) -> None:
    first, _ = checked({}, record(simulator, ["carol"]))
    assert first["grants"]["kinds"]["carol"] == "grant-direct" and "carol" in first["grants"]["users"]
    second, _ = checked(first, record(simulator, ["carol"]))
    assert "users" not in second["grants"] and second["granted_directly"] == ["carol"]


# -- diff: the list of seat changes ------------------------------------------------------------------

def test_diff_names_only_changed_entries_and_planned_writes(simulator: RunningSimulator) -> None:
    olds, _ = checked({}, record(simulator, ALL))
    same, _ = checked(olds, record(simulator, ALL))
    assert HANDLER.diff(olds, same) == {}
    edited = record(simulator, ["alice", "newbie", "frank"])  # Alice -> alice: the same entry, no change
    edited["users"]["newbie"]["owner"] = "someone-else"
    news, _ = checked(olds, edited)
    assert HANDLER.diff(olds, news) == {
        'users["frank"]': "add", 'users["bob"]': "delete", 'users["newbie"].owner': "update",
        'grants.users["frank"]': "add", 'revoking.users["bob"]': "add",
    }


def test_observations_moving_are_never_a_change(simulator: RunningSimulator) -> None:
    olds, _ = checked({}, record(simulator, ALL))
    moved = record(simulator, ALL)
    moved["observed_users"]["last_activity_at"][moved["observed_users"]["logins"].index("alice")] = \
        "2026-12-01T00:00:00Z"
    moved["org"]["estimated_monthly_cost"] = "1"
    moved["run_id"] = "another-run"
    news, _ = checked(olds, moved)
    assert HANDLER.diff(olds, news) == {}


# -- create / update: writes ---------------------------------------------------------------------------

def test_adopting_held_seats_writes_nothing(simulator: RunningSimulator, ctx: Context) -> None:
    news, _ = checked({}, record(simulator, ALL))
    id_, outputs = run(HANDLER.create(ctx, news))
    assert id_ == "acme" and simulator.writes == []
    assert outputs["managed_users"] == ["alice", "bob", "newbie"]


def test_grants_go_out_in_batches_of_100(simulator: RunningSimulator, ctx: Context) -> None:
    members = simulator.state.org("acme").members
    for i in range(250):
        members[f"user{i:03d}"] = f"user{i:03d}"
    news, _ = checked({}, record(simulator, [*ALL, *[f"user{i:03d}" for i in range(250)]]))
    run(HANDLER.create(ctx, news))
    assert [len(b) for b in writes(simulator, "POST")] == [100, 100, 50]


def test_update_revokes_removed_entries_then_verifies(simulator: RunningSimulator, ctx: Context) -> None:
    olds, _ = checked({}, record(simulator, ALL))
    news, _ = checked(olds, record(simulator, ["Alice"]))
    outputs = run(HANDLER.update(ctx, "acme", olds, news))
    assert writes(simulator, "DELETE") == [["bob", "newbie"]]
    assert outputs["last_run"]["revoked_users"] == ["bob", "newbie"] and outputs["last_run"]["revoked_seats"] == 2
    assert active_direct(simulator) == {"alice"}


def test_update_plans_again_and_refuses_what_its_own_verdict_does_not_approve(
        simulator: RunningSimulator, ctx: Context) -> None:
    olds, _ = checked({}, record(simulator, ALL))
    tampered = record(simulator, [], max_removal_count=1, max_removal_fraction=0)
    tampered["revoking"] = {"users": {}, "teams": {}, "seats": 0, "limit": 99}  # a check that never ran
    with pytest.raises(ProviderError, match="refusing to revoke 3"):
        run(HANDLER.update(ctx, "acme", olds, tampered))
    assert simulator.writes == []


def test_a_revocation_github_answers_404_but_does_not_apply_is_not_counted_done(
        simulator: RunningSimulator, ctx: Context) -> None:
    olds, _ = checked({}, record(simulator, ALL))
    news, _ = checked(olds, record(simulator, ["Alice"]))
    simulator.state.inject(status=404, method="DELETE", path="selected_users", times=5)
    with pytest.raises(ProviderError, match="GitHub does not show 2 write"):
        run(HANDLER.update(ctx, "acme", olds, news))
    assert active_direct(simulator) == {"alice", "bob", "newbie"}


def test_a_refused_grant_fails_the_update_naming_the_login(simulator: RunningSimulator, ctx: Context) -> None:
    news, _ = checked({}, record(simulator, [*ALL, "not-a-member"]))
    with pytest.raises(ProviderError, match="not-a-member"):
        run(HANDLER.create(ctx, news))


# -- delete: destroy under the guard ------------------------------------------------------------------

def _applied(simulator: RunningSimulator, ctx: Context, users: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create the record in ``ctx`` (an ``up``); a later destroy runs in a process of its own."""
    news, _ = checked({}, record(simulator, users))
    _, outputs = run(HANDLER.create(ctx, news))
    return news, outputs


def test_destroy_beyond_the_limit_is_refused_before_any_revocation(
        simulator: RunningSimulator, make_ctx: Callable[..., Context]) -> None:
    inputs, outputs = _applied(simulator, make_ctx(), ALL)
    ctx = make_ctx({"dev": {"maxRemovalCount": "1", "maxRemovalFraction": "0"}})
    with pytest.raises(ProviderError, match=r"refusing to revoke .* in one destroy.*Nothing was revoked"):
        run(HANDLER.delete(ctx, "acme", outputs, inputs))
    assert simulator.writes == []


def test_an_allowed_destroy_revokes_every_managed_seat(simulator: RunningSimulator,
                                                       make_ctx: Callable[..., Context]) -> None:
    inputs, outputs = _applied(simulator, make_ctx(), ["bob", "newbie"])
    run(HANDLER.delete(make_ctx({"dev": {"allowMassRemoval": "true"}}), "acme", outputs, inputs))
    assert writes(simulator, "DELETE") == [["bob", "newbie"]]
    assert active_direct(simulator) == {"alice"}


def test_destroy_with_forget_writes_nothing(simulator: RunningSimulator, make_ctx: Callable[..., Context]) -> None:
    inputs, outputs = _applied(simulator, make_ctx(), ALL)
    run(HANDLER.delete(make_ctx({"dev": {"onDelete": "forget"}}), "acme", outputs, inputs))
    assert simulator.writes == []


def test_a_delete_never_revokes_what_another_record_of_the_operation_took_over(
        simulator: RunningSimulator, ctx: Context) -> None:
    inputs, outputs = _applied(simulator, ctx, ALL)  # e.g. --replace: the new record is created first
    run(HANDLER.delete(ctx, "acme", outputs, inputs))
    assert simulator.writes == []


# -- read: refresh and import ------------------------------------------------------------------------

def test_import_adopts_the_orgs_active_seats(simulator: RunningSimulator, ctx: Context) -> None:
    found = run(HANDLER.read(ctx, "acme", {}, {}))
    assert found is not None
    outputs, inputs = found
    record_ = SeatsInputs.from_props(inputs)
    assert sorted(record_.users) == ["alice", "bob", "newbie"] and sorted(record_.teams) == ["platform"]
    assert record_.declared_count == 5 and outputs["managed_users"] == sorted(record_.users)
    assert simulator.writes == []
    with pytest.raises(ProviderError, match="expected the organization"):
        run(HANDLER.read(ctx, "acme/alice", {}, {}))


def test_refresh_keeps_the_record(simulator: RunningSimulator, ctx: Context) -> None:
    inputs, outputs = _applied(simulator, ctx, ALL)
    simulator.client().remove_users("acme", ["bob"])
    assert run(HANDLER.read(ctx, "acme", outputs, inputs)) == (outputs, inputs)


# -- 0.1's per-seat types ----------------------------------------------------------------------------

def test_a_legacy_per_seat_delete_writes_nothing(simulator: RunningSimulator, ctx: Context) -> None:
    run(LegacyHandler().delete(ctx, "acme/bob", {"organization": "acme", "login": "bob"}, {}))
    assert simulator.writes == []


def test_destroying_a_stack_never_upgraded_is_refused(ctx: Context) -> None:
    with pytest.raises(ProviderError, match="Run `pulumi up` once"):
        run(LegacyRosterHandler().delete(ctx, "acme/roster", {"organization": "acme", "roster_users": ["bob"],
                                                              "mode": "additive"}, {}))


def test_the_legacy_roster_is_the_guards_last_applied_record(simulator: RunningSimulator) -> None:
    legacy = {"organization": "acme", "roster_users": ["Alice", "bob", "newbie"], "roster_teams": [],
              "declared_count": 3, "mode": "additive"}
    roster = previous_roster(legacy)
    assert roster is not None and roster.users == {"alice", "bob", "newbie"}
    news, failures = checked(legacy, record(simulator, ["Alice", "newbie"]))
    assert failures == [] and news["revoking"]["users"] == {"bob": "entry removed from seats.yaml"}
    assert HANDLER.diff(legacy, news)['revoking.users["bob"]'] == "add"


def test_observations_travel_as_columns_and_come_back_whole() -> None:
    from copilot_seats.provider.contract import SeatObservation, observations_from_props, observations_to_props

    seen = {"bob": SeatObservation(created_at="2026-01-01T00:00:00Z"),
            "alice": SeatObservation("ml", "2025-01-01T00:00:00Z", "2026-11-01T00:00:00Z", "vscode/1", "2026-12-31",
                                     "leaving", True),
            "ghost": SeatObservation(standing="missing")}
    props = observations_to_props(seen)
    assert props["logins"] == ["alice", "bob", "ghost"] and props["standing"] == {"alice": "leaving",
                                                                                   "ghost": "missing"}
    assert props["created_at"] == ["2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z", None]
    assert observations_from_props(props) == seen
    broken = {**props, "created_at": ["only-one"]}  # a column of the wrong length reads as absent
    assert observations_from_props(broken)["bob"].created_at is None
    assert observations_from_props({"logins": "not a list"}) == {}


def test_entries_round_trip_through_props() -> None:
    entry = UserEntry(login="Alice", owner="o", reason=None, expires="2027-01-01")
    assert UserEntry.from_props(entry.to_props()) == entry
    inputs = SeatsInputs("acme", users={"alice": entry})
    assert SeatsInputs.from_props(inputs.to_props()) == replace(inputs)
