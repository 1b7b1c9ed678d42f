"""Per-seat policies summarise above ``summarizeAbove``: the preview stays readable at any size.

Driven like pulumi-policy drives the pack (tests/test_policy_pack.py's ``args``): every seat of
the org is in the one Seats resource, so one ``validate`` call reports the first
``summarizeAbove`` violations one by one, then one summary naming every other login. On the real
engine: a 120-seat org where most seats are stale shows exactly ``summarizeAbove`` stale-seat
violations plus one summary, all on the Seats resource.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningSimulator
from engine import PulumiWorkspace, policy_violations
from scale_org import login, scale_fixture, seats_yaml
from test_policy_pack import args
from test_rules import NOW

from copilot_seats.policies.config import PER_SEAT_POLICIES, SEATS_TYPE, policy_spec
from copilot_seats.policies.pack import build_policies
from copilot_seats.provider.contract import SEATS_NAME, SeatObservation, SeatsInputs, UserEntry

SUMMARY = re.compile(r"^\d+ more seat\(s\) in violation of ")


def stale_org(seats: int) -> dict[str, Any]:
    """The Seats inputs of an org whose ``seats`` declared users never used their seat (granted 2025)."""
    names = [f"user-{i:03d}" for i in range(seats)]
    return SeatsInputs(
        "acme", users={n: UserEntry(login=n, owner="eng") for n in names},
        observed_users={n: SeatObservation(created_at="2025-01-01T00:00:00Z", standing="seated") for n in names},
    ).to_props()


def _run(policy: str, seats: int, config: dict[str, Any] | None = None) -> list[str]:
    """Every message ``policy`` reports, in order, for the one Seats resource of ``seats`` stale seats."""
    [built] = [p for p in build_policies(lambda: NOW) if p.name == policy]
    found: list[str] = []
    built.validate(args(SEATS_TYPE, stale_org(seats), config, name=SEATS_NAME),
                   lambda message, urn=None: found.append(message))
    return found


def _logins(messages: list[str]) -> list[str]:
    """The login each one-by-one violation is about (its message starts with it)."""
    return [m.split(":", 1)[0] for m in messages if not SUMMARY.match(m)]


def test_the_per_seat_policies_are_the_ones_judging_seats_and_teams() -> None:
    assert set(PER_SEAT_POLICIES) == {"stale-seat", "missing-seat", "expired-grant", "double-grant"}
    for name in PER_SEAT_POLICIES:
        assert policy_spec(name).properties["summarizeAbove"]["default"] == 20


def test_up_to_the_threshold_each_violation_is_reported_one_by_one() -> None:
    found = _run("stale-seat", 20)
    assert _logins(found) == [f"user-{i:03d}" for i in range(20)]
    assert not [m for m in found if SUMMARY.match(m)]


def test_above_the_threshold_one_summary_names_every_other_seat() -> None:
    found = _run("stale-seat", 95)
    assert len(found) == 21
    assert _logins(found[:20]) == [f"user-{i:03d}" for i in range(20)]
    summary = found[20]
    assert summary.startswith("75 more seat(s) in violation of stale-seat beyond the 20 reported one by one")
    named = re.findall(r"user-\d{3}", summary)
    assert named == [f"user-{i:03d}" for i in range(20, 70)] and "and 25 more" in summary


@pytest.mark.parametrize("threshold", [0, 3])
def test_the_threshold_is_configurable(threshold: int) -> None:
    found = _run("stale-seat", 10, {"summarizeAbove": threshold})
    assert len(_logins(found)) == threshold
    assert found[-1].startswith(f"{10 - threshold} more seat(s) in violation of stale-seat beyond the {threshold}")


def test_each_validation_summarises_its_own_resource() -> None:
    """No tally outlives one ``validate`` call: a second preview (or a second org) counts afresh."""
    assert len(_run("stale-seat", 25)) == 21
    assert len(_run("stale-seat", 25)) == 21
    assert len(_run("stale-seat", 5)) == 5


@pytest.mark.engine
def test_a_preview_of_many_stale_seats_stays_short(make_simulator: Callable[..., RunningSimulator],
                                                   tmp_path: Path) -> None:
    n = 120
    sim = make_simulator(scale_fixture(n))
    ws = PulumiWorkspace(tmp_path, seats_yaml("bigco", [login(i) for i in range(n)]), extra_env=sim.env())
    ws.init_stack("test")
    result = ws.preview()
    assert result.returncode == 0, result
    stale = [v for v in policy_violations(result) if v["policy"] == "stale-seat"]  # either lane's layout
    assert len(stale) == 21, result.stdout
    assert {v["name"] for v in stale} == {SEATS_NAME}  # one resource holds every seat
    assert sum("more seat(s) in violation of stale-seat" in v["message"] for v in stale) == 1
    summary = result.stdout[result.stdout.index("more seat(s) in violation of stale-seat") - 10:]
    assert re.search(r"\d+ more seat\(s\) in violation of stale-seat beyond the 20 reported", summary)
