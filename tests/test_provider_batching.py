"""WriteBatcher: the engine's one-call-per-seat writes coalesced into GitHub's batched requests,
spaced, with each caller getting its own name's outcome (copilot_seats.provider.batching)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any, TypeVar

import pytest
from conftest import RunningSimulator

from copilot_seats.errors import AuthError, CredentialsError, UnprocessableError
from copilot_seats.github.api import WriteResult
from copilot_seats.provider.batching import WriteBatcher
from copilot_seats.provider.session import Failures, ProviderConfig, Session

T = TypeVar("T")

MEMBERS = [f"user{i:03d}" for i in range(300)]
BIG = {"organizations": [
    {"login": "big", "seat_management_setting": "assign_selected", "members": MEMBERS, "seats": []},
    {"login": "other", "seat_management_setting": "assign_selected", "members": MEMBERS[:10], "seats": []},
]}


@pytest.fixture
def big(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    return make_simulator(BIG)


@pytest.fixture
def make_session(big: RunningSimulator) -> Iterator[Callable[..., Session]]:
    made: list[Session] = []

    def make(spacing: float = 0.0, cls: type[Session] = Session, token: str | None = None) -> Session:
        config = ProviderConfig.resolve({"token": big.token if token is None else token, "baseUrl": big.base_url},
                                        env={"COPILOT_SEATS_WRITE_SPACING": str(spacing)})
        session = cls(config, settings_reader=lambda _stack: {})
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()


def run(coro: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
    """Run ``coro``; a hang (a caller never resolved) fails the test instead of blocking it."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def posts(sim: RunningSimulator) -> list[list[str]]:
    return [w.body["selected_usernames"] for w in sim.writes if w.method == "POST"]


async def one_call_each(batcher: WriteBatcher, logins: list[str], org: str = "big",
                        op: str = "grant_users") -> list[Failures]:
    return await asyncio.gather(*(batcher.write(op, org, [login]) for login in logins))


def test_250_concurrent_grants_are_three_requests(big: RunningSimulator, make_session: Callable[..., Session]) -> None:
    batcher = WriteBatcher(make_session())
    results = run(one_call_each(batcher, MEMBERS[:250]))
    assert results == [{}] * 250
    sent = posts(big)
    assert [len(b) for b in sent] == [100, 100, 50]
    assert sorted(n for b in sent for n in b) == MEMBERS[:250]
    assert batcher.requests == 3
    assert len(big.state.org("big").seats) == 250


def test_a_single_write_is_one_request(big: RunningSimulator, make_session: Callable[..., Session]) -> None:
    batcher = WriteBatcher(make_session())
    assert run(batcher.write("grant_users", "big", ["user007"])) == {}
    assert posts(big) == [["user007"]]


def test_names_of_one_call_share_a_request_once_each(big: RunningSimulator,
                                                     make_session: Callable[..., Session]) -> None:
    batcher = WriteBatcher(make_session())
    assert run(batcher.write("grant_users", "big", ["user001", "user002", "user001"])) == {}
    assert posts(big) == [["user001", "user002"]]


def test_operations_and_orgs_are_separate_queues(big: RunningSimulator, make_session: Callable[..., Session]) -> None:
    batcher = WriteBatcher(make_session())

    async def mixed() -> list[Failures]:
        return list(await asyncio.gather(batcher.write("grant_users", "big", ["user001"]),
                                    batcher.write("grant_users", "BIG", ["user002"]),
                                    batcher.write("grant_users", "other", ["user003"]),
                                    batcher.write("revoke_users", "big", ["user004"])))

    assert run(mixed()) == [{}] * 4
    assert sorted((w.method, w.path.split("/")[2], tuple(w.body["selected_usernames"])) for w in big.writes) == [
        ("DELETE", "big", ("user004",)), ("POST", "big", ("user001", "user002")), ("POST", "other", ("user003",))]


def test_one_refused_login_fails_only_its_caller(big: RunningSimulator, make_session: Callable[..., Session]) -> None:
    batcher = WriteBatcher(make_session())
    logins = [*MEMBERS[:50], "stranger", *MEMBERS[50:99]]
    results = run(one_call_each(batcher, logins))
    failed = [(login, r) for login, r in zip(logins, results, strict=True) if r]
    assert [login for login, _ in failed] == ["stranger"]
    assert isinstance(failed[0][1]["stranger"], UnprocessableError)
    assert len(big.state.org("big").seats) == 99
    assert batcher.requests == 1 and len(posts(big)) <= 1 + 2 * 7  # one batch, halved to find the login


def test_requests_are_spaced(big: RunningSimulator, make_session: Callable[..., Session]) -> None:
    session = make_session(spacing=0.2)
    sent_at: list[float] = []
    client = session.client
    add_users = client.add_users

    def timed(org: str, names: Iterable[str]) -> WriteResult:
        sent_at.append(time.monotonic())
        return add_users(org, names)

    client.add_users = timed  # type: ignore[method-assign,assignment]
    batcher = WriteBatcher(session)
    started = time.monotonic()
    assert run(one_call_each(batcher, MEMBERS[:250])) == [{}] * 250
    elapsed = time.monotonic() - started
    assert len(sent_at) == 3
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert all(gap >= 0.2 - 0.01 for gap in gaps), gaps
    assert elapsed < 3.0  # spacing, not one request per name


def test_callers_arriving_during_a_request_join_the_next_one(
        big: RunningSimulator, make_session: Callable[..., Session]) -> None:
    big.state.inject(status=0, latency=0.4, method="POST", times=1)  # the first request is slow
    session = make_session()
    in_flight = threading.Event()
    client = session.client
    add_users = client.add_users

    def flagged(org: str, names: Iterable[str]) -> WriteResult:
        in_flight.set()
        return add_users(org, names)

    client.add_users = flagged  # type: ignore[method-assign,assignment]
    batcher = WriteBatcher(session, idle=0.02)

    async def staggered() -> list[Failures]:
        first = asyncio.ensure_future(batcher.write("grant_users", "big", ["user000"]))
        assert await asyncio.to_thread(in_flight.wait, 5)
        later = [batcher.write("grant_users", "big", [login]) for login in MEMBERS[1:6]]
        return [await first, *await asyncio.gather(*later)]

    assert run(staggered()) == [{}] * 6
    assert posts(big) == [["user000"], MEMBERS[1:6]]


def test_an_error_of_the_whole_batch_reaches_every_caller(big: RunningSimulator) -> None:
    session = Session(ProviderConfig.resolve({"baseUrl": big.base_url}, env={}))  # no token at all
    batcher = WriteBatcher(session)

    async def calls() -> list[Any]:
        return await asyncio.gather(*(batcher.write("grant_users", "big", [login]) for login in MEMBERS[:5]),
                                    return_exceptions=True)

    results = run(calls())
    assert len(results) == 5 and all(isinstance(r, CredentialsError) for r in results)
    assert big.writes == []


def test_an_auth_error_is_each_callers_failure(big: RunningSimulator, make_session: Callable[..., Session]) -> None:
    batcher = WriteBatcher(make_session(token="wrong-token-0123456789"))
    results = run(one_call_each(batcher, MEMBERS[:5]))
    assert [sorted(r) for r in results] == [[login] for login in MEMBERS[:5]]
    assert all(isinstance(e, AuthError) for r in results for e in r.values())
    assert len(big.writes) == 1


class _Broken(Session):
    def grant_users(self, org: str, logins: Any) -> Failures:
        raise RuntimeError("a bug in grant_users")


class _BrokenSpacing(Session):
    def write_ready_in(self) -> float:
        raise RuntimeError("a bug in write_ready_in")


@pytest.mark.parametrize("cls", [_Broken, _BrokenSpacing], ids=["in-the-write", "in-the-spacing"])
def test_a_bug_reaches_every_waiting_caller_instead_of_hanging(
        make_session: Callable[..., Session], cls: type[Session]) -> None:
    batcher = WriteBatcher(make_session(cls=cls))

    async def calls() -> list[Any]:
        return await asyncio.gather(*(batcher.write("grant_users", "big", [login]) for login in MEMBERS[:150]),
                                    return_exceptions=True)

    results = run(calls(), timeout=5.0)
    assert len(results) == 150
    assert all(isinstance(r, RuntimeError) and "a bug in" in str(r) for r in results)


def test_the_batcher_works_again_after_a_bug(big: RunningSimulator, make_session: Callable[..., Session]) -> None:
    session = make_session(cls=_BrokenSpacing)
    batcher = WriteBatcher(session)
    with pytest.raises(RuntimeError):
        run(batcher.write("grant_users", "big", ["user001"]), timeout=5.0)
    session.__class__ = Session  # the bug is fixed; the queue must not be stuck
    assert run(batcher.write("grant_users", "big", ["user002"]), timeout=5.0) == {}
    assert posts(big) == [["user002"]]


def test_an_unknown_operation_is_refused(make_session: Callable[..., Session]) -> None:
    with pytest.raises(ValueError, match="unknown write operation"):
        run(WriteBatcher(make_session()).write("drop_everything", "big", ["user001"]))
