"""The pull-request comment of a seats preview: the plan first, always within GitHub's limit.

Reviewers approve *changes*, so the comment leads with them: every seat granted, revoked or
changed, by login, with owner and reason. Then the cost change (this billing cycle and the
next: GitHub bills a revoked seat until the cycle ends), then the policy violations summarised
by policy, then the details inside collapsed ``<details>``.

Size: GitHub rejects comments over 65,536 characters. :data:`MAX_COMMENT_CHARS` leaves room for
the marker the sticky-comment action adds. The plan is never dropped: when a table of every
change does not fit, the changes are grouped by owner and reason with their logins inline;
only if even that does not fit (tens of thousands of changes) are the logins cut, with the
counts kept and a pointer to the artifact. Seats that a first ``up`` only records in state
(held already, nothing changes on GitHub) come after the real changes. Details fill whatever
room is left. Text from seats.yaml and GitHub (owner, reason, logins, team slugs, messages)
goes through :mod:`copilot_seats.escape` (:func:`md`): no link, autolink, mention, image, HTML
or invisible/bidi control character comes from it (tests/test_markdown_inert.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from copilot_seats.escape import md_code, md_text
from copilot_seats.policies.rules import ACTIVITY_HINT
from copilot_seats.reports.pr_plan import Change, Finding, PreviewPlan

__all__ = ["MAX_COMMENT_CHARS", "CommentInput", "SeatFacts", "md", "render_comment"]

MAX_COMMENT_CHARS = 65_536 - 1_536
"""Upper bound of :func:`render_comment`'s length (GitHub's comment limit minus a margin)."""

_FIRST = 3
"""Subjects named per policy in the violation summary."""
_CELL = 160
"""Longest owner/reason/detail cell, so that one entry cannot eat the budget."""
_MESSAGE = 400
"""Longest violation message in the details."""



def md(text: str, limit: int = _CELL) -> str:
    """``text`` (cut to ``limit`` characters) safe inside Markdown and a table cell: no markup,
    links, autolinks, mentions, HTML or invisible characters (:func:`copilot_seats.escape.md_text`)."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return md_text(flat)


def _seat(change: Change) -> str:
    return md_code(change.name) if change.kind == "user" else f"team {md_code(change.name)}"


@dataclass(frozen=True)
class SeatFacts:
    """What GitHub says about one login right now (from the live listing)."""

    held: bool
    pending: bool
    last_activity: datetime | None


@dataclass(frozen=True)
class CommentInput:
    """Everything the comment shows.

    :param problems: seats.yaml problems (``file:line:col: message``); non-empty = invalid file.
    :param preview_ran: False when there is no preview output (it did not run or crashed).
    :param live: facts per casefolded login, or ``None`` when the live listing was unavailable.
    :param price: monthly price of one seat.
    """

    stack: str
    plan: PreviewPlan = field(default_factory=PreviewPlan)
    findings: Sequence[Finding] = ()
    problems: Sequence[str] = ()
    preview_ran: bool = True
    live: Mapping[str, SeatFacts] | None = None
    price: Decimal = Decimal("19")
    details_url: str = ""
    notes: Sequence[str] = ()


def _money(value: Decimal) -> str:
    return f"${value:,.2f}".replace(".00", "")


def _signed(count: int) -> str:
    return f"+{count}" if count > 0 else str(count)


def _already_held(change: Change, live: Mapping[str, SeatFacts] | None) -> bool:
    """A grant of a seat GitHub already lists (a first ``up`` only records it in state)."""
    if change.action != "grant" or change.kind != "user":
        return False
    if live is None:
        return change.held
    facts = live.get(change.name.casefold())
    return facts is not None and facts.held and not facts.pending


def _note(change: Change, live: Mapping[str, SeatFacts] | None) -> str:
    if change.action == "revoke" and change.kind == "user" and live is not None:
        facts = live.get(change.name.casefold())
        if facts is None or not facts.held:
            return "no live seat (nothing to revoke)"
        if facts.pending:
            return "already pending cancellation"
        active = facts.last_activity.date().isoformat() if facts.last_activity else "none reported"
        return f"last activity {active}; {change.detail}" if change.detail else f"last activity {active}"
    if change.action == "grant" and change.kind == "team":
        return "every member of the team gets a seat"
    return change.detail


_VERB = {"grant": "Granted", "revoke": "Revoked", "change": "Changed"}
_SIGN = {"grant": "+", "revoke": "-", "change": "~"}


def _table(changes: Sequence[Change], live: Mapping[str, SeatFacts] | None) -> list[str]:
    rows = ["| | seat | owner | reason | note |", "|---|---|---|---|---|"]
    for c in changes:
        rows.append(f"| {_SIGN[c.action]} {c.action} | {_seat(c)} | {md(c.owner) or '-'} | {md(c.reason) or '-'} "
                    f"| {md(_note(c, live)) or ''} |")
    return rows


def _logins(changes: Sequence[Change], budget: int) -> str:
    """Inline logins (teams marked) within ``budget`` characters, then "and N more"."""
    out: list[str] = []
    used = 0
    for i, c in enumerate(changes):
        item = _seat(c)
        if used + len(item) + 2 > budget - 40 and i < len(changes) - 1:
            return ", ".join(out) + f" … and {len(changes) - i} more (full list: the `seats-preview` artifact)"
        out.append(item)
        used += len(item) + 2
    return ", ".join(out)


def _grouped(changes: Sequence[Change], budget: int) -> list[str]:
    """Changes grouped by (owner, reason), logins inline; cut only if over ``budget``."""
    groups: dict[tuple[str, str], list[Change]] = {}
    for c in changes:
        groups.setdefault((c.owner, c.reason), []).append(c)
    lines: list[str] = []
    per_group = max(200, budget // max(1, len(groups)))
    for (owner, reason), members in groups.items():
        label = f"owner **{md(owner)}**" if owner else "no owner"
        label += f", reason: {md(reason)}" if reason else ""
        lines.append(f"- {label} ({len(members)}): {_logins(members, per_group)}")
    return lines


def _plan_section(data: CommentInput, budget: int) -> str:
    live = data.live
    real = [c for c in data.plan.changes if not _already_held(c, live)]
    held = [c for c in data.plan.changes if _already_held(c, live)]
    counts = Counter(c.action for c in real)
    title = ("### Plan: " + ", ".join(f"{counts[a]} {_VERB[a].lower()}" for a in _VERB if counts[a])
             if real else "### Plan: no seat changes")
    adopted = ([f"{len(held)} seat(s) already held on GitHub are recorded in the stack (no change on GitHub):"]
               if held else [])

    def build(body: list[str], held_lines: list[str]) -> str:
        parts = [title, *body]
        if held_lines:
            parts += ["", *held_lines]
        return "\n".join(parts) + "\n"

    for by_action in (True, False):
        body: list[str] = []
        for action in _VERB:
            chosen = [c for c in real if c.action == action]
            if not chosen:
                continue
            body += ["", f"**{_VERB[action]} ({len(chosen)})**", ""]
            share = max(1_000, budget * len(chosen) // max(1, len(real)) - 200)  # room in proportion
            body += _table(chosen, live) if by_action else _grouped(chosen, share)
        for held_lines in ([*adopted, "", _logins(held, budget // 4)] if held else [],
                           [f"{adopted[0]} see the `seats-preview` artifact."] if held else []):
            text = build(body, held_lines)
            if len(text) <= budget:
                return text
    # Tens of thousands of changes: keep every count, cut the logins evenly.
    body = []
    for action in _VERB:
        chosen = [c for c in real if c.action == action]
        if chosen:
            body += ["", f"**{_VERB[action]} ({len(chosen)})**: {_logins(chosen, budget // 4)}"]
    return build(body, [f"{adopted[0]} see the `seats-preview` artifact."] if held else [])[:budget]


@dataclass(frozen=True)
class _Cost:
    """Billed seats now, after the merge in this billing cycle, and from the next one."""

    now: int
    this_cycle: int
    next_cycle: int
    added: int
    revoked: int
    pending: int
    new_teams: int


def _cost(data: CommentInput) -> _Cost | None:
    """The seat counts behind the cost; ``None`` when the preview reported no live count.

    A grant adds a seat unless the user already holds one (a grant of a seat pending
    cancellation calls the cancellation off); a revocation frees a seat from the next cycle
    (GitHub bills it until the cycle ends), as do seats already pending cancellation.
    """
    org, live = data.plan.organization, data.live
    listed = org.get("live_seats")
    if not isinstance(listed, int):
        return None
    pending_list = org.get("pending_cancellation")
    pending_now = len(pending_list) if isinstance(pending_list, list) else 0
    added = regranted = removed = 0
    for c in data.plan.changes:
        facts = live.get(c.name.casefold()) if live is not None else None
        if c.kind == "user" and c.action == "grant":
            held, pending = (facts.held, facts.pending) if facts is not None else (c.held or c.pending, c.pending)
            if not held:
                added += 1
            elif pending:
                regranted += 1
        elif c.kind == "user" and c.action == "revoke":
            removed += 1 if live is None or (facts is not None and facts.held and not facts.pending) else 0
    removed += sum(c.seats for c in data.plan.changes if c.action == "revoke" and c.kind == "team")
    new_teams = sum(1 for c in data.plan.changes if c.action == "grant" and c.kind == "team")
    this_cycle = listed + added  # listed = user seats plus `assignee: null` seats, all billed
    return _Cost(listed, this_cycle, this_cycle - removed - (pending_now - regranted), added, removed,
                 pending_now, new_teams)


def _cost_section(data: CommentInput) -> str:
    cost, price = _cost(data), data.price
    if cost is None:
        return "### Cost\n\nNot known: the preview did not report the live seats.\n"
    change = cost.next_cycle - cost.now
    lines = ["### Cost", "", "| | seats | monthly |", "|---|---|---|",
             f"| now | {cost.now} | {_money(price * cost.now)} |",
             f"| after merge, this billing cycle | {cost.this_cycle} ({_signed(cost.added)}) "
             f"| {_money(price * cost.this_cycle)} |",
             f"| from the next billing cycle | {cost.next_cycle} ({_signed(change)}) "
             f"| {_money(price * cost.next_cycle)} ({_signed_money(price * change)}) |",
             "", f"At {_money(price)} per seat. A revoked seat stays billed until the billing cycle ends "
             f"({cost.revoked} revoked here, {cost.pending} already pending cancellation)."]
    if cost.new_teams:
        lines.append(f"Not counted: the members of {cost.new_teams} newly granted team(s) "
                     "(GitHub seats them on apply).")
    if data.live is None and cost.revoked:
        lines.append("The live seat listing was not available: each revocation is assumed to free a seat.")
    return "\n".join(lines) + "\n"


def _signed_money(value: Decimal) -> str:
    return ("+" if value > 0 else "-" if value < 0 else "±") + _money(abs(value))


def _glance(data: CommentInput) -> str:
    """One line: the plan's counts, the monthly cost from the next cycle, violations per policy."""
    real = [c for c in data.plan.changes if not _already_held(c, data.live)]
    counts = Counter(c.action for c in real)
    plan = ", ".join(f"{counts[a]} {_VERB[a].lower()}" for a in _VERB if counts[a]) or "no seat changes"
    policies = Counter(f.policy for f in data.findings)
    found = ", ".join(f"{md(p, 80)} {n}" for p, n in policies.items()) or "none"
    cost = _cost(data)
    monthly = "" if cost is None else (
        f" · **monthly cost** {_money(data.price * cost.now)} → {_money(data.price * cost.next_cycle)} "
        "from the next billing cycle")
    return f"**Plan:** {plan}{monthly} · **violations:** {found}"


def _violation_summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "### Policy violations\n\nNone.\n"
    by_policy: dict[str, list[Finding]] = {}
    for f in findings:
        by_policy.setdefault(f.policy, []).append(f)
    lines = ["### Policy violations", "", "| policy | enforcement | count | first |", "|---|---|---|---|"]
    for policy, found in by_policy.items():
        first = ", ".join(md(f.subject, 40) for f in found[:_FIRST]) + (" …" if len(found) > _FIRST else "")
        level = "**mandatory**" if found[0].enforcement == "mandatory" else found[0].enforcement
        lines.append(f"| {md_code(policy)} | {level} | {len(found)} | {first} |")
    return "\n".join(lines) + "\n"


def _bounded(items: Sequence[str], budget: int, render: Callable[[str], str], more: str) -> list[str]:
    out: list[str] = []
    used = 0
    for i, item in enumerate(items):
        line = render(item)
        if used + len(line) + 1 > budget - 120:
            out.append(f"- … and {len(items) - i} more {more}")
            break
        out.append(line)
        used += len(line) + 1
    return out


def _details(data: CommentInput, budget: int) -> str:
    parts: list[str] = []
    by_policy: dict[str, list[Finding]] = {}
    for f in data.findings:
        by_policy.setdefault(f.policy, []).append(f)
    sections = [(f"{policy}: {len(found)} violation(s)", [f.message.replace(ACTIVITY_HINT, "").strip() for f in found])
                for policy, found in by_policy.items()]
    if data.plan.warnings:
        sections.append((f"warnings: {len(data.plan.warnings)}", list(data.plan.warnings)))
    for title, messages in sections:
        room = (budget - sum(len(p) for p in parts)) // max(1, len(sections) - len(parts))
        if room < 300:
            break
        lines = _bounded(messages, room - len(title) - 60, lambda m: f"- {md(m, _MESSAGE)}",
                         "(the full list: the `seats-preview` artifact)")
        parts.append("\n".join([f"<details><summary>{md(title)}</summary>", "", *lines, "", "</details>"]) + "\n")
    if any(ACTIVITY_HINT in f.message for f in data.findings):
        parts.append(f"_{md(ACTIVITY_HINT, 1_000)}_\n")
    return "\n".join(parts)


def _invalid(data: CommentInput, budget: int) -> str:
    lines = [f"### seats.yaml is invalid ({len(data.problems)} problem(s))", "",
             "Nothing was previewed. Fix these and push again:", ""]
    lines += _bounded(list(data.problems), budget - 200, lambda p: f"- {md(p, _MESSAGE)}", "problem(s)")
    return "\n".join(lines) + "\n"


def _resolved_by_plan(data: CommentInput) -> tuple[list[Finding], int]:
    """The findings to show, and how many ``missing-seat`` ones this plan's grants resolve
    (a user requested in this very PR has no seat yet: that is the change, not a finding)."""
    granted = {c.name.casefold() for c in data.plan.changes if c.action == "grant"}
    granted |= {f"team {c.name}".casefold() for c in data.plan.changes if c.action == "grant" and c.kind == "team"}
    shown = [f for f in data.findings if not (f.policy == "missing-seat" and f.subject.casefold() in granted)]
    return shown, len(data.findings) - len(shown)


def render_comment(data: CommentInput) -> str:
    """The Markdown comment; ``len(result) <= MAX_COMMENT_CHARS`` always."""
    shown, resolved = _resolved_by_plan(data)
    if resolved:
        note = f"{resolved} missing-seat finding(s) for seats this plan grants are not listed."
        data = replace(data, findings=shown, notes=[*data.notes, note])
    head = [f"## Copilot seats: preview of {md_code(data.stack[:80])}" if data.stack else "## Copilot seats: preview",
            ""]
    for note in data.notes:
        head += [f"> {md(note, _MESSAGE)}", ""]
    footer = ("\n---\n_Rendered by `copilot-seats pr-comment`" +
              (f" · [workflow run, full preview and report]({data.details_url})" if data.details_url else "")
              + "._\n")
    if data.problems:
        top = "\n".join(head) + "\n"
        return top + _invalid(data, MAX_COMMENT_CHARS - len(top) - len(footer)) + footer
    if not data.preview_ran:
        head += ["**The preview did not run**; see the workflow log.", ""]
    if data.plan.errors:
        head += [f"**The preview failed** ({len(data.plan.errors)} error(s)); "
                 "nothing will be applied until it passes:", ""]
        head += _bounded(list(data.plan.errors), 6_000, lambda e: f"- {md(e, 1_000)}", "error(s)")
        head.append("")
    if data.preview_ran:
        head += [_glance(data), ""]
    top = "\n".join(head) + "\n"
    cost = _cost_section(data) if data.preview_ran else ""
    summary = _violation_summary(data.findings) if data.preview_ran else ""
    fixed = len(top) + len(cost) + len(summary) + len(footer) + 8
    plan = _plan_section(data, MAX_COMMENT_CHARS - fixed - 1_000) if data.preview_ran else ""
    room = MAX_COMMENT_CHARS - fixed - len(plan)
    while True:  # details are estimates per section: shrink them until the whole fits
        details = _details(data, room) if room > 0 else ""
        text = "\n".join(p for p in (top + plan, cost, summary, details) if p) + footer
        if len(text) <= MAX_COMMENT_CHARS:
            return text
        if room <= 0:  # cannot happen with bounded sections; never post an over-long comment
            return text[:MAX_COMMENT_CHARS]
        room -= len(text) - MAX_COMMENT_CHARS + 500
