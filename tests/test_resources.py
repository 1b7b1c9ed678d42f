"""Provider decisions that need no API: diff, check, the guard in check (copilot_seats.resources)."""

from __future__ import annotations

import pickle
from typing import Any

import dill
import pytest

from copilot_seats.resources import OrganizationProvider, RosterProvider, SeatProvider, TeamGrantProvider

BASE: dict[str, Any] = {
    "organization": "octo-demo", "login": "alice", "owner": "platform", "reason": "dev",
    "expires": None, "cost_center": None, "stale_exemption_reason": None, "stale_exemption_until": None,
    "live": True, "last_activity_at": "2026-11-01T00:00:00Z", "assigning_team": None,
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


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
    diff = SeatProvider().diff("octo-demo/alice", BASE, news)
    assert diff.changes is False and not diff.replaces


@pytest.mark.parametrize(
    "news", [with_(owner="someone-else"), with_(reason="new"), with_(expires="2027-01-01"),
             with_(stale_exemption_until="2027-01-01"), with_(organization="acme-two"),
             with_(repair_kind="grant"), with_(repair_kind="re-grant"), with_(repair_kind="grant-direct")],
    ids=["owner", "reason", "expires", "exemption", "org-moved", "repair-grant", "repair-re-grant",
         "repair-grant-direct"],
)
def test_seat_diff_change_is_an_update_never_a_replacement(news: dict[str, Any]) -> None:
    diff = SeatProvider().diff("octo-demo/alice", BASE, news)
    assert diff.changes is True and not diff.replaces


def test_a_direct_grant_through_an_undeclared_team_is_sent_once() -> None:
    granted = SeatProvider().diff("id", with_(granted_directly=True), with_(repair_kind="grant-direct"))
    assert granted.changes is False


@pytest.mark.parametrize(
    ("olds", "news", "grants"),
    [
        (with_(), with_(owner="x"), []),
        (with_(), with_(repair_kind="re-grant"), ["alice"]),
        (with_(granted_directly=True), with_(repair_kind="grant-direct"), []),
        (with_(), with_(repair_kind="grant-direct"), ["alice"]),
    ],
    ids=["metadata-only", "repair", "already-granted-directly", "grant-direct"],
)
def test_seat_update_grants_only_for_a_planned_repair(
        monkeypatch: pytest.MonkeyPatch, olds: dict[str, Any], news: dict[str, Any], grants: list[str]) -> None:
    sent: list[str] = []
    monkeypatch.setattr("copilot_seats.provider.ops.grant_users", lambda _p, logins: sent.extend(logins))
    outs = SeatProvider().update("id", olds, news).outs
    assert sent == grants
    assert outs["granted_directly"] is (bool(grants) or bool(olds.get("granted_directly")))


def test_seat_update_writes_nothing_and_keeps_desired_fields_but_not_observations_as_outputs() -> None:
    news = with_(owner="x")
    outs = SeatProvider().update("id", BASE, news).outs
    assert outs["owner"] == "x" and outs["login"] == "alice" and outs["organization"] == "octo-demo"
    assert "last_activity_at" not in outs and "live" not in outs


def test_check_remembers_last_activity_after_github_drops_it() -> None:
    olds = with_(last_activity_at="2026-06-01T00:00:00Z", remembered_last_activity_at="2026-06-01T00:00:00Z")
    checked = SeatProvider().check(olds, with_(last_activity_at=None)).inputs
    assert checked["remembered_last_activity_at"] == "2026-06-01T00:00:00Z"
    assert checked["last_activity_at"] is None


def test_check_takes_newer_activity() -> None:
    olds = with_(remembered_last_activity_at="2026-06-01T00:00:00Z")
    checked = SeatProvider().check(olds, with_(last_activity_at="2026-11-24T10:00:00Z")).inputs
    assert checked["remembered_last_activity_at"] == "2026-11-24T10:00:00Z"


def test_team_diff_ignores_case_and_observations() -> None:
    olds = {"organization": "o", "team": "ml"}
    assert TeamGrantProvider().diff("id", olds, {**olds, "team": "ML"}).changes is False
    assert TeamGrantProvider().diff("id", olds, {**olds, "live_seats": 9}).changes is False
    assert TeamGrantProvider().diff("id", olds, {**olds, "repair_kind": "re-grant"}).changes is True


def org_props(users: list[str], live_direct: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"organization": "octo-demo", "roster_users": users, "roster_teams": [], "mode": "additive",
            "declared_count": len(users), "unmanaged_direct": live_direct if live_direct is not None else [],
            "team_seats": {}, "max_removal_count": 10, "max_removal_fraction": 0.1,
            "allow_mass_removal": False, **extra}


def test_organization_check_fails_before_mass_removal() -> None:
    before = org_props([f"u{i}" for i in range(30)])
    result = OrganizationProvider().check(before, org_props([], live_direct=[f"u{i}" for i in range(30)]))
    assert len(result.failures) == 1
    assert "refusing to revoke 30 Copilot seats" in result.failures[0].reason
    assert result.inputs["revoking"]["seats"] == 30


def test_organization_check_counts_only_removed_users_that_still_hold_a_seat() -> None:
    before = org_props([f"u{i}" for i in range(30)])
    assert OrganizationProvider().check(before, org_props([], live_direct=["u1", "u2"])).failures == []


def test_organization_check_refuses_a_change_of_org_but_not_of_its_case() -> None:
    before = org_props(["a"])
    assert OrganizationProvider().check(before, org_props(["a"], organization="OCTO-demo")).failures == []
    moved = OrganizationProvider().check(before, org_props(["a"], organization="octo-two"))
    assert "refusing to change the managed organization" in moved.failures[0].reason
    allowed = org_props(["a"], organization="octo-two", allow_organization_change=True)
    assert OrganizationProvider().check(before, allowed).failures == []


def test_organization_check_reads_the_roster_of_earlier_versions() -> None:
    legacy = {"organization": "octo-demo", "declared_users": [f"u{i}" for i in range(30)],
              "declared_team_seats": {"ml": 5}, "declared_count": 35}
    result = OrganizationProvider().check(legacy, org_props([], live_direct=[f"u{i}" for i in range(30)],
                                                           team_seats={"ml": 5}))
    assert "refusing to revoke 35 Copilot seats" in result.failures[0].reason


def test_roster_diff_changes_only_with_the_roster_or_planned_revocations() -> None:
    olds = org_props(["a", "b"])
    assert RosterProvider().diff("id", olds, {**olds, "unmanaged_direct": ["z"], "run_id": "x"}).changes is False
    assert RosterProvider().diff("id", olds, org_props(["a"])).changes is True
    assert RosterProvider().diff("id", olds, {**olds, "revoke": {"users": ["z"], "teams": {}}}).changes is True


def test_organization_check_allows_when_explicitly_allowed() -> None:
    before = org_props([f"u{i}" for i in range(30)])
    assert OrganizationProvider().check(before, org_props([], allow_mass_removal=True)).failures == []


def test_organization_diff_never_changes_for_observations() -> None:
    olds = org_props(["a"], unmanaged=[{"login": "x"}])
    assert OrganizationProvider().diff("id", olds, org_props(["a", "b"], unmanaged=[])).changes is False


@pytest.mark.parametrize("provider", [SeatProvider(), TeamGrantProvider(), OrganizationProvider(),
                                      RosterProvider()], ids=["seat", "team", "org", "roster"])
def test_providers_pickle_by_reference_without_secrets(provider: object) -> None:
    blob = dill.dumps(provider, protocol=pickle.DEFAULT_PROTOCOL, recurse=True)
    assert len(blob) < 200  # by reference: module + class name, no captured state
    assert b"copilot_seats.resources" in blob
    assert b"token" not in blob.lower()


@pytest.mark.parametrize(
    ("props", "grants"),
    [
        (with_(live=True), []),
        (with_(live=True, assigning_team="ml"), []),
        (with_(live=False, repair_kind="grant"), ["alice"]),
        (with_(live=True, pending_cancellation_date="2026-12-01", repair_kind="re-grant"), ["alice"]),
        (with_(live=True, assigning_team="design", repair_kind="grant-direct"), ["alice"]),
    ],
    ids=["already-direct-no-write", "via-declared-team-no-write", "missing-grants", "pending-restores",
         "undeclared-team-gets-direct-grant"],
)
def test_seat_create_grants_unless_already_held_directly(
        monkeypatch: pytest.MonkeyPatch, props: dict[str, Any], grants: list[str]) -> None:
    sent: list[str] = []
    monkeypatch.setattr("copilot_seats.provider.ops.grant_users", lambda _p, logins: sent.extend(logins))
    result = SeatProvider().create(props)
    assert sent == grants
    assert result.id == "octo-demo/alice" and result.outs["login"] == "alice"


class _ProviderWithState(SeatProvider):
    def __init__(self) -> None:
        self.label = "has a __dict__ to pickle"


def test_many_resources_do_not_exhaust_the_recursion_limit_through_the_sdk_serializer() -> None:
    from pulumi.dynamic.dynamic import serialize_provider

    from copilot_seats.resources import _undo_serializer_patch

    try:
        with pytest.raises(RecursionError):  # the pinned SDK's bug, unmitigated: wrappers pile up
            for _ in range(3000):
                serialize_provider(_ProviderWithState())
    finally:
        _undo_serializer_patch()
    blobs = set()
    for _ in range(3000):  # what each of our resources does right after registering
        blobs.add(serialize_provider(_ProviderWithState()))
        _undo_serializer_patch()
    assert len(blobs) == 1  # and serialization stays deterministic
