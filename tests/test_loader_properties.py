"""Whatever it is given, check_spec returns a spec or located errors: it never raises."""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from copilot_seats.desired.loader import CheckResult, check_spec
from copilot_seats.desired.spec import normalize_login

TODAY = date(2026, 11, 25)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_well_formed(result: CheckResult, text_lines: int) -> None:
    """The contract: a spec xor errors; every problem located inside the file and explained."""
    assert isinstance(result, CheckResult)
    assert (result.spec is None) == bool(result.errors)
    for problem in [*result.errors, *result.warnings]:
        assert problem.file == "fuzz.yaml"
        assert problem.message
        assert 0 <= problem.line <= text_lines + 1, problem
        assert problem.column >= (1 if problem.line else 0), problem
    assert result.errors == sorted(result.errors)
    if result.spec is not None:
        keys = [u.key for u in result.spec.users]
        assert len(keys) == len(set(keys)), "duplicate logins reached the spec"
        for user in result.spec.users:
            assert user.login.isascii() and "/" not in user.login and "." not in user.login


def _lines(text: str | bytes) -> int:
    raw = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return len(raw.splitlines()) + raw.count("\x85") + raw.count("\u2028") + raw.count("\u2029")


@FAST
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    assert_well_formed(check_spec(text, "fuzz.yaml", today=TODAY), _lines(text))


@FAST
@given(st.binary())
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    assert_well_formed(check_spec(data, "fuzz.yaml", today=TODAY), _lines(data))


YAML_PUNCTUATION = st.sampled_from([*":-?[]{},#&*!|>'\"%@`\t\n ", "\n  ", ": ", "- ", "---\n"])


@FAST
@given(st.lists(st.one_of(YAML_PUNCTUATION, st.text(max_size=4)), max_size=40).map("".join))
def test_yaml_punctuation_soup_never_raises(text: str) -> None:
    assert_well_formed(check_spec("organization: octo\n" + text, "fuzz.yaml", today=TODAY), _lines(text) + 1)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.dates().map(date.isoformat),
    st.sampled_from(["2026-02-30", "owner", "expires", "no", "~", "-", "a/b", "..", "%2e"]),
)
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(["owner", "users", "until"])), children, max_size=4
        ),
    ),
    max_leaves=20,
)
GRANT = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "owner": st.text(max_size=8),
            "requested_by": st.text(max_size=8),
            "reason": SCALARS,
            "expires": SCALARS,
            "cost_center": SCALARS,
            "stale_exemption": st.one_of(TREES, st.fixed_dictionaries({"reason": SCALARS, "until": SCALARS})),
            "ownr": SCALARS,
        },
    ),
)
LOGINS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9./%_ -]{0,8}", fullmatch=True)
DOCUMENTS = st.one_of(
    TREES,
    st.fixed_dictionaries(
        {"organization": st.one_of(st.just("octo-demo"), SCALARS)},
        optional={
            "settings": st.one_of(
                TREES, st.fixed_dictionaries({}, optional={"mode": SCALARS, "plan": SCALARS})
            ),
            "users": st.one_of(TREES, st.dictionaries(LOGINS, st.one_of(GRANT, TREES), max_size=6)),
            "teams": st.dictionaries(LOGINS.map(str.lower), GRANT, max_size=4),
            "extra": TREES,
        },
    ),
)


def _dump(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@FAST
@given(DOCUMENTS)
def test_arbitrary_yaml_trees_never_raise(document: Any) -> None:
    text = _dump(document)
    assert_well_formed(check_spec(text, "fuzz.yaml", today=TODAY), _lines(text))


def _is_github_login(login: str) -> bool:
    """GitHub's rule, stated independently of the loader's regex: a personal login, or an
    Enterprise Managed User's ``handle_shortcode`` (shortcode: 3-8 letters or digits)."""
    alnum = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    handle, sep, shortcode = login.rpartition("_") if "_" in login else (login, "", "")
    if sep and not (3 <= len(shortcode) <= 8 and set(shortcode) <= alnum):
        return False
    return (
        1 <= len(login) <= 39
        and len(handle) >= 1
        and set(handle) <= alnum | {"-"}
        and not handle.startswith("-")
        and not handle.endswith("-")
        and "--" not in handle
    )


MIXED_LOGINS = st.one_of(
    LOGINS,
    st.from_regex(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,5}", fullmatch=True),
    st.sampled_from(["alice", "Alice", "ALICE", "a" * 39, "a" * 40, "a--b", "-a"]),
)


@FAST
@given(st.lists(MIXED_LOGINS, max_size=8))
def test_users_are_accepted_exactly_when_logins_are_valid_and_distinct(logins: list[str]) -> None:
    text = "organization: octo-demo\nusers:\n" + "".join(
        f"  {_dump(login).splitlines()[0]}:\n" for login in logins
    )
    result = check_spec(text, "fuzz.yaml", today=TODAY)
    assert_well_formed(result, _lines(text))
    expected = all(map(_is_github_login, logins)) and len({normalize_login(x) for x in logins}) == len(logins)
    event(f"accepted={expected}")
    assert result.valid is expected, [str(e) for e in result.errors]
    if result.spec is not None:
        assert [u.login for u in result.spec.users] == logins
