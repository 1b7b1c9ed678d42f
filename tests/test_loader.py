"""The loader turns seats.yaml into a SeatSpec, or reports every problem with its position."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from copilot_seats.desired import loader, schema_check, yaml_source, yaml_strict
from copilot_seats.desired.loader import CheckResult, check_file, check_spec, load_spec, parse_spec
from copilot_seats.desired.spec import Mode, Plan
from copilot_seats.errors import SpecError, SpecProblem

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 25)
HEAD = "organization: octo-demo\n"


def errors_of(text: str | bytes, **kwargs: object) -> list[SpecProblem]:
    result = check_spec(text, "seats.yaml", today=TODAY, **kwargs)  # type: ignore[arg-type]
    assert result.spec is None, "expected the input to be rejected"
    assert result.errors
    return result.errors


def only_error(text: str | bytes, **kwargs: object) -> SpecProblem:
    errors = errors_of(text, **kwargs)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


# -- the example and the happy path -----------------------------------------------------------


def test_example_seats_yaml_loads_with_every_entry() -> None:
    spec = load_spec(ROOT / "seats.yaml", today=TODAY)
    assert spec.organization == "octo-demo"
    assert spec.settings.mode is Mode.ADDITIVE
    assert spec.settings.plan is Plan.BUSINESS
    assert len(spec.users) == 40
    assert [t.slug for t in spec.teams] == ["ml-research", "mobile"]
    frances = spec.user("Frances-Allen")
    assert frances is not None and frances.stale_exemption is not None
    assert frances.stale_exemption.until == date(2027, 3, 1)
    assert frances.line == ROOT.joinpath("seats.yaml").read_text().splitlines().index("  frances-allen:") + 1


def test_example_starts_with_the_schema_modeline() -> None:
    first = ROOT.joinpath("seats.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=./schemas/seats.schema.json"


def test_full_entry_becomes_typed_grant_with_its_line() -> None:
    spec = parse_spec(
        HEAD
        + "settings:\n  mode: authoritative\n  plan: enterprise\n  seat_price_usd: 21.5\n  enterprise: acme\n"
        "users:\n"
        "  Alice:\n"
        "    requested_by: platform\n"
        "    reason: pairing\n"
        "    expires: 2027-01-31\n"
        "    cost_center: CC-1\n"
        "    stale_exemption: {reason: leave, until: '2027-02-01'}\n"
        "  bob:\n"
        "teams:\n  ml_research:\n",
        today=TODAY,
    )
    assert spec.settings.mode is Mode.AUTHORITATIVE and spec.settings.plan is Plan.ENTERPRISE
    assert spec.settings.seat_price_usd == Decimal("21.5") and spec.settings.enterprise == "acme"
    alice = spec.user("alice")
    assert alice is not None
    assert (alice.login, alice.key, alice.owner, alice.line) == ("Alice", "alice", "platform", 8)
    assert alice.expires == date(2027, 1, 31)
    assert alice.stale_exemption is not None and alice.stale_exemption.until == date(2027, 2, 1)
    bob = spec.user("BOB")
    assert bob is not None and bob.owner is None and bob.expires is None and bob.line == 14
    assert spec.team_keys == frozenset({"ml_research"})


@pytest.mark.parametrize(
    "login",
    ["no", "yes", "null", "1234", "true", "0x1F", "a-b-c", "A" * 39],
    ids=["no", "yes", "null", "digits", "true", "hex-like", "hyphens", "39-chars"],
)
def test_logins_that_yaml_would_retype_stay_logins(login: str) -> None:
    spec = parse_spec(HEAD + f"users:\n  {login}:\n", today=TODAY)
    assert [u.login for u in spec.users] == [login]


def test_check_result_is_frozen_and_says_valid() -> None:
    result = check_spec(HEAD + "users:\n  alice:\n", today=TODAY)
    assert isinstance(result, CheckResult) and result.valid and result.spec is not None
    with pytest.raises(FrozenInstanceError):
        result.spec = None  # type: ignore[misc]


# -- each rule: (yaml, line, column, fragments the message must contain) ----------------------

RULES = [
    ("user-list", HEAD + "users:\n  - alice\n", 3, 3, ["'users' must be a mapping", "a list"]),
    ("expires-number", HEAD + "users:\n  a:\n    expires: 12\n", 4, 14, ["YYYY-MM-DD", "the number 12"]),
    (
        "impossible-date",
        HEAD + "users:\n  a:\n    expires: 2026-02-30\n",
        4,
        14,
        ["not a real date", "2026-02-30"],
    ),
    ("quoted-bad-date", HEAD + "users:\n  a:\n    expires: '2026-13-01'\n", 4, 14, ["2026-13-01", "month"]),
    ("short-date", HEAD + "teams:\n  t:\n    expires: 2026-1-5\n", 4, 14, ["'2026-1-5'", "YYYY-MM-DD"]),
    ("datetime", HEAD + "users:\n  a:\n    expires: 2026-01-01 10:00:00\n", 4, 14, ["2026-01-01 10:00:00"]),
    (
        "until-invalid",
        HEAD + "users:\n  a:\n    stale_exemption:\n      reason: leave\n      until: 2025-02-29\n",
        6,
        14,
        ["stale_exemption.until", "2025-02-29"],
    ),
    (
        "unknown-key",
        HEAD + "users:\n  a:\n    ownr: x\n",
        4,
        5,
        ["unknown key 'ownr'", "did you mean 'owner'"],
    ),
    ("unknown-top", HEAD + "user:\n  a:\n", 2, 1, ["unknown key 'user'", "did you mean 'users'"]),
    ("unknown-setting", HEAD + "settings:\n  mod: additive\n", 3, 3, ["'mod'", "did you mean 'mode'"]),
    ("bad-mode", HEAD + "settings:\n  mode: authoritativ\n", 3, 9, ["'authoritativ'", "'authoritative'"]),
    ("bad-plan", HEAD + "settings:\n  plan: pro\n", 3, 9, ["'pro'", "'business', 'enterprise'"]),
    ("negative-price", HEAD + "settings:\n  seat_price_usd: -1\n", 3, 19, ["at least 0", "-1"]),
    ("nan-price", HEAD + "settings:\n  seat_price_usd: .nan\n", 3, 19, ["a number", "'.nan'"]),
    ("missing-org", "users:\n  a:\n", 1, 1, ["missing required key 'organization'"]),
    ("org-slash", "organization: octo/demo\n", 1, 15, ["'octo/demo'", "GitHub login"]),
    ("owner-number", HEAD + "users:\n  a:\n    owner: 42\n", 4, 12, ["the number 42", "quotes"]),
    ("empty-reason", HEAD + "users:\n  a:\n    reason: ''\n", 4, 13, ["'users.a.reason' must not be empty"]),
    ("grant-scalar", HEAD + "users:\n  a: yes\n", 3, 6, ["'users.a' must be a mapping or empty", "true"]),
    (
        "exemption-without-until",
        HEAD + "users:\n  a:\n    stale_exemption: {reason: leave}\n",
        4,
        22,
        ["missing required key 'until'"],
    ),
    (
        "owner-and-alias",
        HEAD + "users:\n  a:\n    owner: x\n    requested_by: y\n",
        5,
        5,
        ["both 'owner' and its alias 'requested_by'"],
    ),
    ("case-duplicate", HEAD + "users:\n  alice:\n  Alice:\n", 4, 3, ["duplicate login 'Alice'", "line 3"]),
    ("exact-duplicate", HEAD + "users:\n  alice:\n  alice:\n", 4, 3, ["duplicate key 'alice'", "line 3"]),
    ("duplicate-team", HEAD + "teams:\n  web:\n  web:\n", 4, 3, ["duplicate key 'web'", "line 3"]),
    (
        "duplicate-in-grant",
        HEAD + "users:\n  a:\n    owner: x\n    owner: y\n",
        5,
        5,
        ["duplicate key 'owner'"],
    ),
    ("duplicate-top", HEAD + "organization: other\n", 2, 1, ["duplicate key 'organization'", "line 1"]),
    ("uppercase-slug", HEAD + "teams:\n  Mobile:\n", 3, 3, ["'Mobile'", "did you mean 'mobile'"]),
    ("complex-key", HEAD + "users:\n  ? [a, b]\n  : x\n", 3, 5, ["a list cannot be used as a key"]),
    ("custom-tag", HEAD + "users:\n  a:\n    owner: !secret x\n", 4, 12, ["unsupported YAML tag '!secret'"]),
    ("python-tag", "organization: !!python/object:os.system x\n", 1, 15, ["'!!python/object:os.system'"]),
    ("merge-key", HEAD + "users:\n  a:\n    <<: {owner: b}\n", 4, 5, ["unknown key '<<'"]),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "fragments"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_rule_violation_is_reported_at_its_position(
    text: str, line: int, column: int, fragments: list[str]
) -> None:
    error = only_error(text)
    assert (error.file, error.line, error.column) == ("seats.yaml", line, column), str(error)
    for fragment in fragments:
        assert fragment in error.message, str(error)


BAD_LOGINS = [
    ("slash", "bob/x"),
    ("dot", "bob.x"),
    ("space", "'bob x'"),
    ("dot-dot", "'..'"),
    ("traversal", "../etc"),
    ("url-encoded", "a%2fb"),
    ("leading-hyphen", "-bob"),
    ("trailing-hyphen", "bob-"),
    ("double-hyphen", "bo--b"),
    ("underscore", "bob_x"),
    ("too-long", "a" * 40),
    ("empty", "''"),
    ("newline", '"bob\\n"'),
    ("unicode", "bób"),
    ("question-mark", "'bob?x'"),
]


@pytest.mark.parametrize("written", [b[1] for b in BAD_LOGINS], ids=[b[0] for b in BAD_LOGINS])
def test_login_outside_github_syntax_is_rejected_at_its_key(written: str) -> None:
    error = only_error(HEAD + f"users:\n  alice:\n  {written}:\n")
    assert (error.line, error.column) == (4, 3)
    assert error.message.startswith("invalid login ")
    assert "GitHub login" in error.message


@pytest.mark.parametrize(
    "slug", ["ml_research", "a", "team-2", "x" * 100], ids=["underscore", "one-char", "digit", "100-chars"]
)
def test_team_slug_accepts_lowercase_digits_hyphens_underscores(slug: str) -> None:
    assert parse_spec(HEAD + f"teams:\n  {slug}:\n", today=TODAY).teams[0].slug == slug


@pytest.mark.parametrize(
    "slug",
    ["a/b", "-web", "web_", "a.b", "x" * 101, "'a b'"],
    ids=["slash", "lead", "trail", "dot", "long", "space"],
)
def test_team_slug_outside_the_rules_is_rejected(slug: str) -> None:
    assert only_error(HEAD + f"teams:\n  {slug}:\n").message.startswith("invalid team slug ")


def test_every_problem_is_reported_at_once_sorted_by_line() -> None:
    errors = errors_of(
        "organization: octo demo\n"
        "users:\n"
        "  alice:\n"
        "    expires: 2026-02-30\n"
        "  bob/x:\n"
        "  alice:\n"
        "teams:\n"
        "  web:\n"
        "    colour: red\n"
    )
    assert [e.line for e in errors] == [1, 4, 5, 6, 9]
    assert errors == sorted(errors)


# -- bad input: (bytes or text, line, fragments) ----------------------------------------------

BAD_INPUT = [
    ("empty", "", 1, ["empty"]),
    ("only-comments", "# nothing here\n\n", 1, ["empty"]),
    ("top-level-list", "- alice\n- bob\n", 1, ["top level", "a list"]),
    ("top-level-scalar", "octo-demo\n", 1, ["top level", "'octo-demo'"]),
    ("tab-indentation", HEAD + "users:\n\talice:\n", 3, ["tab character used for indentation"]),
    ("not-utf8", HEAD.encode() + b"users:\n  al\xffice:\n", 3, ["not valid UTF-8", "0xff", "offset 35"]),
    ("utf16", HEAD.encode("utf-16"), 1, ["UTF-16"]),
    ("syntax-unclosed-flow", HEAD + "users: [a, b\nteams:\n", 3, ["YAML syntax error"]),
    ("syntax-bad-indent", HEAD + "users:\n  a:\n owner: x\n  b:\n", 4, ["YAML syntax error"]),
    ("two-documents", HEAD + "---\norganization: x\n", 2, ["single YAML document"]),
    ("control-character", HEAD + "users:\n  a\x00b:\n", 3, ["U+0000"]),
    ("anchor-and-alias", HEAD + "users:\n  a: &m {owner: x}\n  b: *m\n", 3, ["anchor '&m'"]),
    ("too-deep", "organization: " + "[" * 50 + "]" * 50 + "\n", 1, ["nesting deeper than"]),
]


@pytest.mark.parametrize(
    ("source", "line", "fragments"), [b[1:] for b in BAD_INPUT], ids=[b[0] for b in BAD_INPUT]
)
@pytest.mark.parametrize("pure_python", [False, True], ids=["libyaml", "pure-python"])
def test_bad_input_gets_a_located_error_not_a_traceback(
    source: str | bytes, line: int, fragments: list[str], pure_python: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if pure_python:
        monkeypatch.setattr(yaml_strict, "LOADERS", yaml_strict.LOADERS[-1:])
    error = errors_of(source)[0]
    assert error.line == line, str(error)
    assert error.column >= 1
    for fragment in fragments:
        assert fragment in error.message, str(error)


def test_billion_laugh_bomb_is_refused_quickly_naming_each_anchor() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    errors = errors_of("\n".join(lines) + "\n")
    anchors = [e for e in errors if e.message.startswith("YAML anchor")]
    assert [e.line for e in anchors] == list(range(1, 10))
    assert len(errors) == 17  # 9 anchors + the first use of each of 8 aliases


def test_file_above_the_size_cap_is_refused_before_parsing() -> None:
    big = HEAD + "# " + "x" * loader.MAX_SPEC_BYTES + "\n"
    error = only_error(big)
    assert (error.line, error.column) == (0, 0)
    assert "too large" in error.message and f"{loader.MAX_SPEC_BYTES:,}" in error.message


def test_more_entries_than_the_cap_is_refused() -> None:
    text = HEAD + "users:\n" + "".join(f"  u{i}:\n" for i in range(4)) + "teams:\n  t:\n"
    error = only_error(text, max_entries=4)
    assert "too many entries: 5 users and teams (the limit is 4)" in error.message


def test_str_with_a_lone_surrogate_is_located() -> None:
    error = only_error(HEAD + "users:\n  a\ud800:\n")
    assert (error.line, error.column) == (3, 4) and "U+D800" in error.message


def test_byte_order_mark_is_accepted() -> None:
    assert parse_spec(b"\xef\xbb\xbf" + HEAD.encode(), today=TODAY).organization == "octo-demo"


# -- warnings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "warned"),
    [("2026-11-24", True), ("2026-11-25", False), ("2026-11-26", False)],
    ids=["yesterday-warns", "today-still-valid", "tomorrow-silent"],
)
def test_expires_in_the_past_is_a_warning_not_an_error(expires: str, warned: bool) -> None:
    result = check_spec(HEAD + f"users:\n  alice:\n    expires: {expires}\n", today=TODAY)
    assert result.spec is not None and not result.errors
    assert [(w.line, w.column) for w in result.warnings] == ([(4, 14)] if warned else [])
    if warned:
        assert "alice" in result.warnings[0].message and expires in result.warnings[0].message


def test_passed_stale_exemption_is_a_warning() -> None:
    result = check_spec(
        HEAD + "users:\n  alice:\n    stale_exemption:\n      reason: leave\n      until: 2026-01-01\n",
        today=TODAY,
    )
    assert result.valid
    (warning,) = result.warnings
    assert (warning.line, warning.column) == (6, 14)
    assert "stale exemption for 'alice' ended on 2026-01-01" in warning.message


def test_parse_spec_raises_spec_error_with_every_problem() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(HEAD + "users:\n  a/b:\n  c.d:\n", path="team/seats.yaml")
    assert [(p.file, p.line) for p in caught.value.problems] == [
        ("team/seats.yaml", 3),
        ("team/seats.yaml", 4),
    ]
    assert "team/seats.yaml:3:3:" in str(caught.value)


def test_load_spec_of_a_missing_file_raises_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read the file"):
        load_spec(tmp_path / "nope.yaml")
    assert check_file(tmp_path).errors[0].line == 0


# -- the schema -------------------------------------------------------------------------------


def test_schema_is_valid_2020_12_and_shipped_identically_in_the_package() -> None:
    repo_copy = (ROOT / "schemas" / "seats.schema.json").read_text()
    shipped = (ROOT / "copilot_seats" / "seats.schema.json").read_text()
    assert shipped == repo_copy, "run: cp schemas/seats.schema.json copilot_seats/seats.schema.json"
    Draft202012Validator.check_schema(json.loads(repo_copy))


def _walk_properties(schema: object, where: str = "$") -> list[tuple[str, dict[str, object]]]:
    found: list[tuple[str, dict[str, object]]] = []
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            found.append((f"{where}.{name}", sub))
        for key, sub in schema.items():
            found.extend(_walk_properties(sub, f"{where}.{key}"))
    return found


def test_every_schema_property_has_a_description_and_objects_are_closed() -> None:
    schema = schema_check.load_schema()
    properties = _walk_properties(schema)
    assert len(properties) >= 14
    assert [where for where, sub in properties if "description" not in sub] == []
    closed = [sub for _, sub in _walk_properties({"properties": {"$": schema}}) if "properties" in sub]
    assert all("additionalProperties" in sub for sub in closed)


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [
        ("login", "octo-demo", True),
        ("login", "a" * 39, True),
        ("login", "a" * 40, False),
        ("login", "a--b", False),
        ("login", "alice\n", False),
        ("slug", "ml_research", True),
        ("slug", "Mobile", False),
    ],
    ids=["login", "login-39", "login-40", "login-double-hyphen", "login-newline", "slug", "slug-upper"],
)
def test_schema_patterns_decide_like_the_loader(key: str, value: str, ok: bool) -> None:
    text = (
        f"organization: {json.dumps(value)}\n"
        if key == "login"
        else HEAD + f"teams:\n  {json.dumps(value)}:\n"
    )
    assert check_spec(text, today=TODAY).valid is ok


def test_public_surface_is_deliberate() -> None:
    assert sorted(loader.__all__) == sorted(
        [
            "MAX_SPEC_BYTES",
            "MAX_SPEC_ENTRIES",
            "CheckResult",
            "check_file",
            "check_spec",
            "load_spec",
            "parse_spec",
        ]
    )
    assert all(hasattr(loader, name) for name in loader.__all__)
    assert all(hasattr(yaml_source, name) for name in yaml_source.__all__)
    assert all(hasattr(schema_check, name) for name in schema_check.__all__)
    assert all(hasattr(yaml_strict, name) for name in yaml_strict.__all__)
