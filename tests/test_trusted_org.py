"""A pull request's seats.yaml cannot choose which organization the preview reads.

The preview workflow sets ``COPILOT_SEATS_ORG`` (the repository variable, default the repository
owner), which is ``--org`` of ``validate``, ``report`` and ``pr-comment``: a seats file naming
another organization is invalid, so the workflow previews and reports nothing, and the comment
is a refusal. Run against the simulator's request log: nothing is read from GitHub.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from conftest import SMALL_FIXTURE, RunningSimulator

from copilot_seats.cli import main


def _comment(tmp_path: Path, seats: str, env: dict[str, str]) -> str:
    (tmp_path / "seats.yaml").write_text(seats)
    (tmp_path / "preview.json").write_text(json.dumps({"steps": []}))
    result = CliRunner().invoke(main, ["pr-comment", "--seats", str(tmp_path / "seats.yaml"),
                                       "--preview", str(tmp_path / "preview.json"), "--stack", "prod"], env=env)
    assert result.exit_code == 0, result.output
    return html.unescape(result.output).replace("`", "")


def test_a_pr_naming_another_organization_gets_a_refusal_and_nothing_is_read(
        tmp_path: Path, make_simulator: Callable[..., RunningSimulator]) -> None:
    sim = make_simulator(SMALL_FIXTURE)
    text = _comment(tmp_path, "organization: other-org\nusers:\n  alice:\n", {**sim.env(), "COPILOT_SEATS_ORG": "acme"})
    assert "### seats.yaml is invalid (1 problem(s))" in text
    assert "seats.yaml:1:15: organization 'other-org' is not 'acme', the organization this repository manages" in text
    assert "### Plan" not in text
    assert sim.requests == [], "the read credential listed no seat of any organization"


def test_the_managed_organization_is_read_as_before(tmp_path: Path,
                                                    make_simulator: Callable[..., RunningSimulator]) -> None:
    sim = make_simulator(SMALL_FIXTURE)
    text = _comment(tmp_path, "organization: ACME\nusers:\n  alice:\n", {**sim.env(), "COPILOT_SEATS_ORG": "acme"})
    assert "### Plan" in text and "invalid" not in text
    assert sim.requests, "the live listing of the managed organization was read"


def test_report_reads_the_managed_organization_not_the_files(
        tmp_path: Path, make_simulator: Callable[..., RunningSimulator]) -> None:
    sim = make_simulator(SMALL_FIXTURE)
    (tmp_path / "seats.yaml").write_text("organization: other-org\nusers:\n  alice:\n")
    result = CliRunner().invoke(main, ["report", "--seats", str(tmp_path / "seats.yaml"), "--format", "json"],
                                env={**sim.env(), "COPILOT_SEATS_ORG": "acme"})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["organization"] == "acme"
    assert {r.path.split("/")[2] for r in sim.requests if r.path.startswith("/orgs/")} == {"acme"}
