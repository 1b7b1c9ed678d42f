"""Provider decisions that need no API: diff, check, the guard in check (copilot_seats.resources)."""

from __future__ import annotations

import pickle
from typing import Any

import dill
import pytest

from copilot_seats.resources import OrganizationProvider, SeatProvider, TeamGrantProvider

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
    ],
    ids=["new-activity", "seat-went-pending", "run-settings"],
)
def test_seat_diff_ignores_observations(news: dict[str, Any]) -> None:
    diff = SeatProvider().diff("octo-demo/alice", BASE, news)
    assert diff.changes is False


@pytest.mark.parametrize(
    "news", [with_(owner="someone-else"), with_(reason="new"), with_(expires="2027-01-01"),
             with_(stale_exemption_until="2027-01-01"), with_(login="Alice")],
    ids=["owner", "reason", "expires", "exemption", "login-case-only"],
)
def test_seat_diff_metadata_change_is_update_not_replace(news: dict[str, Any]) -> None:
    diff = SeatProvider().diff("octo-demo/alice", BASE, news)
    assert diff.changes is True and not diff.replaces


def test_seat_diff_login_change_replaces() -> None:
    diff = SeatProvider().diff("octo-demo/alice", BASE, with_(login="bob"))
    assert diff.changes is True and diff.replaces == ["login"]


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


def test_team_diff_replaces_on_slug_change() -> None:
    olds = {"organization": "o", "team": "ml"}
    assert TeamGrantProvider().diff("id", olds, {**olds, "team": "mobile"}).replaces == ["team"]
    assert TeamGrantProvider().diff("id", olds, {**olds, "live_seats": 9}).changes is False


def org_props(users: list[str], **extra: Any) -> dict[str, Any]:
    return {"organization": "octo-demo", "declared_users": users, "declared_team_seats": {},
            "authoritative_revocations": 0, "max_removal_count": 10, "max_removal_fraction": 0.1,
            "allow_mass_removal": False, **extra}


def test_organization_check_fails_before_mass_removal() -> None:
    before = org_props([f"u{i}" for i in range(30)])
    result = OrganizationProvider().check(before, org_props([]))
    assert len(result.failures) == 1
    assert "refusing to revoke 30" in result.failures[0].reason


def test_organization_check_allows_when_explicitly_allowed() -> None:
    before = org_props([f"u{i}" for i in range(30)])
    assert OrganizationProvider().check(before, org_props([], allow_mass_removal=True)).failures == []


def test_organization_diff_never_changes_for_observations() -> None:
    olds = org_props(["a"], unmanaged=[{"login": "x"}])
    assert OrganizationProvider().diff("id", olds, org_props(["a", "b"], unmanaged=[])).changes is False


@pytest.mark.parametrize("provider", [SeatProvider(), TeamGrantProvider(), OrganizationProvider()],
                         ids=["seat", "team", "org"])
def test_providers_pickle_by_reference_without_secrets(provider: object) -> None:
    blob = dill.dumps(provider, protocol=pickle.DEFAULT_PROTOCOL, recurse=True)
    assert len(blob) < 200  # by reference: module + class name, no captured state
    assert b"copilot_seats.resources" in blob
    assert b"token" not in blob.lower()


@pytest.mark.parametrize(
    ("props", "grants"),
    [
        (with_(live=True), []),
        (with_(live=False), ["alice"]),
        (with_(live=True, pending_cancellation_date="2026-12-01"), ["alice"]),
        (with_(live=True, assigning_team="ml"), ["alice"]),
    ],
    ids=["already-direct-no-write", "missing-grants", "pending-restores", "team-only-gets-direct-grant"],
)
def test_seat_create_grants_unless_already_held_directly(
        monkeypatch: pytest.MonkeyPatch, props: dict[str, Any], grants: list[str]) -> None:
    sent: list[str] = []
    monkeypatch.setattr("copilot_seats.provider_ops.grant_users", lambda _p, logins: sent.extend(logins))
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
