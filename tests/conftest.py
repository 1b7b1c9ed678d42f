"""Shared fixtures: a real simulator on 127.0.0.1 (random free port), in a background thread.

``simulator`` runs :data:`SMALL_FIXTURE`; ``make_simulator(fixture_dict, **load_options)`` runs
any fixture (e.g. ``read_fixture("demo")``). Both yield a :class:`RunningSimulator`::

    def test_x(simulator):
        client = simulator.client()              # CopilotClient: no sleeping, no write spacing
        ...
        assert simulator.writes == []            # no POST/DELETE reached the simulator
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from copilot_seats.github.api import CopilotClient
from copilot_seats.simulator import RequestRecord, SimState, SimulatorServer, load_fixture

TOKEN = "fake-simulator-token-0123456789"  # not a GitHub token format: secret scanners stay quiet

SMALL_FIXTURE: dict[str, Any] = {
    "organizations": [
        {
            "login": "acme",
            "id": 4242,
            "seat_management_setting": "assign_selected",
            "plan_type": "business",
            "members": ["Alice", "bob", "carol", "dave", "erin", "frank", "newbie"],
            "teams": [
                {"slug": "platform", "name": "Platform", "members": ["carol", "dave"]},
                {"slug": "empty-team", "name": "Empty", "members": []},
            ],
            "seats": [
                {"login": "Alice", "created_at": {"days_ago": 300}, "last_activity_at": {"days_ago": 2},
                 "last_activity_editor": "vscode/1.99.0/copilot/1.300.0",
                 "last_authenticated_at": {"days_ago": 2}},
                {"login": "bob", "created_at": {"days_ago": 200}, "last_activity_at": None},
                {"login": "carol", "teams": ["platform"], "created_at": {"days_ago": 100},
                 "last_activity_at": {"days_ago": 75}, "last_activity_editor": "JetBrains-IC/2024.1/copilot/1.5"},
                {"login": "dave", "teams": ["platform"], "direct": True, "created_at": {"days_ago": 100},
                 "last_activity_at": {"days_ago": 10}},
                {"login": "erin", "pending_cancellation": True, "created_at": {"days_ago": 400},
                 "last_activity_at": None},
                {"login": "newbie", "created_at": {"days_ago": 3}, "last_activity_at": None},
            ],
            "unassigned_seats": [{"created_at": {"days_ago": 30}}],
        },
        {"login": "allorg", "seat_management_setting": "assign_all", "members": ["zed"],
         "seats": [{"login": "zed", "created_at": {"days_ago": 5}}]},
        {"login": "labs", "members": ["alice"],
         "seats": [{"login": "alice", "created_at": {"days_ago": 50}, "last_activity_at": {"days_ago": 1}}]},
    ],
    "enterprises": [{"slug": "acme-ent", "organizations": ["acme", "labs"]}],
    "tokens": {"ghp_readOnlyToken000": "read"},
}
"""acme: 6 user seats (Alice active, bob never used, carol+dave via team platform, dave also direct,
erin pending cancellation, newbie new) + 1 ``assignee: null`` seat; allorg: ``assign_all``;
labs: Alice again (enterprise duplicate)."""


@dataclass
class RunningSimulator:
    """A simulator serving in a thread: ``base_url``, ``token``, ``state`` and its request log."""

    server: SimulatorServer
    state: SimState
    token: str = TOKEN
    clients: list[CopilotClient] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def requests(self) -> list[RequestRecord]:
        return self.state.log.all()

    @property
    def writes(self) -> list[RequestRecord]:
        """Non-GET requests received (``[]`` proves nothing was written)."""
        return self.state.log.writes()

    def client(self, **options: Any) -> CopilotClient:
        """A client for this simulator that never sleeps and spaces no writes (overridable)."""
        options.setdefault("write_spacing", 0)
        options.setdefault("sleep", lambda _s: None)
        options.setdefault("backoff", 0)
        client = CopilotClient(self.base_url, options.pop("token", self.token), **options)
        self.clients.append(client)
        return client

    def env(self) -> dict[str, str]:
        """Environment variables pointing the CLI at this simulator."""
        return {"GITHUB_TOKEN": self.token, "GITHUB_API_URL": self.base_url}


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., RunningSimulator]]:
    running: list[RunningSimulator] = []

    def start(fixture: dict[str, Any] | None = None, **options: Any) -> RunningSimulator:
        options.setdefault("token", TOKEN)
        state = load_fixture(copy.deepcopy(fixture or SMALL_FIXTURE), **options)
        sim = RunningSimulator(SimulatorServer(state).start(), state, options["token"])
        running.append(sim)
        return sim

    yield start
    for sim in running:
        for client in sim.clients:
            client.close()
        sim.server.stop()


@pytest.fixture
def simulator(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    """The simulator seeded with :data:`SMALL_FIXTURE`."""
    return make_simulator()
