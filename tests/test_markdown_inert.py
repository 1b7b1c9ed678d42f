"""Markdown we write is inert: text from seats.yaml or GitHub never becomes a link, autolink,
mention, image or HTML, and carries no invisible or bidi control character.

The oracle is a renderer nobody here wrote: markdown-it-py's ``gfm-like`` preset (CommonMark,
GFM tables and strikethrough, raw HTML enabled) with linkify-it-py, whose fuzzy mode links even
bare domains and e-mail addresses (stricter than GitHub's autolinks). Comments are built from a
hostile seats.yaml (owner, reason, cost center, exemption reason, detail and policy messages)
and checked on the parsed token stream; hypothesis fuzzes the escaping functions themselves.
"""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import RunningSimulator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from copilot_seats.cli import main
from copilot_seats.desired.loader import check_spec
from copilot_seats.escape import md_code, md_text
from copilot_seats.reports.audit import AuditRow, render_audit
from copilot_seats.reports.pr_comment import CommentInput, render_comment
from copilot_seats.reports.pr_plan import Change, Finding, PreviewPlan

RUN_URL = "https://github.example/acme/seats/actions/runs/1"
"""The one link a comment may carry: the workflow run (the workflow passes it)."""

INVISIBLE = ("\u202e", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069",
             "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u061c", "\u2060", "\ufeff", "\u00ad", "\u2028")
HOSTILE = [
    "https://evil.com/login",
    "see http://evil.com and www.evil.com or evil.com/x",
    "mail me: ceo@evil.com",
    "@octo/everyone please approve @admin",
    "[click](https://evil.com) ![pixel](https://evil.com/p.png)",
    "<img src=x onerror=alert(1)> <a href='https://evil.com'>x</a> <!-- c -->",
    "<https://evil.com> <ceo@evil.com>",
    "&lt;b&gt; &#64;admin &#x40;admin",
    "**bold** _it_ ~~gone~~ `code` $x$ :shipit:",
    "# heading",
    "- list item",
    "1. ordered",
    "> quote | cell | break",
    "line\nbreak\r\nand\u2028more",
    "api\u202eteam\u2066x\u2069\u200bzero\u200fwidth\ufeffbom\u00adsoft",
    "https\u200b://evil\u200b.example",
    "\uff57\uff57\uff57\uff0eevil\uff0ecom and evil\u3002com",
    "javascript:alert(1) data:text/html,x",
    "[x]: https://evil.com",
    "\\",
]


def _hostile_seats() -> str:
    users = []
    for i, text in enumerate(HOSTILE):
        quoted = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        users.append(f'  user{i}:\n    owner: "{quoted}"\n    reason: "{quoted}"\n    cost_center: "{quoted}"\n'
                     f'    stale_exemption:\n      until: 2099-01-01\n      reason: "{quoted}"\n')
    return "organization: acme\nusers:\n" + "".join(users)


def _comment() -> str:
    checked = check_spec(_hostile_seats(), "seats.yaml")
    assert checked.spec is not None, checked.errors
    changes: list[Change] = []
    findings: list[Finding] = []
    for grant in checked.spec.users:
        login = grant.login
        changes += [Change("grant", "user", login, owner=grant.owner or "", reason=grant.reason or "",
                           detail=grant.cost_center or ""),
                    Change("revoke", "user", f"x{login}", owner=grant.owner or "", reason=grant.reason or "",
                           detail=grant.stale_exemption.reason if grant.stale_exemption else ""),
                    Change("change", "team", f"t{login}", owner=grant.owner or "", reason=grant.reason or "")]
        findings.append(Finding("stale-seat", "advisory", grant.reason or "", f"{login}: {grant.owner}"))
    problems = [f"seats.yaml:1:1: {text}" for text in HOSTILE]
    plan = PreviewPlan(changes=tuple(changes), errors=tuple(HOSTILE[:3]), warnings=tuple(HOSTILE))
    data = CommentInput(stack="prod", plan=plan, findings=findings, details_url=RUN_URL, notes=HOSTILE)
    return render_comment(data) + "\n" + render_comment(CommentInput(stack="x", problems=problems))


def _tokens(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from _tokens(token.children or [])


def _parser() -> MarkdownIt:
    return MarkdownIt("gfm-like")


_MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")
_OWN_HTML = re.compile(r"<details><summary>[^<>]*</summary>\n|</details>\n")
"""The only HTML the comment writes itself: its collapsed sections."""


def _invisible(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in ("Cf", "Cc", "Zl", "Zp") and c != "\n"]


def assert_inert(markdown: str, allowed_links: frozenset[str] = frozenset()) -> None:
    assert not _invisible(markdown), _invisible(markdown)
    for token in _tokens(_parser().parse(markdown)):
        where = f"{token.type} {token.content!r}"
        assert token.type not in ("image", "autolink"), where
        if token.type == "link_open":
            assert token.attrGet("href") in allowed_links, f"link to {token.attrGet('href')!r}"
        if token.type in ("html_inline", "html_block"):
            assert _OWN_HTML.fullmatch(token.content), where
        if token.type == "text":
            assert not _MENTION.search(token.content), f"mention in {where}"
        assert not _invisible(token.content), where


def test_a_comment_built_from_a_hostile_seats_yaml_is_inert() -> None:
    text = _comment()
    assert "evil" in text and "octo/everyone" in text, "the hostile text is shown, literally"
    assert_inert(text, frozenset({RUN_URL}))
    links = [t for t in _tokens(_parser().parse(text)) if t.type == "link_open"]
    assert len(links) == 1, "the workflow run link, and only it"


def test_hostile_text_keeps_every_table_row_one_row_of_five_cells() -> None:
    rows = [line for line in _comment().splitlines() if line.startswith(("| + grant", "| - revoke", "| ~ change"))]
    assert rows
    table = "| | seat | owner | reason | note |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    tokens = list(_tokens(_parser().parse(table)))
    assert sum(t.type == "tr_open" for t in tokens) == len(rows) + 1
    assert sum(t.type in ("td_open", "th_open") for t in tokens) == 5 * (len(rows) + 1)


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_shows_the_words_and_starts_nothing(text: str) -> None:
    out = md_text(text)
    assert "\n" not in out and "\r" not in out
    assert_inert(f"- {out}\n\n> {out}\n\n| a |\n|---|\n| {out} |\n")
    rendered = _parser().renderInline(out)
    assert "<a " not in rendered and "<img" not in rendered


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
_PIECES = st.lists(st.sampled_from(
    ["@", "://", "www.", ".", "com", "x", "http", "s", " ", "<", ">", "[", "]", "(", ")", "!", "`", "*", "_", "|",
     "\\", "&", "#", ";", "\u202e", "\u200b", "\uff1a", "\uff0e", "\u3002", "\uff20", "mailto:", "-", "1", "~"]),
    max_size=30).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_TEXT, _PIECES))
def test_fuzz_md_text_is_inert_anywhere(text: str) -> None:
    out = md_text(text)
    assert "\n" not in out
    assert_inert(f"{out}\n\n- {out}\n\n| a | b |\n|---|---|\n| {out} | {md_code(text)} |\n")


@settings(max_examples=200, deadline=None)
@given(st.one_of(_TEXT, _PIECES))
def test_fuzz_md_code_is_one_code_span(text: str) -> None:
    out = md_code(text)
    assert_inert(f"| a |\n|---|\n| {out} |\n")
    inline = [t for t in _tokens(_parser().parse(out)) if t.type not in ("paragraph_open", "paragraph_close",
                                                                         "inline")]
    assert [t.type for t in inline] == ["code_inline"], inline


# -- every Markdown writer: report, chargeback and audit from hostile seats.yaml and GitHub data --

REPO = Path(__file__).resolve().parent.parent
TOKEN = "fake-simulator-token-0123456789"


def _hostile_github() -> dict[str, Any]:
    """acme as GitHub could return it: hostile logins, team slugs, editor strings and settings
    next to the plain seats of seats.yaml's ``user0`` … (so their owner and cost center show)."""
    teams = [{"slug": text, "name": text, "members": []} for text in HOSTILE]
    teams.append({"slug": "platform", "name": "Platform", "members": []})
    seats: list[dict[str, Any]] = []
    for i, text in enumerate(HOSTILE):
        seats += [
            {"login": text, "teams": [text], "created_at": {"days_ago": 300}, "last_activity_at": {"days_ago": 100},
             "last_activity_editor": text},
            {"login": f"user{i}", "created_at": {"days_ago": 200}, "last_activity_at": {"days_ago": 1 + i},
             "last_activity_editor": f"{text}/copilot/{text}"},
            {"login": f"member{i}", "teams": ["platform"], "created_at": {"days_ago": 20},
             "last_activity_at": None, "pending_cancellation": i % 2 == 0},
        ]
    return {"organizations": [{
        "login": "acme", "seat_management_setting": HOSTILE[0] + " " + HOSTILE[4], "plan_type": HOSTILE[5],
        "members": [], "teams": teams, "seats": seats, "unassigned_seats": [{"created_at": {"days_ago": 3}}]}],
        "tokens": {}}


def _hostile_seats_file(tmp_path: Path) -> Path:
    """seats.yaml with every hostile text as owner, reason, cost center and exemption reason of
    user0 …, a team entry with a hostile cost center and an expired hostile grant."""
    text = _hostile_seats() + ('  gone:\n    owner: "www.evil.com"\n    expires: 2020-01-01\n'
                               'teams:\n  platform:\n    owner: "@octo/everyone"\n'
                               '    cost_center: "https://evil.com/\\u202e[x](y)"\n')
    assert check_spec(text, "seats.yaml").spec is not None
    path = tmp_path / "seats.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def hostile(make_simulator: Callable[..., RunningSimulator], tmp_path: Path) -> Callable[..., str]:
    sim = make_simulator(_hostile_github())
    seats = _hostile_seats_file(tmp_path)

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, [args[0], "--seats", str(seats), *args[1:]],
                                    env={"GITHUB_TOKEN": sim.token, "GITHUB_API_URL": sim.base_url,
                                         "COPILOT_SEATS_ORG": None})
        assert result.exit_code == 0, result.output
        assert not sim.writes
        return result.stdout

    return run


def _shows_the_hostile_text(markdown: str) -> None:
    assert "evil" in markdown and "octo/everyone" in markdown, "the hostile text is shown, literally"


def test_report_markdown_from_hostile_github_data_is_inert(hostile: Callable[..., str]) -> None:
    markdown = hostile("report", "--format", "markdown")
    _shows_the_hostile_text(markdown)
    assert "### Stale seats" in markdown and "<details><summary>All seats" in markdown
    assert_inert(markdown)
    assert not _invisible(hostile("report", "--format", "table")), "the terminal table shows controls escaped"


def test_report_markdown_keeps_one_row_per_seat(hostile: Callable[..., str]) -> None:
    markdown = hostile("report", "--format", "markdown")
    table = markdown[markdown.index("| Login | Source | Declared"):markdown.index("</details>")]
    tokens = list(_tokens(_parser().parse(table)))
    rows = 1 + 3 * len(HOSTILE) + 1  # the header, every live seat, the declared user `gone` (no seat)
    assert sum(t.type == "tr_open" for t in tokens) == rows
    assert sum(t.type in ("td_open", "th_open") for t in tokens) == 6 * rows


def test_chargeback_markdown_from_hostile_seats_yaml_and_github_data_is_inert(hostile: Callable[..., str]) -> None:
    markdown = hostile("chargeback", "--format", "markdown")
    _shows_the_hostile_text(markdown)
    assert_inert(markdown)
    rows = [t for t in _tokens(_parser().parse(markdown)) if t.type == "tr_open"]
    # per view: a group per hostile text (user<i>'s cost center / owner, the seat's team slug), the
    # unmanaged or direct seats, the team platform, the unassigned seat; and the header row
    assert len(rows) == 3 * (len(HOSTILE) + 3 + 1), "every group is one row of its own"
    assert not _invisible(hostile("chargeback", "--format", "table"))


def _git(repo: Path, *args: str, author: str = "Mona") -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "m@example.invalid",
           "GIT_COMMITTER_NAME": "Mona", "GIT_COMMITTER_EMAIL": "m@example.invalid"}
    subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)


def test_audit_markdown_from_a_hostile_history_is_inert(tmp_path: Path) -> None:
    """Owner, reason and their changes from seats.yaml, author names and subjects from git."""
    seats = _hostile_seats_file(tmp_path)
    _git(tmp_path, "init", "-q", "-b", "main")
    first = seats.read_text(encoding="utf-8")
    # second commit: every owner becomes the next hostile text (a "changed" row with both), some revoked
    changed = first
    for i in range(len(HOSTILE) - 1, -1, -1):
        changed = changed.replace(f"  user{i}:\n", f"  user{i}:\n    expires: 2099-0{1 + i % 9}-01\n", 1)
    changed = changed.replace("  user0:", "  userzero:").replace("  gone:\n", "  went:\n")
    for number, (text, author) in enumerate([(first, "[x](https://evil.com) @admin"),
                                             (changed, "www.evil.com \u202e ceo@evil.com")], start=1):
        seats.write_text(text, encoding="utf-8")
        _git(tmp_path, "add", "seats.yaml")
        _git(tmp_path, "commit", "-qm", f"Merge pull request #{number} from @octo/everyone https://evil.com",
             author=author)
    for args in ([], ["--login", "[x](https://evil.com) @admin www.evil.com \u202e"], ["--since", "2000-01-01"]):
        result = CliRunner().invoke(main, ["audit", "--seats", str(seats), *args])
        assert result.exit_code == 0, result.output
        assert_inert(result.stdout)
    markdown = CliRunner().invoke(main, ["audit", "--seats", str(seats)]).stdout
    _shows_the_hostile_text(markdown)
    assert " revoked " in markdown and " changed " in markdown and " granted " in markdown
    assert "#1 by" in markdown and "#2 by" in markdown, "the pull request is GitHub's own #reference"


@pytest.mark.parametrize("text", HOSTILE)
def test_audit_rows_with_hostile_values_everywhere_are_inert(text: str) -> None:
    """Every field, including the update message the apply workflow records in the stack history."""
    rows = [AuditRow(date=text, kind=kind, name=text, change=text, owner=text, reason=text, detail=text,
                     pull_request=pr, commit=text, author=text, applied=f"update 3 on {text}: {text}",
                     applied_by_update="3") for kind in ("user", "team") for pr in ("", text, "12")]
    markdown = render_audit(rows, "markdown", title=text)
    assert_inert(markdown)
    tokens = list(_tokens(_parser().parse(markdown)))
    assert sum(t.type == "tr_open" for t in tokens) == len(rows) + 1, "one table row per change"


def test_every_markdown_writer_uses_the_one_escaping_function() -> None:
    """No module escapes Markdown on its own: the writers import copilot_seats.escape."""
    own = re.compile(r'replace\(\s*["\'][|<>@`]|&lt;|&gt;|&#\d+;|&#64|def _md\(|def _escape|html\.escape')
    for path in sorted((REPO / "copilot_seats").rglob("*.py")):
        if path.name == "escape.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not own.search(text), f"{path.relative_to(REPO)}: escapes Markdown itself; use copilot_seats.escape"
    for module in ("reports/render_text.py", "reports/finance.py", "reports/audit.py", "reports/pr_comment.py",
                   "cli/prune.py"):
        assert "from copilot_seats.escape import" in (REPO / "copilot_seats" / module).read_text(encoding="utf-8")
    writers = {str(p.relative_to(REPO / "copilot_seats")) for p in (REPO / "copilot_seats").rglob("*.py")
               if re.search(r'(?m)["\']#{2,3} |"\|---', p.read_text(encoding="utf-8"))}
    assert writers <= {"reports/render_text.py", "reports/finance.py", "reports/audit.py", "reports/pr_comment.py",
                       "cli/prune.py"}, f"a new Markdown writer: route it through copilot_seats.escape ({writers})"
