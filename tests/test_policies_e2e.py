"""The policy pack on the real engine: `pulumi preview --policy-pack policies` against the simulator.

Expectations are written out by hand from the fixtures (specific logins and policy names), never
computed with the rules under test. Every preview must also leave the simulator unwritten.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import RunningSimulator
from engine import REPO, PulumiResult, PulumiWorkspace, policy_violations

from copilot_seats import __version__

pytestmark = pytest.mark.engine

SEATS = "copilot:index:Seats"
"""Every finding is on the org's one resource (name ``seats``); its message names its subject."""

POLICY_ORG: dict[str, Any] = {
    "organizations": [{
        "login": "policy-org",
        "seat_management_setting": "assign_selected",
        "plan_type": "business",
        "members": ["alice", "idle", "never", "newbie", "leaving", "contractor", "onleave", "dual", "m1", "m2",
                    "rogue", "s1", "s2", "ghost"],
        "teams": [
            {"slug": "mobile", "name": "Mobile", "members": ["dual", "m1", "m2"]},
            {"slug": "empty", "name": "Empty", "members": []},
            {"slug": "shadow", "name": "Shadow", "members": ["s1", "s2"]},
        ],
        "seats": [
            {"login": "alice", "created_at": {"days_ago": 300}, "last_activity_at": {"days_ago": 2},
             "last_activity_editor": "vscode/1.99.0/copilot/1.300.0"},
            {"login": "idle", "created_at": {"days_ago": 300}, "last_activity_at": {"days_ago": 75},
             "last_activity_editor": "JetBrains-IC/2024.1/copilot/1.5"},
            {"login": "never", "created_at": {"days_ago": 200}, "last_activity_at": None},
            {"login": "newbie", "created_at": {"days_ago": 3}, "last_activity_at": None},
            {"login": "leaving", "created_at": {"days_ago": 100}, "last_activity_at": {"days_ago": 5},
             "pending_cancellation": True},
            {"login": "contractor", "created_at": {"days_ago": 100}, "last_activity_at": {"days_ago": 1}},
            {"login": "onleave", "created_at": {"days_ago": 300}, "last_activity_at": None},
            {"login": "dual", "teams": ["mobile"], "created_at": {"days_ago": 50},
             "last_activity_at": {"days_ago": 1}},
            {"login": "m1", "teams": ["mobile"], "created_at": {"days_ago": 50},
             "last_activity_at": {"days_ago": 1}},
            {"login": "m2", "teams": ["mobile"], "created_at": {"days_ago": 200},
             "last_activity_at": {"days_ago": 80}},
            {"login": "rogue", "created_at": {"days_ago": 40}, "last_activity_at": {"days_ago": 1}},
            {"login": "s1", "teams": ["shadow"], "created_at": {"days_ago": 40}, "last_activity_at": None},
            {"login": "s2", "teams": ["shadow"], "created_at": {"days_ago": 40}, "last_activity_at": None},
        ],
    }],
}
"""One login per situation; `ghost` is declared but holds no seat."""

POLICY_SEATS = """\
organization: policy-org
settings:
  mode: additive
users:
  alice: {owner: platform}
  idle: {owner: platform}
  never: {owner: platform}
  newbie: {owner: platform}
  leaving: {owner: platform}
  contractor:
    owner: vendor-office
    expires: 2020-01-31
  onleave:
    owner: platform
    stale_exemption: {reason: Parental leave, until: 2099-01-01}
  dual: {owner: mobile-lead}
  ghost: {owner: platform}
teams:
  mobile: {owner: mobile-lead}
  empty: {owner: platform}
"""

EXPECTED_POLICY_ORG = {
    ("stale-seat", "idle"),            # 75 days > 60 (+1)
    ("stale-seat", "never"),           # null activity, granted 200 days ago > 14
    ("stale-seat", "team mobile"),     # member m2 (seat through the team): 80 days
    ("missing-seat", "leaving"),       # pending cancellation
    ("missing-seat", "ghost"),         # no seat at all
    ("missing-seat", "team empty"),    # declared team without members
    ("expired-grant", "contractor"),   # expires 2020-01-31
    ("double-grant", "dual"),          # declared user, seat through declared team mobile
    ("unmanaged-seat", "rogue"),       # direct
    ("unmanaged-seat", "team shadow"),  # s1, s2
}

def violations(result: PulumiResult) -> list[dict[str, str]]:
    """Every policy violation the preview printed (level, policy, type, name, message), either layout."""
    found = policy_violations(result)
    assert {(v["pack"], v["version"]) for v in found} <= {("copilot-seats", __version__)}, found
    return found


def subject(violation: dict[str, str]) -> str:
    """Who a finding is about, as its message says: ``idle``, ``team mobile`` (also for a member
    judged through the team: ``(via team mobile) m2: ...``), ``245 direct seats``."""
    message = violation["message"]
    if message.startswith("(via team "):
        return "team " + message[len("(via team "):message.index(")")]
    return message.split(":", 1)[0]


def keys(found: list[dict[str, str]]) -> set[tuple[str, str]]:
    assert {(v["type"], v["name"]) for v in found} <= {(SEATS, "seats")}, found  # one resource per org
    return {(v["policy"], subject(v)) for v in found}


@pytest.fixture
def policy_sim(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    return make_simulator(POLICY_ORG)


def workspace(tmp_path: Path, sim: RunningSimulator, seats: str) -> PulumiWorkspace:
    ws = PulumiWorkspace(tmp_path, seats, extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack()
    return ws


def pack_config(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "pack-config.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def ws(tmp_path: Path, policy_sim: RunningSimulator) -> PulumiWorkspace:
    return workspace(tmp_path, policy_sim, POLICY_SEATS)


def test_preview_reports_exactly_the_expected_violations(ws: PulumiWorkspace,
                                                        policy_sim: RunningSimulator) -> None:
    result = ws.preview()
    assert result.returncode == 0, result  # every default policy that fires here is advisory
    found = violations(result)
    assert keys(found) == EXPECTED_POLICY_ORG, result
    assert len(found) == len(EXPECTED_POLICY_ORG), result  # one finding each
    assert {v["level"] for v in found} == {"advisory"}
    by_subject = {v["message"].split(":")[0]: v for v in found}
    assert "no Copilot activity for 75 days" in by_subject["idle"]["message"]
    assert "JetBrains-IC/2024.1/copilot/1.5" in by_subject["idle"]["message"]
    assert "never used, or inactive for more than GitHub's 90-day retention" in by_subject["never"]["message"]
    assert "telemetry" in by_subject["never"]["message"]
    assert "pending cancellation" in by_subject["leaving"]["message"]
    assert "expired on 2020-01-31" in by_subject["contractor"]["message"]
    assert "team mobile" in by_subject["dual"]["message"]
    assert "no Copilot activity for 80 days" in by_subject["(via team mobile) m2"]["message"]
    assert by_subject["rogue"]["policy"] == "unmanaged-seat"
    assert "team shadow" in by_subject and "2 user(s): s1, s2" in by_subject["team shadow"]["message"]
    assert policy_sim.writes == []


def test_mandatory_stale_seat_fails_the_preview(tmp_path: Path, ws: PulumiWorkspace,
                                                policy_sim: RunningSimulator) -> None:
    result = ws.preview(pack_config=pack_config(tmp_path, {"stale-seat": "mandatory"}))
    assert result.returncode != 0, result
    levels = {(v["policy"], subject(v)): v["level"] for v in violations(result)}
    assert levels[("stale-seat", "idle")] == levels[("stale-seat", "never")] == "mandatory"
    assert levels[("missing-seat", "ghost")] == "advisory"
    assert policy_sim.writes == []


def test_config_disables_a_policy_and_tunes_thresholds(tmp_path: Path, ws: PulumiWorkspace) -> None:
    config = {"unmanaged-seat": "disabled", "stale-seat": {"staleDays": 80}, "double-grant": "disabled"}
    result = ws.preview(pack_config=pack_config(tmp_path, config))
    assert result.returncode == 0, result
    found = keys(violations(result))
    assert not {k for k in found if k[0] in {"unmanaged-seat", "double-grant"}}
    assert ("stale-seat", "never") in found and ("stale-seat", "idle") not in found
    assert ("missing-seat", "ghost") in found


def test_budget_caps_from_config(tmp_path: Path, ws: PulumiWorkspace) -> None:
    caps = {"seat-budget": {"maxSeats": 3, "maxMonthlyCost": 100}}
    result = ws.preview(pack_config=pack_config(tmp_path, caps))
    assert result.returncode == 0, result
    budget = [v for v in violations(result) if v["policy"] == "seat-budget"]
    assert {subject(v) for v in budget} == {"policy-org"} and len(budget) == 2
    assert any("above the cap of 3 (maxSeats)" in v["message"] for v in budget)
    # 13 listed seats x 19 USD (business list price) = 247 USD
    assert any("247 USD/month" in v["message"] and "above the cap of 100" in v["message"] for v in budget)


def test_invalid_config_is_rejected_by_the_engine(tmp_path: Path, ws: PulumiWorkspace) -> None:
    result = ws.preview(pack_config=pack_config(tmp_path, {"stale-seat": {"staleDays": 365}}))
    assert result.returncode != 0, result
    assert "staleDays" in result.output


def test_seat_management_setting_is_mandatory_by_default(
        tmp_path: Path, make_simulator: Callable[..., RunningSimulator]) -> None:
    fixture = json.loads(json.dumps(POLICY_ORG))
    fixture["organizations"][0]["seat_management_setting"] = "assign_all"
    sim = make_simulator(fixture)
    result = workspace(tmp_path, sim, POLICY_SEATS).preview()
    assert result.returncode != 0, result
    [setting] = [v for v in violations(result) if v["policy"] == "seat-management-setting"]
    assert setting["level"] == "mandatory" and setting["type"] == SEATS and subject(setting) == "policy-org"
    assert "'assign_all'" in setting["message"]
    assert sim.writes == []


# --- the demo organization (seats.yaml + the simulator's octo-demo fixture) ---------------------

def _demo_fixture() -> dict[str, Any]:
    from copilot_seats.simulator import DEMO_FIXTURE, read_fixture
    from copilot_seats.simulator.make_demo import build_demo

    if DEMO_FIXTURE.exists():
        return read_fixture("demo")
    return build_demo(yaml.safe_load((REPO / "seats.yaml").read_text()))


def test_demo_org_preview_reports_the_known_drift_and_stale_seats(
        tmp_path: Path, make_simulator: Callable[..., RunningSimulator]) -> None:
    fixture = _demo_fixture()
    seats_text = (REPO / "seats.yaml").read_text()
    spec = yaml.safe_load(seats_text)
    sim = make_simulator(fixture)
    result = workspace(tmp_path, sim, seats_text).preview()
    assert result.returncode == 0, result
    found = violations(result)
    by_policy: dict[str, list[str]] = {}
    for v in found:
        by_policy.setdefault(v["policy"], []).append(subject(v))

    # Known situations of the demo org (copilot_seats/simulator/make_demo.py documents them).
    assert sorted(by_policy["missing-seat"]) == sorted(
        ["rajred", "cynthia-dwork", "silviomic", "tim-bernerslee", "mary-shaw"])
    assert by_policy["double-grant"] == ["ken-thompson"]
    assert "seat-management-setting" not in by_policy and "seat-budget" not in by_policy
    unmanaged = by_policy["unmanaged-seat"]
    # 245 direct seats, above summarizeAbove (20): one summary naming the count, plus one team
    assert sorted(unmanaged) == ["245 direct seats", "team contractors"]

    # Expired entries: straight from seats.yaml's dates.
    today = date.today()
    expected_expired = {login for login, entry in spec["users"].items()
                        if entry.get("expires") and entry["expires"] < today}
    expected_expired |= {slug for slug, entry in spec["teams"].items()
                         if entry.get("expires") and entry["expires"] < today}
    assert "tim-bernerslee" in expected_expired
    assert set(by_policy["expired-grant"]) == expected_expired

    # Stale: declared users with a direct, not-pending seat whose fixture activity is > 61 days
    # old, or null with a grant older than 14 days; frances-allen is exempt until 2027-03-01.
    seats = {s["login"]: s for s in fixture["organizations"][0]["seats"]}
    expected_stale = set()
    for login in spec["users"]:
        seat = seats.get(login)
        if seat is None or seat.get("pending_cancellation") or login == "frances-allen":
            continue
        activity = seat.get("last_activity_at")
        if (activity is not None and activity["days_ago"] > 61) or (
                activity is None and seat["created_at"]["days_ago"] > 14):
            expected_stale.add(login)
    assert "frances-allen" not in by_policy["stale-seat"]
    assert set(by_policy["stale-seat"]) == expected_stale and expected_stale
    assert sim.writes == []
