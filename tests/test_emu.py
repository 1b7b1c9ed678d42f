"""Enterprise Managed User logins (``handle_shortcode``) end to end: one rule, every entry point.

The rule is :data:`copilot_seats.desired.spec.LOGIN_PATTERN`; the schema's ``userLogin`` must be the
same pattern. An EMU org imports (exit 0), validates, previews and applies on the real engine
against the simulator, and a new EMU user requested in seats.yaml is granted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import RunningSimulator
from engine import PulumiWorkspace, seat_changes

from copilot_seats.desired.loader import check_spec
from copilot_seats.desired.seats_edit import NewEntry, add_entries, entry_names
from copilot_seats.desired.spec import LOGIN_PATTERN, is_login

REPO = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "copilot-seats"

GOOD = ["alice", "Alice", "mona-lisa", "a", "a" * 39, "alice_acme", "Alice_ACME", "mona-lisa_octo",
        "a_abc", "x1_abcdefgh", "a" * 30 + "_abcdefgh"]
BAD = ["alice_", "_acme", "alice__acme", "alice_acme_x", "alice_ac", "alice_abcdefghi", "alice-_acme",
       "-alice_acme", "alice_ac-me", "a" * 31 + "_abcdefgh", "alice_ac.me", "alice_acme/x", "bob_x",
       "bo--b_acme", "alice_acm%2f"]

EMU_FIXTURE = {
    "organizations": [{
        "login": "acme-emu", "seat_management_setting": "assign_selected", "plan_type": "business",
        "members": ["alice_acme", "Bob-Smith_acme", "carol_acme", "frank_acme"],
        "teams": [{"slug": "data_science", "name": "Data Science", "members": ["carol_acme"]}],
        "seats": [
            {"login": "alice_acme", "created_at": {"days_ago": 40}, "last_activity_at": {"days_ago": 1}},
            {"login": "Bob-Smith_acme", "created_at": {"days_ago": 40}, "last_activity_at": {"days_ago": 3}},
            {"login": "carol_acme", "teams": ["data_science"], "created_at": {"days_ago": 20},
             "last_activity_at": {"days_ago": 2}},
        ],
    }],
}


def test_the_schema_uses_the_one_login_rule() -> None:
    for path in (REPO / "schemas" / "seats.schema.json", REPO / "copilot_seats" / "seats.schema.json"):
        schema = json.loads(path.read_text())
        assert schema["$defs"]["userLogin"]["pattern"] == f"^{LOGIN_PATTERN}$", path
        assert schema["properties"]["users"]["propertyNames"]["$ref"] == "#/$defs/userLogin"
        assert "_" not in schema["$defs"]["githubLogin"]["pattern"], "organizations have no EMU suffix"


@pytest.mark.parametrize("name", GOOD)
def test_personal_and_emu_logins_are_logins(name: str) -> None:
    assert is_login(name)
    result = check_spec(f"organization: acme\nusers:\n  {name}:\n")
    assert result.spec is not None, result.errors
    assert [u.login for u in result.spec.users] == [name]


@pytest.mark.parametrize("name", BAD)
def test_malformed_logins_are_rejected_at_their_key(name: str) -> None:
    assert not is_login(name)
    result = check_spec(f"organization: acme\nusers:\n  ok:\n  '{name}':\n")
    assert result.spec is None
    [error] = result.errors
    assert (error.line, error.column) == (4, 3) and error.message.startswith("invalid login")


def test_emu_logins_differing_only_in_case_are_one_person() -> None:
    result = check_spec("organization: acme\nusers:\n  alice_acme:\n  Alice_ACME:\n")
    assert result.spec is None and "case" in str(result.errors[0]).lower()


def test_an_organization_login_takes_no_emu_suffix() -> None:
    assert check_spec("organization: acme_corp\nusers:\n  alice_acme:\n").spec is None


def _import(sim: RunningSimulator) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), "import", "--org", "acme-emu", "--output", "-"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **sim.env()}, check=False)


def test_an_emu_org_imports_and_validates(make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> None:
    sim = make_simulator(EMU_FIXTURE)
    imported = _import(sim)
    assert imported.returncode == 0, imported.stderr
    assert entry_names(imported.stdout, "users") == ["alice_acme", "Bob-Smith_acme"]
    assert entry_names(imported.stdout, "teams") == ["data_science"]
    (tmp_path / "seats.yaml").write_text(imported.stdout)
    validated = subprocess.run([str(CLI), "validate", str(tmp_path / "seats.yaml")], capture_output=True,
                               text=True, timeout=60, check=False)
    assert validated.returncode == 0, validated.stdout + validated.stderr


@pytest.mark.engine
def test_an_emu_org_previews_and_applies_on_the_engine(make_simulator: Callable[..., RunningSimulator],
                                                      tmp_path: Path) -> None:
    sim = make_simulator(EMU_FIXTURE)
    imported = _import(sim).stdout
    ws = PulumiWorkspace(tmp_path, imported, extra_env={**sim.env(), "COPILOT_SEATS_WRITE_SPACING": "0"})
    ws.init_stack("emu")
    up = ws.up(policy_pack="policies")
    assert up.returncode == 0, up
    assert not sim.writes or all(w.method == "POST" for w in sim.writes), "bootstrap revokes nothing"
    assert ws.preview("--expect-no-changes").returncode == 0

    ws.write_seats(add_entries(imported, "users", [NewEntry("frank_acme", "EMU request")]))
    preview = ws.preview("--json", policy_pack=None)
    assert preview.returncode == 0, preview
    assert seat_changes(preview) == {"user frank_acme": "grant"}
    up = ws.up(policy_pack="policies")
    assert up.returncode == 0, up
    held = {s["assignee"]["login"] for s in sim.client().list_seats("acme-emu") if s.get("assignee")}
    assert "frank_acme" in held
