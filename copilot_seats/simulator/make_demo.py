"""Generate the demo organization fixture ``fixtures/demo-org.json`` from the repo's seats.yaml.

Deterministic (seeded; every time is relative, ``{"days_ago": N}``), so re-running it gives the
same file and the demo stays meaningful whenever it is run. Run from the repository root::

    python -m copilot_seats.simulator.make_demo [seats.yaml] [output.json]

What ``octo-demo`` contains (about 300 seats, ``assign_selected``, plan business):

* declared users hold direct seats, except :data:`MISSING` (members without a seat) and
  :data:`PENDING` (seats pending cancellation); activity spread over fresh, stale (> 60 days),
  null-and-old (never used / > 90 days) and null-but-new seats; ``frances-allen`` is stale but
  has a stale exemption in seats.yaml;
* the declared teams (ml-research, mobile) exist with members holding team-derived seats;
  :data:`DOUBLE_GRANTED` is also declared directly (a double grant);
* the undeclared team ``contractors`` and ~250 generated logins hold unmanaged seats;
* a few seats have ``assignee: null``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DOUBLE_GRANTED", "MISSING", "PENDING", "build_demo", "main"]

SEED = 20240611
ORG = "octo-demo"
MISSING = ("rajred", "cynthia-dwork", "silviomic")
"""Declared users who are members but hold no seat (drift: missing)."""
PENDING = ("tim-bernerslee", "mary-shaw")
"""Declared users whose seat was cancelled this cycle."""
DOUBLE_GRANTED = "ken-thompson"
"""Declared directly and a member of the declared team ml-research."""
UNMANAGED_COUNT = 245
UNASSIGNED_COUNT = 3

_EDITORS = ("vscode/1.99.0/copilot/1.300.0", "vscode/1.98.2/copilot-chat/0.25.1",
            "JetBrains-IU/2024.3/copilot-intellij/1.5.30", "vs/17.12.3/copilot-vs/1.200.0",
            "neovim/0.10.2/copilot.vim/1.41.0", "Xcode/16.1/copilot-xcode/0.30.0")
_WORDS = ("amber", "birch", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
          "kestrel", "lumen", "maple", "nimbus", "onyx", "pebble", "quartz", "raven", "sierra", "tundra",
          "umber", "vertex", "willow", "xenon", "yarrow", "zephyr")


def _activity(rng: random.Random, profile: str | None = None) -> dict[str, Any]:
    """Seat times for a usage profile (random when None): fresh, recent, aging, stale, null_old, null_new."""
    profile = profile or rng.choices(("fresh", "recent", "aging", "stale", "null_old", "null_new"),
                                     weights=(45, 20, 10, 10, 10, 5))[0]
    created = rng.randint(120, 700)
    if profile == "null_new":
        return {"created_at": {"days_ago": rng.randint(1, 10)}, "last_activity_at": None,
                "last_activity_editor": None, "last_authenticated_at": None}
    if profile == "null_old":
        return {"created_at": {"days_ago": created}, "last_activity_at": None, "last_activity_editor": None,
                "last_authenticated_at": rng.choice([None, {"days_ago": rng.randint(95, 200)}])}
    days = {"fresh": (0, 7), "recent": (8, 30), "aging": (31, 59), "stale": (63, 89)}[profile]
    ago = rng.randint(*days) + round(rng.random(), 2)
    return {"created_at": {"days_ago": max(created, int(ago) + 1)}, "last_activity_at": {"days_ago": ago},
            "last_activity_editor": rng.choice(_EDITORS), "last_authenticated_at": {"days_ago": ago}}


def build_demo(seats_yaml: dict[str, Any]) -> dict[str, Any]:
    """The demo fixture for the spec document ``seats_yaml`` (as loaded by ``yaml.safe_load``)."""
    rng = random.Random(SEED)
    users = list((seats_yaml.get("users") or {}).keys())
    declared_teams = list((seats_yaml.get("teams") or {}).keys())
    seats: list[dict[str, Any]] = []
    for login in users:
        if login in MISSING:
            continue
        seat = {"login": login, "direct": True, **_activity(rng)}
        if login == "frances-allen":
            seat.update(_activity(rng, "stale"))
        if login in PENDING:
            seat.update({"direct": False, "pending_cancellation": True, **_activity(rng, "null_old")})
        seats.append(seat)
    teams: list[dict[str, Any]] = []
    for index, slug in enumerate([*declared_teams, "contractors"]):
        size = (8, 6, 5)[min(index, 2)]
        members = [f"{slug.split('-')[0]}-{_WORDS[(index * 7 + n) % len(_WORDS)]}{n + 1}" for n in range(size)]
        if slug == "ml-research":
            members.append(DOUBLE_GRANTED)
        teams.append({"slug": slug, "name": slug.replace("-", " ").title(), "members": members})
        for member in members:
            if member == DOUBLE_GRANTED:
                next(s for s in seats if s["login"] == member)["teams"] = [slug]
            else:
                seats.append({"login": member, "teams": [slug], **_activity(rng)})
    taken = {s["login"] for s in seats}
    target = len(taken) + UNMANAGED_COUNT
    while len(taken) < target:
        login = f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}{rng.randint(1, 999)}"
        if login not in taken:
            taken.add(login)
            seats.append({"login": login, "direct": True, **_activity(rng)})
    members = [*[s["login"] for s in seats], *MISSING, "octo-admin", "octo-bot"]
    return {
        "organizations": [{
            "login": seats_yaml.get("organization", ORG), "id": 90210,
            "seat_management_setting": "assign_selected", "plan_type": "business",
            "public_code_suggestions": "block", "ide_chat": "enabled", "platform_chat": "enabled",
            "cli": "enabled", "members": members, "teams": teams, "seats": seats,
            "unassigned_seats": [{"created_at": {"days_ago": 30 + 11 * n}} for n in range(UNASSIGNED_COUNT)],
        }],
        "enterprises": [{"slug": "octo-enterprise", "organizations": [seats_yaml.get("organization", ORG)]}],
        "rate_limit": {"limit": 5000},
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(__file__).resolve().parents[2]
    source = Path(args[0]) if args else root / "seats.yaml"
    target = Path(args[1]) if len(args) > 1 else Path(__file__).with_name("fixtures") / "demo-org.json"
    fixture = build_demo(yaml.safe_load(source.read_text(encoding="utf-8")))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(fixture, indent=1) + "\n", encoding="utf-8")
    seats = fixture["organizations"][0]["seats"]
    print(f"wrote {target}: {len(seats)} seats + {UNASSIGNED_COUNT} without assignee")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
