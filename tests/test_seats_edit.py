"""seats_edit: entries are added and removed; every other byte of seats.yaml stays as it was."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_seats.desired.loader import check_spec
from copilot_seats.desired.seats_edit import (
    NewEntry,
    SeatsEditError,
    add_entries,
    entry_names,
    remove_entries,
    render_seats_file,
)

REPO = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 25)

# A heavily commented file, as labelled chunks: the expected result of removing entries is the
# concatenation of every chunk not labelled with a removed login.
CHUNKS: list[tuple[str | None, str]] = [
    (None, "# yaml-language-server: $schema=./schemas/seats.schema.json\n"
           "#\n"
           "# Who holds a seat, and why.   (odd   spacing kept)\n"
           "organization: octo-demo   # the org\n"
           "\n"
           "settings:\n"
           "  mode: additive\n"
           "\n"
           "users:\n"
           "  # --- platform ---\n"),
    ("alice", "  alice:  # last activity 2026-11-02 (vscode), granted 2025-03-01\n"
              "    owner: platform-team\n"
              "\n"
              "    # a comment inside alice's entry\n"
              "    reason: 'Core platform: quoted'\n"),
    (None, "  # bob is a contractor: this comment sits above bob and must survive alice's removal\n"),
    ("bob", "  Bob:\n"
            "    owner: data-eng\n"
            "    expires: 2027-03-15  # contract end\n"),
    (None, "\n"
           "  # --- security ---\n"),
    ("carol", "  carol:\n"),
    ("dave", "  dave:\n"
             "    reason: >-\n"
             "      A folded reason\n"
             "\n"
             "      over several lines\n"
             "    stale_exemption:\n"
             "      reason: Parental leave\n"
             "      until: 2027-03-01\n"),
    (None, "\n"
           "# trailing notes about users, at column 0\n"
           "\n"
           "teams:\n"
           "  mobile:  # 12 seats\n"
           "    owner: mobile-lead\n"
           "# end of file\n"),
]
COMMENTED = "".join(text for _, text in CHUNKS)


def _without(*logins: str) -> str:
    return "".join(text for label, text in CHUNKS if label not in logins)


def test_fixture_file_is_valid_to_begin_with() -> None:
    assert check_spec(COMMENTED, today=TODAY).valid


@pytest.mark.parametrize(
    "logins",
    [("alice",), ("bob",), ("carol",), ("dave",), ("alice", "dave"), ("alice", "bob", "carol", "dave")],
    ids=["first", "middle-inline-comment", "one-line", "last-block-scalar", "first-and-last", "all"],
)
def test_remove_keeps_every_unrelated_line_byte_for_byte(logins: tuple[str, ...]) -> None:
    result = remove_entries(COMMENTED, "users", logins)
    assert result == _without(*logins)
    assert check_spec(result, today=TODAY).valid


def test_remove_first_entry_keeps_the_comment_above_the_next_one() -> None:
    result = remove_entries(COMMENTED, "users", ["alice"])
    assert "  # bob is a contractor" in result
    assert "  # --- platform ---\n  # bob is a contractor" in result


def test_remove_matches_names_case_insensitively_and_keeps_written_case_of_others() -> None:
    assert remove_entries(COMMENTED, "users", ["BOB"]) == _without("bob")
    assert entry_names(remove_entries(COMMENTED, "users", ["ALICE"]), "users") == ["Bob", "carol", "dave"]


def test_remove_all_users_leaves_an_empty_but_valid_section() -> None:
    result = remove_entries(COMMENTED, "users", ["alice", "bob", "carol", "dave"])
    spec = check_spec(result, today=TODAY).spec
    assert spec is not None and spec.users == () and [t.slug for t in spec.teams] == ["mobile"]


def test_remove_teams_section_entry_leaves_users_untouched() -> None:
    result = remove_entries(COMMENTED, "teams", ["mobile"])
    assert result == COMMENTED.replace("  mobile:  # 12 seats\n    owner: mobile-lead\n", "")


def test_remove_nothing_returns_the_text_unchanged() -> None:
    assert remove_entries(COMMENTED, "users", []) is COMMENTED


def test_remove_unknown_name_is_an_error_naming_it() -> None:
    with pytest.raises(SeatsEditError, match="not declared under 'users': zed"):
        remove_entries(COMMENTED, "users", ["alice", "zed"])


def test_remove_from_flow_style_section_is_refused() -> None:
    with pytest.raises(SeatsEditError, match="flow style"):
        remove_entries("organization: o\nusers: {alice: null, bob: null}\n", "users", ["bob"])


def test_remove_keeps_crlf_line_endings() -> None:
    crlf = COMMENTED.replace("\n", "\r\n")
    assert remove_entries(crlf, "users", ["bob"]) == _without("bob").replace("\n", "\r\n")


def test_add_appends_after_the_last_entry_with_its_comment_and_indentation() -> None:
    result = add_entries(COMMENTED, "users", [NewEntry("erin", "last activity 2026-11-20 (jetbrains)")])
    dave_end = COMMENTED.index("      until: 2027-03-01\n") + len("      until: 2027-03-01\n")
    assert result == (COMMENTED[:dave_end] + "  erin:  # last activity 2026-11-20 (jetbrains)\n"
                      + COMMENTED[dave_end:])
    assert entry_names(result, "users") == ["alice", "Bob", "carol", "dave", "erin"]


def test_add_uses_the_sections_own_indentation() -> None:
    text = "organization: o\nusers:\n    alice:\n        owner: x\n"
    assert add_entries(text, "users", [NewEntry("bob")]) == text + "    bob:\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("organization: o\nusers:\nteams:\n", "organization: o\nusers:\n  bob:  # c\nteams:\n"),
        ("organization: o\nusers: {}  # none yet\n", "organization: o\nusers:  # none yet\n  bob:  # c\n"),
        ("organization: o\nusers: null\n", "organization: o\nusers:\n  bob:  # c\n"),
        ("organization: o\n", "organization: o\n\nusers:\n  bob:  # c\n"),
        ("organization: o", "organization: o\n\nusers:\n  bob:  # c\n"),
    ],
    ids=["empty", "empty-flow-with-comment", "null", "absent", "absent-no-final-newline"],
)
def test_add_to_an_empty_or_absent_section(text: str, expected: str) -> None:
    result = add_entries(text, "users", [NewEntry("bob", "c")])
    assert result == expected
    assert check_spec(result, today=TODAY).valid


def test_add_refuses_a_name_already_declared_in_any_case() -> None:
    with pytest.raises(SeatsEditError, match="already declared"):
        add_entries(COMMENTED, "users", [NewEntry("BOB")])
    with pytest.raises(SeatsEditError, match="already declared"):
        add_entries(COMMENTED, "users", [NewEntry("zed"), NewEntry("Zed")])


@pytest.mark.parametrize("name", ["123", "null", "yes", "No", "on", "0x1f", "1e3"])
def test_added_names_that_yaml_would_misread_are_quoted(name: str) -> None:
    result = add_entries("organization: o\nusers:\n", "users", [NewEntry(name)])
    assert f"'{name}':" in result
    spec = check_spec(result, today=TODAY).spec
    assert spec is not None and [u.login for u in spec.users] == [name]


def test_comments_are_kept_on_one_line() -> None:
    result = add_entries("organization: o\nusers:\n", "users", [NewEntry("bob", "two\nlines  here")])
    assert result.endswith("  bob:  # two lines here\n")


def test_render_seats_file_is_valid_and_lists_entries_in_order() -> None:
    text = render_seats_file(
        "octo-demo", [NewEntry("b", "x"), NewEntry("a")], [NewEntry("mobile", "3 seats")],
        header=["imported"], settings={"mode": "additive", "plan": "business"},
    )
    assert text.startswith("# imported\n\norganization: octo-demo\n")
    spec = check_spec(text, today=TODAY).spec
    assert spec is not None
    assert [u.login for u in spec.users] == ["b", "a"] and [t.slug for t in spec.teams] == ["mobile"]


def test_render_with_no_entries_is_still_valid() -> None:
    assert check_spec(render_seats_file("o", [], []), today=TODAY).valid


def test_unparsable_text_is_an_edit_error() -> None:
    with pytest.raises(SeatsEditError, match="not valid YAML"):
        remove_entries("users: [\n", "users", ["a"])


REPO_SEATS = (REPO / "seats.yaml").read_text()
REPO_USERS = entry_names(REPO_SEATS, "users")


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from(REPO_USERS), max_size=len(REPO_USERS)))
def test_removing_any_users_from_the_repo_file_changes_only_their_lines(removed: set[str]) -> None:
    result = remove_entries(REPO_SEATS, "users", removed)
    assert entry_names(result, "users") == [u for u in REPO_USERS if u not in removed]
    # every kept line is in its original order: the result is a subsequence of the original
    original = iter(REPO_SEATS.splitlines(keepends=True))
    assert all(any(line == o for o in original) for line in result.splitlines(keepends=True))
    # and exactly the removed entries' lines are gone: their key lines plus indented bodies
    gone = len(REPO_SEATS.splitlines()) - len(result.splitlines())
    assert gone == sum(_entry_length(REPO_SEATS, u) for u in removed)
    assert check_spec(result, today=TODAY).valid


def _entry_length(text: str, login: str) -> int:
    lines = text.splitlines()
    start = lines.index(f"  {login}:") if f"  {login}:" in lines else next(
        i for i, line in enumerate(lines) if line.startswith(f"  {login}:"))
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    return end - start
