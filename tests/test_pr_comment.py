"""The PR comment: plan first, every change by login, cost, violations by policy, within the limit.

Pure tests over preview documents built from a simulated organization (tests/scale_org.py):
at 10,000 seats the engine would take minutes, the comment's logic does not need it.
tests/test_pr_comment_e2e.py runs the same command on a real engine preview.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RunningSimulator
from scale_org import login, preview_document, scale_fixture, seats_yaml, spec_of
from test_markdown_inert import assert_inert

from copilot_seats.cli import main
from copilot_seats.decisions.run_settings import OnDelete, RunSettings
from copilot_seats.desired.loader import parse_spec
from copilot_seats.desired.spec import Mode, SeatSpec, Settings, TeamGrant, UserGrant
from copilot_seats.github.live import LiveBilling, LiveSeat, LiveSnapshot, SeatBreakdown, fetch_snapshot
from copilot_seats.policies.config import SEATS_TYPE
from copilot_seats.provider.contract import SEATS_NAME
from copilot_seats.provider.seats import SeatsHandler
from copilot_seats.reports.pr_comment import MAX_COMMENT_CHARS, CommentInput, SeatFacts, md, render_comment
from copilot_seats.reports.pr_plan import PreviewPlan, judge, parse_preview
from copilot_seats.stack.model import RunOptions, build_stack

GITHUB_LIMIT = 65_536
NOW = datetime.now(UTC)


def _snapshot(make_simulator: Callable[..., RunningSimulator], n: int) -> LiveSnapshot:
    sim = make_simulator(scale_fixture(n))
    return fetch_snapshot(sim.client(), "bigco", now=NOW)


def _comment(doc: dict[str, object], snapshot: LiveSnapshot | None, **extra: object) -> str:
    plan = parse_preview(doc)
    live = None if snapshot is None else {
        k: SeatFacts(True, s.pending_cancellation_date is not None, s.last_activity_at)
        for k, s in snapshot.seats.items()}
    return render_comment(CommentInput(stack="prod", plan=plan, findings=list(judge(plan, NOW)), live=live,
                                       **extra))  # type: ignore[arg-type]


def _plan_part(text: str) -> str:
    return text[text.index("### Plan"):text.index("### Cost")]


def test_10000_seats_prune_pr_lists_every_revocation_and_grant_within_the_limit(
        make_simulator: Callable[..., RunningSimulator]) -> None:
    n = 10_000
    snapshot = _snapshot(make_simulator, n)
    everyone = [login(i) for i in range(n)]
    base = spec_of("bigco", everyone)
    removed = set(everyone[::10])  # 1,000 revocations: what the guard allows in one run
    added = [f"new-hire-{i:03d}" for i in range(40)]
    pr_logins = [x for x in everyone if x not in removed] + added
    pr = spec_of("bigco", pr_logins)
    text = _comment(preview_document(base, pr, snapshot, NOW), snapshot)

    assert len(text) <= MAX_COMMENT_CHARS < GITHUB_LIMIT
    plan = _plan_part(text)
    for name in [*removed, *added]:
        assert f"`{name}`" in plan, name
    assert "1000 revoked" in plan.splitlines()[0] and "40 granted" in plan.splitlines()[0]
    assert text.index("### Plan") < text.index("### Cost") < text.index("### Policy violations")
    assert "owner **eng**, reason: development (1000)" in plan
    cost = text[text.index("### Cost"):]
    assert "| now | 10000 | $190,000 |" in cost
    assert "| after merge, this billing cycle | 10040 (+40) | $190,760 |" in cost
    assert "| from the next billing cycle | 9040 (-960) | $171,760 (-$18,240) |" in cost
    # violations are summarised by policy, their details collapsed
    assert re.search(r"\| `stale-seat` \| advisory \| \d{3,} \|", text)
    assert "<details><summary>stale-seat:" in text


def test_3000_revocations_at_10000_seats_are_all_named(make_simulator: Callable[..., RunningSimulator]) -> None:
    n = 10_000
    snapshot = _snapshot(make_simulator, n)
    everyone = [login(i) for i in range(n)]
    removed = everyone[::3]
    keep = set(everyone) - set(removed)
    base, pr = spec_of("bigco", everyone), spec_of("bigco", sorted(keep))
    refused = parse_preview(preview_document(base, pr, snapshot, NOW))  # the guard allows 1,000
    assert refused.changes == () and len(refused.errors) == 1
    assert refused.errors[0].startswith(f"refusing to revoke {len(removed)} Copilot seats in one run (limit 1000")
    doc = preview_document(base, pr, snapshot, NOW, RunSettings(allow_mass_removal=True))
    text = _comment(doc, snapshot)
    assert len(text) <= MAX_COMMENT_CHARS
    plan = _plan_part(text)
    assert plan.startswith(f"### Plan: {len(removed)} revoked")
    assert all(f"`{name}`" in plan for name in removed) and "more (full list" not in plan


def test_10000_seat_bootstrap_lists_the_real_changes_and_counts_the_recorded_seats(
        make_simulator: Callable[..., RunningSimulator]) -> None:
    n = 10_000
    snapshot = _snapshot(make_simulator, n)
    new = [f"joiner-{i:02d}" for i in range(12)]
    pr = spec_of("bigco", [login(i) for i in range(n)] + new)
    text = _comment(preview_document(None, pr, snapshot, NOW), snapshot)
    assert len(text) <= MAX_COMMENT_CHARS
    plan = _plan_part(text)
    assert plan.startswith("### Plan: 12 granted")
    assert "**Granted (12)** by owner and reason" in plan
    assert "- owner **eng**, reason: development (12): " + ", ".join(f"`{name}`" for name in new) in plan
    assert "**Adopted (10000)**: already held on GitHub; the stack records them and nothing is written" in plan
    assert "10000 adopted (no write)" in text


def test_tens_of_thousands_of_grants_keep_every_count_and_the_limit(
        make_simulator: Callable[..., RunningSimulator]) -> None:
    snapshot = _snapshot(make_simulator, 10)
    pr = spec_of("bigco", [f"grantee-{i:05d}" for i in range(20_000)])
    text = _comment(preview_document(None, pr, snapshot, NOW), snapshot)
    assert len(text) <= MAX_COMMENT_CHARS
    assert _plan_part(text).startswith("### Plan: 20000 granted")
    assert "more (full list: the `seats-preview` artifact)" in text


def test_small_pr_shows_a_table_with_owner_reason_and_last_activity(
        make_simulator: Callable[..., RunningSimulator]) -> None:
    snapshot = _snapshot(make_simulator, 30)
    base = parse_spec(seats_yaml("bigco", [login(i) for i in range(30)]))
    text_pr = seats_yaml("bigco", [login(i) for i in range(1, 30)]).replace(
        "users:\n", "users:\n  frank:\n    owner: api-team\n    reason: API rewrite (JIRA-1234)\n")
    text_pr = text_pr.replace(f"  {login(2)}:\n    owner: eng", f"  {login(2)}:\n    owner: data")
    doc = preview_document(base, parse_spec(text_pr), snapshot, NOW)
    text = _comment(doc, snapshot)
    assert "### Plan: 1 granted, 1 revoked, 1 changed" in text
    assert "- owner **api-team**, reason: API rewrite (JIRA-1234) (1): `frank`" in text
    revoked = snapshot.seats[login(0)]
    activity = revoked.last_activity_at.date().isoformat() if revoked.last_activity_at else "none reported"
    assert f"| - revoke | `{login(0)}` | eng | development | last activity {activity}; entry removed" in text
    assert f"| ~ change | `{login(2)}` | data | development | owner: eng → data |" in text


def test_seats_yaml_text_cannot_mention_link_or_inject_html() -> None:
    hostile = "@octo/everyone <img src=x> [x](https://evil.com) | `code` **b**\nnext"
    out = md(hostile)
    assert_inert(out)  # markdown-it-py with linkify: no link, mention, image or HTML token
    assert out.startswith("`@octo/everyone` &#60;img"), "link-like words are code spans"
    assert "\n" not in out and "|" not in out.replace("&#124;", "").replace("\\|", "")
    assert html.unescape(out).replace("`", "") == hostile.replace("\n", " ").replace("`", "")


def test_an_invalid_seats_file_gets_its_problems_and_no_plan(tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text("organization: acme\nusers:\n  bad/login:\n  ok:\n  OK:\n")
    result = CliRunner().invoke(main, ["pr-comment", "--seats", str(tmp_path / "seats.yaml"), "--no-live",
                                       "--stack", "prod"])
    assert result.exit_code == 0, result.output
    assert "### seats.yaml is invalid (2 problem(s))" in result.output
    assert "seats.yaml:3:" in result.output and "### Plan" not in result.output


@pytest.mark.parametrize(("content", "expected"), [
    (None, "does not exist: the preview did not run"),
    ("", "is empty: the preview stopped"),
    ("error: oops", "is not the JSON of `pulumi preview --json`"),
])
def test_a_missing_or_broken_preview_is_said_not_hidden(tmp_path: Path, content: str | None, expected: str) -> None:
    (tmp_path / "seats.yaml").write_text("organization: acme\nusers:\n  alice:\n")
    if content is not None:
        (tmp_path / "preview.json").write_text(content)
    result = CliRunner().invoke(main, ["pr-comment", "--seats", str(tmp_path / "seats.yaml"), "--no-live",
                                       "--preview", str(tmp_path / "preview.json")])
    assert result.exit_code == 0, result.output
    assert expected in html.unescape(result.output)
    assert "**The preview did not run**" in result.output


def test_a_failed_preview_shows_its_errors_above_the_plan(tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text("organization: acme\nusers:\n  alice:\n")
    doc = {"steps": [], "diagnostics": [
        {"severity": "error", "message": "error: refusing to revoke 371 seats in one run (limit 201)\n"},
        {"severity": "error", "message": "error: Resource monitor has terminated, shutting down\n"},  # follow-on
        {"severity": "warning", "message": "warning: seats.yaml:3:3: grant expired\n"}]}
    (tmp_path / "preview.json").write_text(json.dumps(doc))
    result = CliRunner().invoke(main, ["pr-comment", "--seats", str(tmp_path / "seats.yaml"), "--no-live",
                                       "--preview", str(tmp_path / "preview.json")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "**The preview failed** (1 error(s))" in out
    assert out.index("refusing to revoke 371 seats") < out.index("### Plan")
    assert "<details><summary>warnings: 1</summary>" in out


def test_the_pack_config_changes_the_judgment_like_it_does_in_the_pack(
        tmp_path: Path, make_simulator: Callable[..., RunningSimulator]) -> None:
    snapshot = _snapshot(make_simulator, 50)
    pr = parse_spec(seats_yaml("bigco", [login(i) for i in range(50)]))
    plan = parse_preview(preview_document(None, pr, snapshot, NOW))
    default = [f for f in judge(plan, NOW) if f.policy == "stale-seat"]
    assert default
    assert not [f for f in judge(plan, NOW, {"stale-seat": "disabled"}) if f.policy == "stale-seat"]
    strict = [f for f in judge(plan, NOW, {"stale-seat": {"enforcementLevel": "mandatory", "staleDays": 5}})
              if f.policy == "stale-seat"]
    assert len(strict) > len(default) and {f.enforcement for f in strict} == {"mandatory"}


# --- the plan of the one Seats step (pure: snapshots built here) -------------------------------

def _live(*seats: tuple[str, str | None]) -> LiveSnapshot:
    billing = LiveBilling(seat_breakdown=SeatBreakdown(total=len(seats)), seat_management_setting="assign_selected",
                          public_code_suggestions="block", plan_type="business")
    listed = {login.casefold(): LiveSeat(login=login, key=login.casefold(), assigning_team=team,
                                         created_at=datetime(2025, 1, 1, tzinfo=UTC),
                                         last_activity_at=datetime(2026, 1, 1, tzinfo=UTC))
              for login, team in seats}
    return LiveSnapshot(organization="acme", billing=billing, seats=listed, unassigned_count=0, fetched_at=NOW)


def _spec(*logins: str, mode: Mode = Mode.ADDITIVE, teams: tuple[str, ...] = ()) -> SeatSpec:
    return SeatSpec("acme", tuple(UserGrant(login=x, owner="eng", reason="dev") for x in logins),
                    tuple(TeamGrant(slug=t, owner="eng", reason="dev") for t in teams), Settings(mode=mode))


def _rows(plan: PreviewPlan) -> list[tuple[str, str, str, str, int]]:
    return [(c.action, c.kind, c.name, c.detail, c.seats) for c in plan.changes]


def test_authoritative_revocations_come_from_the_checks_plan_named_as_github_spells_them() -> None:
    live = _live(("alice", None), ("Zed", None), ("erin", "design"), ("dave", "ml"))
    plan = parse_preview(preview_document(None, _spec("alice", mode=Mode.AUTHORITATIVE, teams=("ml",)), live, NOW))
    outside = "held outside seats.yaml (authoritative mode)"
    assert _rows(plan) == [
        ("grant", "team", "ml", "already seats 1 (recorded only)", 0),
        ("grant", "user", "alice", "", 0),
        ("revoke", "team", "design", f"{outside}; 1 seat(s) through it", 1),
        ("revoke", "user", "Zed", outside, 0),
    ]
    additive = parse_preview(preview_document(None, _spec("alice", teams=("ml",)), live, NOW))
    assert [c.action for c in additive.changes] == ["grant", "grant"]


def test_removed_entries_are_revoked_with_their_old_owner_unless_on_delete_is_forget() -> None:
    live = _live(("alice", None), ("bob", None), ("dave", "ml"))
    base, pr = _spec("alice", "bob", teams=("ml",)), _spec("alice")
    plan = parse_preview(preview_document(base, pr, live, NOW))
    assert [(c.action, c.kind, c.name, c.owner, c.seats) for c in plan.changes] == [
        ("revoke", "team", "ml", "eng", 1), ("revoke", "user", "bob", "eng", 0)]
    assert plan.changes[1].detail == "entry removed from seats.yaml"
    forget = parse_preview(preview_document(base, pr, live, NOW, RunSettings(on_delete=OnDelete.FORGET)))
    assert [(c.action, c.name) for c in forget.changes] == [("change", "ml"), ("change", "bob")]
    assert all("onDelete: forget" in c.detail for c in forget.changes)


def test_a_metadata_edit_is_one_change_and_an_unchanged_pr_plans_nothing() -> None:
    live = _live(("alice", None), ("bob", None))
    base = _spec("alice", "bob")
    assert parse_preview(preview_document(base, base, live, NOW)).changes == ()
    edited = SeatSpec("acme", (UserGrant(login="Alice", owner="data", reason="dev"), base.users[1]))
    [change] = parse_preview(preview_document(base, edited, live, NOW)).changes
    assert (change.action, change.name) == ("change", "Alice")
    assert change.detail == "owner: eng → data"  # the letter case of a login is not a change


def test_an_upgrading_stacks_first_preview_reads_the_0_1_roster_as_the_last_record() -> None:
    """The Seats resource aliases 0.1's Roster, which recorded only the keys it managed: kept
    entries are no change (their metadata was on 0.1's per-seat resources), removed ones are revoked."""
    live = _live(("alice", None), ("bob", None))
    roster = {"organization": "acme", "roster_users": ["alice", "bob"], "roster_teams": [], "declared_count": 2}
    declared = build_stack(_spec("alice"), live, NOW, RunOptions(run_id="up")).seats.to_props()
    news, failures = SeatsHandler().check(roster, declared)
    assert failures == []
    urn = f"urn:pulumi:prod::copilot-seats::{SEATS_TYPE}::{SEATS_NAME}"
    step = {"op": "update", "urn": urn, "newState": {"urn": urn, "type": SEATS_TYPE, "inputs": news},
            "oldState": {"urn": urn, "type": "copilot:index:Roster", "inputs": roster, "outputs": roster}}
    plan = parse_preview({"steps": [step], "diagnostics": []})
    assert _rows(plan) == [("revoke", "user", "bob", "entry removed from seats.yaml", 0)]
