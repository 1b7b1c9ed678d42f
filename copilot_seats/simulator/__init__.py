"""A loopback GitHub that follows the published Copilot seat contract (standard library only).

Python API::

    state = load_fixture(read_fixture("demo"), token="t")      # or read_fixture("path.json")
    with SimulatorServer(state) as server:                      # 127.0.0.1, a free port
        server.base_url                                         # "http://127.0.0.1:PORT"
        state.inject(status=429, retry_after=1)                 # faults (see Fault)
        state.log.writes()                                      # non-GET requests seen

CLI: ``copilot-seats simulate --fixture FILE|demo``. See docs/live-state.md.
"""

from __future__ import annotations

from copilot_seats.simulator.control import Fault, RateLimit, RequestLog, RequestRecord
from copilot_seats.simulator.fixtures import DEMO_FIXTURE, dump_state, load_fixture, read_fixture
from copilot_seats.simulator.server import SimulatorServer
from copilot_seats.simulator.state import SimError, SimState

__all__ = [
    "DEMO_FIXTURE",
    "Fault",
    "RateLimit",
    "RequestLog",
    "RequestRecord",
    "SimError",
    "SimState",
    "SimulatorServer",
    "dump_state",
    "load_fixture",
    "read_fixture",
]
