"""Per-seat policies summarise above ``summarizeAbove``: the preview stays readable at any size.

Driven like pulumi-policy drives the pack (tests/test_policy_pack.py's ``args``): seats are
analyzed one by one, the Roster last. On the real engine: a 120-seat org where most seats are
stale shows exactly ``summarizeAbove`` stale-seat violations at their seats plus one summary
naming every other stale login.
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

from copilot_seats.policies.config import PER_SEAT_POLICIES, ROSTER_TYPE, SEAT_TYPE, policy_spec
from copilot_seats.policies.pack import build_policies

STALE = {"organization": "acme", "live": True, "created_at": "2025-01-01T00:00:00Z", "last_activity_at": None,
         "pending_cancellation_date": None, "remembered_last_activity_at": None, "stale_exemption_until": None,
         "stale_exemption_reason": None, "owner": "eng"}


def _run(policy: str, seats: int, config: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """(resource name, message) of every violation ``policy`` reports for ``seats`` stale seats + the Roster."""
    [built] = [p for p in build_policies(lambda: NOW) if p.name == policy]
    found: list[tuple[str, str]] = []
    for i in range(seats):
        name = f"user-{i:03d}"
        built.validate(args(SEAT_TYPE, {**STALE, "login": name}, config, name=name),
                       lambda message, urn=None, n=name: found.append((n, message)))
    built.validate(args(ROSTER_TYPE, {"organization": "acme"}, config, name="roster"),
                   lambda message, urn=None: found.append(("roster", message)))
    return found


def test_the_per_seat_policies_are_the_ones_judging_seats_and_teams() -> None:
    assert set(PER_SEAT_POLICIES) == {"stale-seat", "missing-seat", "expired-grant", "double-grant"}
    for name in PER_SEAT_POLICIES:
        assert policy_spec(name).properties["summarizeAbove"]["default"] == 20


def test_up_to_the_threshold_each_violation_is_reported_at_its_seat() -> None:
    found = _run("stale-seat", 20)
    assert [n for n, _ in found] == [f"user-{i:03d}" for i in range(20)]


def test_above_the_threshold_one_summary_names_every_other_seat() -> None:
    found = _run("stale-seat", 95)
    individual = [n for n, _ in found if n != "roster"]
    assert individual == [f"user-{i:03d}" for i in range(20)]
    [summary] = [m for n, m in found if n == "roster"]
    assert summary.startswith("75 more seat(s) in violation of stale-seat beyond the 20 reported one by one")
    named = re.findall(r"user-\d{3}", summary)
    assert named == [f"user-{i:03d}" for i in range(20, 70)] and "and 25 more" in summary


@pytest.mark.parametrize("threshold", [0, 3])
def test_the_threshold_is_configurable(threshold: int) -> None:
    found = _run("stale-seat", 10, {"summarizeAbove": threshold})
    assert len([n for n, _ in found if n != "roster"]) == threshold
    assert f"{10 - threshold} more seat(s)" in next(m for n, m in found if n == "roster")


def test_a_fresh_pack_process_starts_a_fresh_tally() -> None:
    assert len(_run("stale-seat", 25)) == 21
    assert len(_run("stale-seat", 25)) == 21


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
    assert sum(v["name"] == "roster" for v in stale) == 1
    summary = result.stdout[result.stdout.index("more seat(s) in violation of stale-seat") - 10:]
    assert re.search(r"\d+ more seat\(s\) in violation of stale-seat beyond the 20 reported", summary)
