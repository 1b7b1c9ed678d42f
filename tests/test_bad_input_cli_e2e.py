"""Issue 11 through the `copilot-seats` console script: each finding reproduced and asserted fixed.

The simulator runs in this process; the CLI runs as a real subprocess, so exit codes, stdout and
stderr are exactly what a user (or a workflow) sees.
"""

from __future__ import annotations

import copy
import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SMALL_FIXTURE, RunningSimulator

CLI = Path(sys.executable).parent / "copilot-seats"
SEATS = "organization: acme\nusers:\n  Alice: {owner: platform}\n  frank: {}\n"


def run(sim: RunningSimulator | None, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITHUB_API_URL")}
    environment.update(sim.env() if sim else {})
    environment.update(env or {})
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, env=environment, cwd=cwd,
                          timeout=timeout, check=False)


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    out = result.stdout + result.stderr
    assert "Traceback" not in out and "internal error" not in out, out


@pytest.fixture
def seats(tmp_path: Path) -> Path:
    path = tmp_path / "seats.yaml"
    path.write_text(SEATS)
    return path


# -- 1. YAML tags of the wrong node kind --------------------------------------------------------

@pytest.mark.parametrize(("value", "message"), [
    ("!!seq {a: 1}", "'!!seq' does not fit a mapping"),
    ("!!map [a, b]", "'!!map' does not fit a list"),
    ("!!map x", "'!!map' does not fit a plain value"),
    ("!!bool maybe", "'maybe' is not a valid '!!bool' value"),
    ("!!timestamp [1]", "'!!timestamp' does not fit a list"),
    ("!!int twelve", "'twelve' is not a valid '!!int' value"),
    ("!!null x", "'x' is not a valid '!!null' value"),
])
def test_finding_1_wrong_kind_tags_are_located_in_validate_and_report(simulator: RunningSimulator, tmp_path: Path,
                                                                     value: str, message: str) -> None:
    path = tmp_path / "seats.yaml"
    path.write_text(f"organization: acme\nusers:\n  alice: {value}\n")
    checked = run(None, "validate", str(path))
    assert checked.returncode == 1, checked.stdout
    assert re.search(rf"^{re.escape(str(path))}:3:10: error: .*{re.escape(message)}", checked.stdout, re.M), \
        checked.stdout
    no_traceback(checked)
    reported = run(simulator, "report", "--seats", str(path))
    assert reported.returncode == 1 and message in reported.stderr and "nothing was sent" in reported.stderr
    no_traceback(reported)
    assert simulator.requests == []


# -- 2. tokens: validated before any request, never printed ------------------------------------

@pytest.mark.parametrize(("suffix", "kind"), [("\nsecond line", "a line break"), (" two", "whitespace"),
                                              ("\x1b[2J", "a control character"), ("é", "a non-ASCII character")])
@pytest.mark.parametrize("command", [["report"], ["import", "--org", "acme", "--output", "-"], ["prune", "--dry-run"]])
def test_finding_2_malformed_token_is_named_not_shown_and_nothing_is_sent(
        simulator: RunningSimulator, seats: Path, suffix: str, kind: str, command: list[str]) -> None:
    token = simulator.token + suffix
    extra = ["--seats", str(seats)] if command[0] in ("report", "prune") else []
    result = run(simulator, *command, *extra, env={"GITHUB_TOKEN": token})
    assert result.returncode == 2, result.stderr
    assert "GITHUB_TOKEN is malformed" in result.stderr and kind in result.stderr
    assert simulator.token not in result.stdout + result.stderr
    assert "second line" not in result.stderr
    no_traceback(result)
    assert simulator.requests == []


def test_finding_2_a_server_echoing_the_token_in_any_encoding_is_scrubbed(simulator: RunningSimulator,
                                                                          seats: Path) -> None:
    from urllib.parse import quote

    token = simulator.token
    echoed = f"token {token} / {quote(token + '/x', safe='')} / {token!r} / {token.encode()!r}"
    simulator.state.inject(status=500, times=10, message=echoed)
    result = run(simulator, "report", "--seats", str(seats))
    assert result.returncode == 3
    assert token not in result.stderr and quote(token, safe="") not in result.stderr
    assert result.stderr.count("***") >= 4


# -- 3. --org: seats.yaml's rule, dot segments included ----------------------------------------

@pytest.mark.parametrize("org", ["..", ".", "a/b", "%2e%2e", "acme?x=1", "acme#x", "-acme", "acme\n", "", "a" * 40])
@pytest.mark.parametrize("command", ["report", "import"])
def test_finding_3_invalid_org_is_a_usage_error_before_any_request(simulator: RunningSimulator, seats: Path,
                                                                   org: str, command: str) -> None:
    args = ["report", "--seats", str(seats)] if command == "report" else ["import", "--output", "-"]
    result = run(simulator, *args, "--org", org)
    assert result.returncode == 2, result.stderr
    assert "--org" in result.stderr and ("not a valid organization name" in result.stderr
                                         or "which organization" in result.stderr)
    no_traceback(result)
    assert simulator.requests == []


# -- 4. malformed GitHub payloads ---------------------------------------------------------------

@pytest.mark.parametrize(("path", "body", "where"), [
    ("/copilot/billing/seats", {"seats": [{"assignee": {"login": "Alice"}}]}, "seats[0].created_at"),
    ("/copilot/billing/seats", {"seats": [{"assignee": {"login": 7}, "created_at": "2024-01-01"}]},
     "seats[0].assignee.login"),
    ("/copilot/billing/seats", {"seats": [{"assignee": {"login": "a"}, "created_at": "yesterday"}]},
     "seats[0].created_at"),
    ("/copilot/billing/seats", {"seats": "none"}, "at seats"),
    ("/copilot/billing/seats", {"seats": [3]}, "seats[0]"),
    ("/copilot/billing/seats", {"total_seats": "5", "seats": []}, "total_seats"),
    ("/copilot/billing/seats", [1, 2], "expected a JSON object"),
    ("/copilot/billing", {"seat_breakdown": {"total": "12"}}, "seat_breakdown.total"),
    ("/copilot/billing", {"seat_breakdown": [], "seat_management_setting": "assign_selected"}, "seat_breakdown"),
])
def test_finding_4_malformed_payloads_are_typed_located_errors(simulator: RunningSimulator, seats: Path, path: str,
                                                               body: Any, where: str) -> None:
    simulator.state.inject(status=200, method="GET", path=path, body=body, times=5)
    result = run(simulator, "report", "--seats", str(seats))
    assert result.returncode == 3, result.stderr
    assert "unexpected response from GitHub" in result.stderr and where in result.stderr
    assert f"/orgs/acme{path}" in result.stderr
    no_traceback(result)


# -- 5. true messages ---------------------------------------------------------------------------

def test_finding_5_validate_refuses_a_fifo_without_hanging(tmp_path: Path, simulator: RunningSimulator) -> None:
    fifo = tmp_path / "seats.yaml"
    os.mkfifo(fifo)
    result = run(None, "validate", str(fifo), timeout=20)
    assert result.returncode == 1 and "FIFO" in result.stdout, result
    reported = run(simulator, "report", "--seats", str(fifo), timeout=20)
    assert reported.returncode == 1 and "FIFO" in reported.stderr and simulator.requests == []


def test_finding_5_symlink_loop_has_one_message_everywhere(tmp_path: Path, simulator: RunningSimulator) -> None:
    loop = tmp_path / "seats.yaml"
    loop.symlink_to(tmp_path / "other.yaml")
    (tmp_path / "other.yaml").symlink_to(loop)
    validated = run(None, "validate", str(loop))
    reported = run(simulator, "report", "--seats", str(loop))
    assert validated.returncode == reported.returncode == 1
    reason = "cannot read the file: Too many levels of symbolic links (a symbolic link loop"
    assert reason in validated.stdout and reason in reported.stderr
    assert "does not exist" not in validated.stdout + validated.stderr
    assert simulator.requests == []


def test_finding_5_oversized_file_reports_its_exact_size(tmp_path: Path) -> None:
    big = tmp_path / "seats.yaml"
    with big.open("wb") as handle:
        handle.truncate(34_488_921)
    result = run(None, "validate", str(big))
    assert result.returncode == 1 and "34,488,921 bytes (the limit is 33,554,432 bytes)" in result.stdout


# -- 6. injection into reports ------------------------------------------------------------------

EVIL_EDITOR = ("vscode/1.0\n# Owned\n![img](https://evil.example/x.png) <img src=x onerror=alert(1)> "
               "[link](https://e) | x @octo/admins")


def _evil_simulator(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    fixture = copy.deepcopy(SMALL_FIXTURE)
    for seat in fixture["organizations"][0]["seats"]:
        if seat["login"] == "Alice":
            seat["last_activity_editor"] = EVIL_EDITOR
        if seat["login"] == "bob":
            seat["last_activity_editor"] = "=HYPERLINK(\"https://evil.example\",\"click\")"
    return make_simulator(fixture)


def test_finding_6_markdown_report_renders_github_strings_inert(make_simulator: Callable[..., RunningSimulator],
                                                                seats: Path) -> None:
    sim = _evil_simulator(make_simulator)
    result = run(sim, "report", "--seats", str(seats), "--format", "markdown")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert not re.search(r"^# ", text, re.M), "a heading was injected"
    outside_code = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text)  # code spans render literally
    assert "<img" not in outside_code and "![" not in outside_code and "](http" not in outside_code
    assert "@octo" not in outside_code and "evil.example" not in outside_code
    assert "evil.example" in text, "the editor string is still shown (as code)"
    alice = next(line for line in text.splitlines() if line.startswith("| `Alice`"))
    assert alice.count(" | ") == 5, "a pipe split the table row"  # six cells, as in the header


def test_finding_6_csv_report_neutralises_formulas_from_github_and_seats_yaml(
        make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> None:
    sim = _evil_simulator(make_simulator)
    path = tmp_path / "seats.yaml"
    path.write_text("organization: acme\nusers:\n  Alice:\n    owner: \"=cmd|' /C calc'!A0\"\n"
                    "    reason: \"+SUM(1,1)\"\n    cost_center: \"@evil\"\n  frank: {}\n")
    result = run(sim, "report", "--seats", str(path), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    cells = [cell for row in rows for cell in row.values() if cell]
    assert not [c for c in cells if c.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))], cells
    alice = next(r for r in rows if r["login"] == "Alice")
    assert alice["owner"] == "'=cmd|' /C calc'!A0" and alice["reason"] == "'+SUM(1,1)"
    assert alice["cost_center"] == "'@evil"
    bob = next(r for r in rows if r["login"] == "bob")
    assert bob["last_activity_editor"].startswith("'=HYPERLINK")


def test_finding_6_terminal_table_shows_control_characters_escaped(make_simulator: Callable[..., RunningSimulator],
                                                                   seats: Path) -> None:
    fixture = copy.deepcopy(SMALL_FIXTURE)
    fixture["organizations"][0]["seats"][0]["last_activity_editor"] = "vim\x1b[2J\x1b]0;pwned\x07/1"
    sim = make_simulator(fixture)
    result = run(sim, "report", "--seats", str(seats))
    assert result.returncode == 0 and "\x1b" not in result.stdout and "vim\\x1b[2J" in result.stdout


# -- 9. one error model, one mapping ------------------------------------------------------------

def test_finding_9_every_exit_path_uses_the_documented_codes(simulator: RunningSimulator, seats: Path,
                                                              tmp_path: Path) -> None:
    assert run(simulator, "report", "--seats", str(seats), "--fail-on-drift").returncode == 1
    assert run(simulator, "report", "--seats", str(seats), env={"GITHUB_TOKEN": ""}).returncode == 2
    assert run(simulator, "report", "--seats", str(seats), "--org", "nope").returncode == 3
    unwritable = run(simulator, "report", "--seats", str(seats), "--output", str(tmp_path / "no" / "dir.md"))
    assert unwritable.returncode == 1 and "No such file or directory" in unwritable.stderr
    no_traceback(unwritable)
