"""Markdown we write is inert: text from seats.yaml or GitHub never becomes a link, autolink,
mention, image or HTML, and carries no invisible or bidi control character.

The oracle is a renderer nobody here wrote: markdown-it-py's ``gfm-like`` preset (CommonMark,
GFM tables and strikethrough, raw HTML enabled) with linkify-it-py, whose fuzzy mode links even
bare domains and e-mail addresses (stricter than GitHub's autolinks). Comments are built from a
hostile seats.yaml (owner, reason, cost center, exemption reason, detail and policy messages)
and checked on the parsed token stream; hypothesis fuzzes the escaping functions themselves.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from copilot_seats.desired.loader import check_spec
from copilot_seats.escape import md_code, md_text
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
