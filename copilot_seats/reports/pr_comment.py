"""The pull-request comment of a seats preview: the plan first, always within GitHub's limit.

Reviewers approve *changes*, so the comment leads with them: grants grouped by owner and
reason, revocations with their last activity, changes; then the cost change (this billing
cycle and the next: GitHub bills a revoked seat until the cycle ends), then the policy
violations summarised by policy, then the details inside collapsed ``<details>``. Above all of
it, when they apply: a large removal approved in seats.yaml (``settings.removal_approval``),
and the guard's refusal with its count, its limit, where the limit comes from and how to
approve the removal in the pull request.

Size: GitHub rejects comments over 65,536 characters. :data:`MAX_COMMENT_CHARS` leaves room for
the marker the sticky-comment action adds. The plan is never dropped and its logins are cut
only past :data:`PLAN_CHARS` (tens of thousands of changes), in proportion per group, with the
counts kept and a pointer to the artifact. Entries adopted as they are (GitHub already holds
the seat: nothing is written) come after the real changes. Details fill whatever room is
left. Text from seats.yaml and GitHub (owner, reason, logins, team slugs, messages) goes
through :mod:`copilot_seats.escape` (:func:`md`): no link, autolink, mention, image, HTML or
invisible/bidi control character comes from it (tests/test_markdown_inert.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from copilot_seats.decisions.planning import GuardVerdict, removal_limit
from copilot_seats.decisions.run_settings import RunSettings
from copilot_seats.desired.spec import MAX_APPROVAL_DAYS, RemovalApproval
from copilot_seats.escape import md_code, md_text
from copilot_seats.policies.rules import ACTIVITY_HINT
from copilot_seats.reports.pr_plan import Change, Finding, PreviewPlan

__all__ = ["MAX_COMMENT_CHARS", "PLAN_CHARS", "CommentInput", "GuardFacts", "SeatFacts", "md", "render_comment"]

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
class GuardFacts:
    """The guard's view of the plan, for the reviewer.

    :param verdict: the verdict on the derived plan (``None``: the plan is the preview's own).
    :param settings: the thresholds it applied; ``source`` says where they came from.
    :param base: seats declared at the last applied run (the fraction's base).
    :param approval: seats.yaml's ``settings.removal_approval``, if any.
    :param today: the day of the run (whether the approval is in force; the expiry to suggest).
    """

    verdict: GuardVerdict | None
    settings: RunSettings = field(default_factory=RunSettings)
    source: str = "defaults"
    base: int = 0
    approval: RemovalApproval | None = None
    today: date = field(default_factory=lambda: datetime.now(UTC).date())


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
    guard: GuardFacts | None = None


def _refused(data: CommentInput) -> bool:
    return data.guard is not None and data.guard.verdict is not None and not data.guard.verdict.ok


def _approval_banner(data: CommentInput) -> list[str]:
    """seats.yaml approves a large removal: shown first, whatever else the comment says."""
    guard = data.guard
    if guard is None or guard.approval is None:
        return []
    approval, verdict = guard.approval, guard.verdict
    head = (f"> [!WARNING]\n> **This seats.yaml approves a large removal**: `settings.removal_approval` lets the "
            f"guard pass a run that revokes exactly **{approval.seats}** seat(s), until {approval.expires.isoformat()} "
            f"(line {approval.line}). Reason: {md(approval.reason, _MESSAGE)}")
    if not approval.in_force(guard.today):
        state = "It has expired: the guard ignores it. Remove it."
    elif verdict is None:
        state = "Whether it applies is not known here (no plan of the comment's own; see the preview)."
    elif verdict.revoking == approval.seats and verdict.ok and verdict.revoking > _limit(guard):
        state = (f"**It applies**: this change revokes {verdict.revoking} seat(s), past the guard's limit of "
                 f"{_limit(guard)}. Merging applies it; remove the approval in the next change.")
    elif verdict.revoking <= _limit(guard):
        state = (f"It is not needed: this change revokes {verdict.revoking} seat(s), within the guard's limit of "
                 f"{_limit(guard)}. Remove it, so it cannot approve a later change.")
    else:
        state = (f"**It does not apply**: this change revokes {verdict.revoking} seat(s), not {approval.seats}.")
    return [head, f"> {state}", ""]


def _limit(guard: GuardFacts) -> int:
    s = guard.settings
    return removal_limit(guard.base, s.max_removal_count, s.max_removal_fraction)


def _refusal(data: CommentInput) -> list[str]:
    """What the guard refused, how its limit is made, and how to approve it in this PR."""
    guard = data.guard
    if guard is None or guard.verdict is None or guard.verdict.ok:
        return []
    verdict, s = guard.verdict, guard.settings
    if verdict.revoking <= _limit(guard):  # not a count: the organization changed
        return ["> [!CAUTION]", f"> **The guard refuses this change**: {md(verdict.message, 1_000)}", ""]
    expires = (guard.today + timedelta(days=7)).isoformat()
    return ["> [!CAUTION]",
            f"> **The guard refuses this change**: it revokes **{verdict.revoking}** seat(s); the limit is "
            f"**{_limit(guard)}**, the larger of maxRemovalCount {s.max_removal_count} and maxRemovalFraction "
            f"{s.max_removal_fraction:g} of the {guard.base} seats declared at the last applied run "
            f"(thresholds: {md(guard.source)}). Nothing is applied while it refuses; the plan it refused is below.",
            "",
            "To approve exactly this removal in this pull request, add to seats.yaml (reviewed like any other "
            "line; this comment then shows it at the top):",
            "", "```yaml", "settings:", "  removal_approval:", f"    seats: {verdict.revoking}",
            f"    expires: {expires}   # at most {MAX_APPROVAL_DAYS} days ahead", "    reason: \"...\"", "```",
            "", "Or split the removal into changes within the limit.", ""]


def _money(value: Decimal) -> str:
    return f"${value:,.2f}".replace(".00", "")


def _signed(count: int) -> str:
    return f"+{count}" if count > 0 else str(count)


def _already_held(change: Change, live: Mapping[str, SeatFacts] | None) -> bool:
    """An entry new to the stack whose seat GitHub already lists: adopted (a first ``up`` only
    records it; nothing is written). A team is adopted when GitHub lists seats through it."""
    if change.action != "grant":
        return False
    if change.kind == "team" or live is None:
        return change.held
    facts = live.get(change.name.casefold())
    return facts is not None and facts.held and not facts.pending


def _activity(change: Change, live: Mapping[str, SeatFacts] | None) -> str:
    """A revoked user's last activity, as the live listing shows it ("" when not known)."""
    if change.action != "revoke" or change.kind != "user" or live is None:
        return ""
    facts = live.get(change.name.casefold())
    if facts is None or not facts.held:
        return "no live seat (nothing to revoke)"
    if facts.pending:
        return "already pending cancellation"
    return f"last activity {facts.last_activity.date().isoformat() if facts.last_activity else 'none reported'}"


def _note(change: Change, live: Mapping[str, SeatFacts] | None) -> str:
    activity = _activity(change, live)
    if activity:
        return f"{activity}; {change.detail}" if change.detail else activity
    if change.action == "grant" and change.kind == "team":
        return "every member of the team gets a seat"
    return change.detail


_VERB = {"grant": "Granted", "revoke": "Revoked", "change": "Changed"}
_SIGN = {"grant": "+", "revoke": "-", "change": "~"}

PLAN_CHARS = 60_000
"""Room for the plan: logins are cut only when the plan would pass this (tens of thousands)."""


def _table(changes: Sequence[Change], live: Mapping[str, SeatFacts] | None) -> list[str]:
    rows = ["| | seat | owner | reason | note |", "|---|---|---|---|---|"]
    for c in changes:
        rows.append(f"| {_SIGN[c.action]} {c.action} | {_seat(c)} | {md(c.owner) or '-'} | {md(c.reason) or '-'} "
                    f"| {md(_note(c, live)) or ''} |")
    return rows


def _item(change: Change, live: Mapping[str, SeatFacts] | None) -> str:
    """One seat inline: the name, and for a revocation its last activity (when ``live``)."""
    activity = _activity(change, live)
    return _seat(change) + (f" ({md(activity.removeprefix('last activity '))})" if activity else "")


def _logins(items: Sequence[str], budget: int) -> str:
    """Inline items within ``budget`` characters, then "and N more"."""
    out: list[str] = []
    used = 0
    for i, item in enumerate(items):
        if used + len(item) + 2 > budget - 60 and i < len(items) - 1:
            return ", ".join(out) + f" … and {len(items) - i} more (full list: the `seats-preview` artifact)"
        out.append(item)
        used += len(item) + 2
    return ", ".join(out)


def _groups(changes: Sequence[Change]) -> dict[tuple[str, str], list[Change]]:
    groups: dict[tuple[str, str], list[Change]] = {}
    for c in changes:
        groups.setdefault((c.owner, c.reason), []).append(c)
    return groups


def _grouped(changes: Sequence[Change], live: Mapping[str, SeatFacts] | None, budget: int | None) -> list[str]:
    """Changes grouped by (owner, reason), seats inline; each group's seats cut, in proportion to
    its share of the whole, only when ``budget`` (characters) is given and they pass it."""
    groups = _groups(changes)
    items = {k: [_item(c, live) for c in members] for k, members in groups.items()}
    total = sum(len(i) + 2 for group in items.values() for i in group) or 1
    lines: list[str] = []
    for (owner, reason), members in groups.items():
        label = f"owner **{md(owner)}**" if owner else "no owner"
        label += f", reason: {md(reason)}" if reason else ", no reason"
        mine = items[(owner, reason)]
        room = None if budget is None else max(200, budget * sum(len(i) + 2 for i in mine) // total)
        lines.append(f"- {label} ({len(members)}): " + (", ".join(mine) if room is None else _logins(mine, room)))
    return lines


def _plan_title(real: Sequence[Change], refused: bool) -> str:
    counts = Counter(c.action for c in real)
    plan = ", ".join(f"{counts[a]} {_VERB[a].lower()}" for a in _VERB if counts[a]) or "no seat changes"
    return plan + (" (refused by the guard: nothing is applied)" if refused else "")


def _plan_section(data: CommentInput, budget: int) -> str:
    """Grants grouped by owner and reason, revocations and changes (a table when it fits, else
    grouped, with last activity while that fits), then the entries adopted without a write.
    Logins are cut only past ``budget``."""
    live = data.live
    real = [c for c in data.plan.changes if not _already_held(c, live)]
    held = [c for c in data.plan.changes if _already_held(c, live)]
    title = "### Plan: " + _plan_title(real, _refused(data))

    def render(tables: bool, cut: int | None, activity: bool = True) -> str:
        parts = [title]
        for action in _VERB:
            chosen = [c for c in real if c.action == action]
            if not chosen:
                continue
            by = " by owner and reason" if action == "grant" else ""
            parts += ["", f"**{_VERB[action]} ({len(chosen)})**{by}", ""]
            share = None if cut is None else max(1_000, cut * len(chosen) // max(1, len(real) + len(held)))
            parts += (_table(chosen, live) if tables and action != "grant"
                      else _grouped(chosen, live if activity else None, share))
        if held:
            parts += ["", f"**Adopted ({len(held)})**: already held on GitHub; the stack records them and "
                          "nothing is written", ""]
            share = None if cut is None else max(1_000, cut * len(held) // max(1, len(real) + len(held)))
            parts += _grouped(held, None, share)
        return "\n".join(parts) + "\n"

    for tables, activity in ((True, True), (False, True), (False, False)):
        text = render(tables, None, activity)
        if len(text) <= budget:
            return text
    cut = budget - 2_000
    while cut > 1_000:
        text = render(False, cut, False)
        if len(text) <= budget:
            return text
        cut -= len(text) - budget + 1_000
    # more owner/reason groups than room for their labels: every count, the seats inline
    lines = [title]
    for action, chosen in [(a, [c for c in real if c.action == a]) for a in _VERB] + [("adopt", held)]:
        if chosen:
            name = "Adopted" if action == "adopt" else _VERB[action]
            lines += ["", f"**{name} ({len(chosen)})**: " + _logins([_item(c, live) for c in chosen], budget // 4)]
    return ("\n".join(lines) + "\n")[:budget]


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
    new_teams = sum(1 for c in data.plan.changes if c.action == "grant" and c.kind == "team" and not c.held)
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
    adopted = len(data.plan.changes) - len(real)
    plan = _plan_title(real, _refused(data)) + (f"; {adopted} adopted (no write)" if adopted else "")
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
    head += _approval_banner(data)
    head += _refusal(data)
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
    plan = _plan_section(data, min(PLAN_CHARS, MAX_COMMENT_CHARS - fixed - 1_000)) if data.preview_ran else ""
    room = MAX_COMMENT_CHARS - fixed - len(plan)
    while True:  # details are estimates per section: shrink them until the whole fits
        details = _details(data, room) if room > 0 else ""
        text = "\n".join(p for p in (top + plan, cost, summary, details) if p) + footer
        if len(text) <= MAX_COMMENT_CHARS:
            return text
        if room <= 0:  # cannot happen with bounded sections; never post an over-long comment
            return text[:MAX_COMMENT_CHARS]
        room -= len(text) - MAX_COMMENT_CHARS + 500
