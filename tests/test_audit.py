"""``copilot-seats audit``: seat changes from the git history of seats.yaml, per login and per period.

A throwaway repository with merge and squash commits stands for the default branch; the join
with ``pulumi stack history`` is tested end to end in tests/test_gitops_e2e.py.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from copilot_seats.desired.loader import parse_spec
from copilot_seats.reports.audit import entry_changes, pr_number

CLI = Path(sys.executable).parent / "copilot-seats"
HEAD = "organization: acme\nusers:\n"


def _git(repo: Path, *args: str, date: str = "2026-01-01T10:00:00+00:00") -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Mona", "GIT_AUTHOR_EMAIL": "m@example.invalid",
           "GIT_COMMITTER_NAME": "Mona", "GIT_COMMITTER_EMAIL": "m@example.invalid",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q", "-b", "main")
    frank = "  frank:\n    owner: api\n    reason: rewrite\n"
    history = [
        ("2026-01-05", "Merge pull request #1 from acme/start", "  alice:\n    owner: eng\n  bob:\n"),
        ("2026-02-10", "Grant frank (#2)", "  alice:\n    owner: eng\n  bob:\n" + frank),
        ("2026-03-15", "Merge pull request #3 from acme/owner", "  alice:\n    owner: data\n  bob:\n" + frank),
        ("2026-04-20", "Merge pull request #4 from acme/prune",
         "  alice:\n    owner: data\n" + frank.replace("frank:", "Frank:")),
        ("2026-05-01", "docs only", None),
    ]
    for day, subject, users in history:
        if users is None:
            (tmp_path / "README.md").write_text("x\n")
        else:
            (tmp_path / "seats.yaml").write_text(HEAD + users)
        _git(tmp_path, "add", "-A")
        _git(tmp_path, "commit", "-qm", subject, date=f"{day}T10:00:00+00:00")
    return tmp_path


def _audit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), "audit", "--seats", str(repo / "seats.yaml"), *args], capture_output=True,
                          text=True, timeout=120, check=False)


def _rows(repo: Path, *args: str) -> list[dict[str, str]]:
    result = _audit(repo, "--format", "csv", *args)
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_every_change_with_its_pull_request(repo: Path) -> None:
    rows = _rows(repo)
    assert [(r["name"], r["change"], r["pull_request"]) for r in rows] == [
        ("seats.yaml", "adopted", "1"), ("frank", "granted", "2"), ("alice", "changed", "3"), ("bob", "revoked", "4")]
    assert rows[0]["kind"] == "file" and rows[0]["detail"].startswith("2 user(s) and 0 team(s) declared by the commit")
    assert rows[2]["detail"] == "owner: eng → data"
    expanded = _rows(repo, "--expand-bootstrap")
    assert [(r["name"], r["change"], r["pull_request"]) for r in expanded[:3]] == [
        ("alice", "granted", "1"), ("bob", "granted", "1"), ("frank", "granted", "2")]
    rows = expanded
    assert rows[2]["owner"] == "api" and rows[2]["reason"] == "rewrite" and rows[2]["author"] == "Mona"
    assert all(r["applied"] == "" for r in rows), "without --stack nothing claims to be applied"


def test_one_logins_history_case_insensitively(repo: Path) -> None:
    rows = _rows(repo, "--login", "FRANK")
    assert [(r["change"], r["pull_request"], r["date"][:10]) for r in rows] == [("granted", "2", "2026-02-10")]


def test_a_period(repo: Path) -> None:
    rows = _rows(repo, "--since", "2026-03-01", "--until", "2026-04-30")
    assert [(r["name"], r["change"]) for r in rows] == [("alice", "changed"), ("bob", "revoked")]
    markdown = _audit(repo, "--since", "2026-03-01", "--until", "2026-04-30").stdout
    assert markdown.startswith("## Copilot seat changes (2026-03-01 to 2026-04-30)")
    assert "| 2026-04-20 | `bob` | revoked | - | - | #4 by Mona | not applied yet |" in markdown


def test_outside_a_git_repository_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "seats.yaml").write_text(HEAD + "  alice:\n")
    result = _audit(tmp_path)
    assert result.returncode == 2 and "not in a git repository" in result.stderr


def test_pure_helpers() -> None:
    assert pr_number("Merge pull request #12 from a/b") == "12"
    assert pr_number("Add frank (#7)") == "7" and pr_number("fix #3 in docs") == ""
    before = parse_spec(HEAD + "  alice:\n    owner: eng\n")
    after = parse_spec(HEAD + "  Alice:\n    owner: eng\n")
    assert entry_changes(before, after) == [], "a case-only edit is not a change of seat"
    assert [c[2] for c in entry_changes(None, before)] == ["granted"]
    assert [c[2] for c in entry_changes(before, None)] == ["revoked"]
