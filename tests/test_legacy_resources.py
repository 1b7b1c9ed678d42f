"""The legacy dynamic-provider classes (copilot_seats.resources) that stacks created before the
native provider still reference: they pickle by reference, answer refresh with the recorded
state, and delete exactly as the native provider would (same Session)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import dill
import pytest
from conftest import RunningSimulator

from copilot_seats import resources
from copilot_seats.errors import UnprocessableError
from copilot_seats.resources import (
    OrganizationProvider,
    RevocationProvider,
    RosterProvider,
    SeatProvider,
    TeamGrantProvider,
)

PROVIDERS = [SeatProvider(), TeamGrantProvider(), OrganizationProvider(), RosterProvider(), RevocationProvider()]
IDS = ["seat", "team", "org", "roster", "revocation"]


@pytest.mark.parametrize("provider", PROVIDERS, ids=IDS)
def test_providers_pickle_by_reference_without_secrets(provider: object) -> None:
    blob = dill.dumps(provider, protocol=pickle.DEFAULT_PROTOCOL, recurse=True)
    assert len(blob) < 200  # by reference: module + class name, no captured state
    assert b"copilot_seats.resources" in blob
    assert b"token" not in blob.lower()
    assert type(dill.loads(blob)) is type(provider)


@pytest.mark.parametrize("provider", PROVIDERS, ids=IDS)
def test_refresh_and_diff_keep_the_recorded_state(provider: SeatProvider) -> None:
    props = {"organization": "acme", "login": "bob", "owner": "x"}
    assert provider.read("acme/bob", props).outs == props
    assert provider.diff("acme/bob", props, {**props, "owner": "y"}).changes is False
    with pytest.raises(RuntimeError, match="no longer creates dynamic resources"):
        provider.create(props)


@pytest.fixture
def env(simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> RunningSimulator:
    """The legacy provider process's environment: the simulator, and a `pulumi` CLI whose stack
    ``forgetful`` sets ``onDelete: forget`` (what delete reads the settings with)."""
    cli = tmp_path / "pulumi"
    cli.write_text('#!/bin/sh\ncase "$*" in *forgetful*) echo \'{"copilot-seats:onDelete": {"value": "forget"}}\';; '
                   "*) echo '{}';; esac\n")
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    for key, value in {**simulator.env(), "COPILOT_SEATS_WRITE_SPACING": "0"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("COPILOT_SEATS_ON_DELETE", raising=False)
    monkeypatch.setattr(resources, "_sessions", {})
    return simulator


def test_seat_and_team_delete_revoke_through_the_session(env: RunningSimulator) -> None:
    SeatProvider().delete("acme/bob", {"organization": "acme", "login": "bob", "stack": "dev"})
    TeamGrantProvider().delete("acme/team/platform", {"organization": "acme", "team": "platform", "stack": "dev"})
    assert [(w.method, w.body) for w in env.writes] == [
        ("DELETE", {"selected_usernames": ["bob"]}), ("DELETE", {"selected_teams": ["platform"]})]


def test_delete_with_on_delete_forget_writes_nothing(env: RunningSimulator) -> None:
    SeatProvider().delete("acme/bob", {"organization": "acme", "login": "bob", "stack": "forgetful"})
    RevocationProvider().delete("acme/bob", {"organization": "acme", "login": "bob"})
    OrganizationProvider().delete("acme", {"organization": "acme"})
    assert env.writes == []


def test_a_failed_legacy_delete_raises_githubs_answer(env: RunningSimulator) -> None:
    env.state.org("acme").seat_management_setting = "assign_all"
    with pytest.raises(UnprocessableError, match="not enabled"):
        SeatProvider().delete("acme/bob", {"organization": "acme", "login": "bob", "stack": "dev"})


def test_destroy_of_a_stack_never_upgraded_is_refused(env: RunningSimulator) -> None:
    with pytest.raises(RuntimeError, match=r"run `pulumi up` once.*Nothing was revoked"):
        RosterProvider().delete("acme/roster", {"organization": "acme", "roster_users": ["bob"]})
    assert env.writes == []
