"""The mass-removal guard and authoritative revocations (copilot_seats.planning)."""

from __future__ import annotations

import pytest

from copilot_seats.planning import authoritative_revocations, check_mass_removal, removal_limit


@pytest.mark.parametrize(
    ("declared", "expected"),
    [(0, 10), (50, 10), (100, 10), (101, 11), (1000, 100)],
    ids=["empty", "small-org-uses-count", "boundary", "fraction-rounds-up", "large-org-uses-fraction"],
)
def test_removal_limit_is_larger_of_count_and_fraction(declared: int, expected: int) -> None:
    assert removal_limit(declared, 10, 0.10) == expected


def users(n: int) -> list[str]:
    return [f"user{i}" for i in range(n)]


def test_guard_refuses_emptied_seats_file_and_lists_count() -> None:
    verdict = check_mass_removal(users(40), [], {}, [], 0, 10, 0.10)
    assert not verdict.ok
    assert verdict.revoking == 40 and verdict.limit == 10
    assert "refusing to revoke 40 Copilot seats" in verdict.message
    assert "user0" in verdict.message


def test_guard_allows_small_removal() -> None:
    verdict = check_mass_removal(users(40), users(35), {}, [], 0, 10, 0.10)
    assert verdict.ok and verdict.revoking == 5


def test_guard_limit_uses_previous_size_so_truncation_cannot_lower_it() -> None:
    verdict = check_mass_removal(users(1000), users(850), {}, [], 0, 10, 0.10)
    assert verdict.limit == 100
    assert not verdict.ok and verdict.revoking == 150


def test_guard_counts_team_seats_and_authoritative_revocations() -> None:
    verdict = check_mass_removal(users(5), users(5), {"ml": 8}, [], 3, 10, 0.10)
    assert verdict.revoking == 11
    assert not verdict.ok


def test_guard_explicit_allow_lets_it_through() -> None:
    verdict = check_mass_removal(users(40), [], {}, [], 0, 10, 0.10, allowed=True)
    assert verdict.ok and verdict.revoking == 40


def test_guard_first_run_has_no_previous_and_passes() -> None:
    assert check_mass_removal([], users(500), {}, [], 0).ok


def test_authoritative_revokes_undeclared_direct_seats_and_undeclared_teams_only() -> None:
    rev = authoritative_revocations(
        declared_users={"alice"},
        declared_teams={"ml"},
        live_direct=["alice", "bob", "carol"],
        live_team_seats={"ml": 4, "mobile": 2},
    )
    assert rev.users == ("bob", "carol")
    assert rev.teams == {"mobile": 2}
    assert rev.seat_count == 4
