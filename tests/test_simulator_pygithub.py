"""A client nobody here wrote works against the simulator out of the box: PyGithub (a dev
dependency, pinned in constraints.txt) and our CopilotClient see the same listing, make the same
grants and revocations, and get the same errors. If the simulator only worked for our client,
it would be testing our assumptions instead of GitHub's contract."""

from __future__ import annotations

import github
import pytest
from conftest import RunningSimulator

from copilot_seats.errors import NotFoundError, UnprocessableError


def _pygithub(sim: RunningSimulator) -> github.Github:
    return github.Github(base_url=sim.base_url, auth=github.Auth.Token(sim.token), retry=None, per_page=100)


def _ours(sim: RunningSimulator) -> list[tuple[str, str | None]]:
    seats = sim.client().list_seats("acme")
    return sorted((s["assignee"]["login"], (s.get("assigning_team") or {}).get("slug"))
                  for s in seats if s["assignee"])


def _theirs(copilot: github.Copilot.Copilot) -> list[tuple[str, str | None]]:
    return sorted((s.assignee.login, s.assigning_team.slug if s.assigning_team else None)
                  for s in copilot.get_seats() if s.assignee is not None)


def test_pygithub_eager_get_organization_then_copilot_listing(simulator: RunningSimulator) -> None:
    org = _pygithub(simulator).get_organization("acme")  # GET /orgs/acme first (not lazy)
    assert org.login == "acme"
    copilot = org.get_copilot()
    assert _theirs(copilot) == _ours(simulator)
    paths = [r.path for r in simulator.requests]
    assert paths[0] == "/orgs/acme" and "/orgs/acme/copilot/billing/seats" in paths


def test_pygithub_and_our_client_grant_and_revoke_the_same_way(simulator: RunningSimulator) -> None:
    copilot = _pygithub(simulator).get_organization("acme").get_copilot()
    ours = simulator.client()
    assert copilot.add_seats(["frank"]) == 1  # frank is a member without a seat
    assert ("frank", None) in _ours(simulator) and _theirs(copilot) == _ours(simulator)
    assert ours.add_users("acme", ["frank"]).count == copilot.add_seats(["frank"]) == 1  # refresh counts too
    assert copilot.remove_seats(["bob"]) == 1
    assert ours.remove_users("acme", ["frank"]).count == 1
    pending = {s["assignee"]["login"] for s in ours.list_seats("acme") if s.get("pending_cancellation_date")}
    assert pending == {"bob", "erin", "frank"}
    assert {s.assignee.login for s in copilot.get_seats() if s.pending_cancellation_date} == pending
    assert [r.method for r in simulator.writes] == ["POST", "POST", "POST", "DELETE", "DELETE"]


def test_pygithub_and_our_client_get_the_same_errors(simulator: RunningSimulator) -> None:
    gh = _pygithub(simulator)
    with pytest.raises(github.UnknownObjectException):
        gh.get_organization("nope")
    with pytest.raises(NotFoundError):
        simulator.client().get_organization("nope")
    copilot = gh.get_organization("acme").get_copilot()
    with pytest.raises(github.GithubException) as theirs:
        copilot.remove_seats(["carol"])  # seat held only through team platform
    with pytest.raises(UnprocessableError) as ours:
        simulator.client().remove_users("acme", ["carol"]).raise_for_errors()
    assert theirs.value.status == ours.value.status == 422
    assert theirs.value.data["message"] in ours.value.message
    bad = github.Github(base_url=simulator.base_url, auth=github.Auth.Token("wrong-token-123456"), retry=None)
    with pytest.raises(github.BadCredentialsException):
        bad.get_organization("acme")
