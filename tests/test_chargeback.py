"""``copilot-seats chargeback``: a billed line per seat (CSV) and cost by cost center, owner and team.

Against the simulator: every view sums to the report's estimated monthly cost, seats without
an assignee and seats pending cancellation are billed lines, a team-held seat is charged to the
team entry's cost center, and text from seats.yaml cannot run as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SMALL_FIXTURE, RunningSimulator

from copilot_seats.reports.finance import FINANCE_COLUMNS, spreadsheet_safe

CLI = Path(sys.executable).parent / "copilot-seats"

SEATS = """\
organization: acme
settings:
  seat_price_usd: 21
users:
  Alice:
    owner: "=HYPERLINK(\\"https://evil.example\\",\\"x\\")"
    cost_center: CC-1
  bob:
    owner: data
  newbie:
    owner: data
    cost_center: "+CC-2"
teams:
  platform:
    owner: platform-eng
    cost_center: CC-9
"""


@pytest.fixture
def run(make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> Callable[..., str]:
    sim = make_simulator(SMALL_FIXTURE)
    (tmp_path / "seats.yaml").write_text(SEATS)

    def go(*args: str) -> str:
        proc = subprocess.run([str(CLI), "chargeback", "--seats", str(tmp_path / "seats.yaml"), *args],
                              capture_output=True, text=True, timeout=60, env={**os.environ, **sim.env()},
                              check=False)
        assert proc.returncode == 0, proc.stderr
        assert not sim.writes
        return proc.stdout

    return go


def test_csv_has_a_priced_line_per_billed_seat_including_unassigned(run: Callable[..., str]) -> None:
    rows = list(csv.DictReader(io.StringIO(run("--format", "csv"))))
    assert tuple(rows[0]) == FINANCE_COLUMNS
    by_login = {r["login"]: r for r in rows}
    # acme: Alice, bob, carol+dave (team platform; dave also direct), erin (pending), newbie + 1 unassigned
    assert sorted(by_login) == ["", "Alice", "bob", "carol", "dave", "erin", "newbie"]
    assert all(r["price_usd"] == r["monthly_cost_usd"] == "21" and r["plan_type"] == "business" for r in rows)
    assert by_login[""]["cost_center"] == "(unassigned)" and by_login[""]["standing"] == "unassigned"
    assert by_login["erin"]["pending_cancellation_date"] and by_login["erin"]["owner"] == "(unmanaged)"
    assert by_login["carol"]["cost_center"] == "CC-9" and by_login["carol"]["team"] == "platform"
    assert by_login["bob"]["cost_center"] == "(none)" and by_login["bob"]["owner"] == "data"


def test_text_from_seats_yaml_cannot_be_a_spreadsheet_formula(run: Callable[..., str]) -> None:
    rows = {r["login"]: r for r in csv.DictReader(io.StringIO(run("--format", "csv")))}
    assert rows["Alice"]["owner"].startswith("'=HYPERLINK(")
    assert rows["newbie"]["cost_center"] == "'+CC-2"
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_safe(value) == "'" + value
    assert spreadsheet_safe("CC-1") == "CC-1" and spreadsheet_safe(None) == ""


def test_every_view_sums_to_the_monthly_cost(run: Callable[..., str]) -> None:
    data = json.loads(run("--format", "json"))
    assert data["seats"] == 7 and data["monthly_cost_usd"] == 7 * 21
    for view in ("by_cost_center", "by_owner", "by_team"):
        assert sum(r["seats"] for r in data[view]) == 7
        assert sum(r["monthly_cost_usd"] for r in data[view]) == 147
    teams = {r["team"]: r["seats"] for r in data["by_team"]}
    assert teams == {"(direct)": 4, "platform": 2, "(unassigned)": 1}


def test_markdown_and_table_show_the_same_groups(run: Callable[..., str]) -> None:
    markdown = run("--format", "markdown")
    assert "## Copilot chargeback for acme: 7 seats, $147.00 per month" in markdown
    assert "| CC-9 | 2 | $42.00 |" in markdown and "&#64;" not in markdown.split("###")[0]
    table = run()
    assert table.splitlines()[0] == "Copilot chargeback for acme: 7 seats, $147.00 per month"
    assert any(line.split() == ["CC-9", "2", "$42.00"] for line in table.splitlines())
