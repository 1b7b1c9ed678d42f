"""The pack's policy objects (copilot_seats.policies.pack) driven like pulumi-policy 1.7.0 drives them.

No engine: ``validate`` is called with ``ResourceValidationArgs`` whose props go through the SDK's
own ``unknown_checking_proxy``, exactly as ``_PolicyAnalyzerServicer.Analyze`` builds them.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    unknown_checking_proxy,
)
from test_rules import NOW, ORG, SEAT, TEAM  # tests/ is on sys.path (rootdir conftest)

from copilot_seats.policies.config import ORGANIZATION_TYPE, POLICIES, SEAT_TYPE, TEAM_TYPE
from copilot_seats.policies.pack import PACK_NAME, build_policies, materialize
from copilot_seats.policies.rules import UNKNOWN

REPO = Path(__file__).resolve().parent.parent
POLICIES_BY_NAME = {p.name: p for p in build_policies(lambda: NOW)}


def args(resource_type: str, props: dict[str, Any], config: dict[str, Any] | None = None,
         name: str = "alice") -> ResourceValidationArgs:
    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    urn = f"urn:pulumi:test::copilot-seats::{resource_type}::{name}"
    return ResourceValidationArgs(resource_type, unknown_checking_proxy(props), urn, name, opts, None, config)


def validate(policy: str, resource_type: str, props: dict[str, Any],
             config: dict[str, Any] | None = None) -> list[str]:
    reported: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append(message)

    result = POLICIES_BY_NAME[policy].validate(args(resource_type, props, config), report)
    assert result is None  # synchronous validators
    return reported


def test_build_policies_makes_one_resource_policy_per_catalogue_entry() -> None:
    built = build_policies()
    assert [p.name for p in built] == [p.name for p in POLICIES]
    assert all(isinstance(p, ResourceValidationPolicy) for p in built)


def test_enforcement_levels_and_config_schemas() -> None:
    assert POLICIES_BY_NAME["seat-management-setting"].enforcement_level is EnforcementLevel.MANDATORY
    others = [p for n, p in POLICIES_BY_NAME.items() if n != "seat-management-setting"]
    assert {p.enforcement_level for p in others} == {EnforcementLevel.ADVISORY}
    stale = POLICIES_BY_NAME["stale-seat"].config_schema
    assert stale is not None and stale.properties["staleDays"]["default"] == 60
    assert stale.properties["graceDays"]["default"] == 14
    budget = POLICIES_BY_NAME["seat-budget"].config_schema
    assert budget is not None and set(budget.properties) == {"maxSeats", "maxMonthlyCost"}
    unmanaged = POLICIES_BY_NAME["unmanaged-seat"].config_schema
    assert unmanaged is not None and unmanaged.properties["summarizeAbove"]["default"] == 20


def test_stale_seat_reports_through_validate() -> None:
    [message] = validate("stale-seat", SEAT_TYPE, {**SEAT, "last_activity_at": "2026-08-01T00:00:00Z"})
    assert message.startswith("alice: no Copilot activity for 111 days")


def test_config_from_the_engine_reaches_the_rule() -> None:
    props = {**SEAT, "last_activity_at": "2026-10-01T00:00:00Z"}
    assert validate("stale-seat", SEAT_TYPE, props, {"staleDays": 60.0, "graceDays": 14.0}) == []
    assert len(validate("stale-seat", SEAT_TYPE, props, {"staleDays": 30.0, "graceDays": 14.0})) == 1


def test_policies_ignore_resource_types_they_do_not_judge() -> None:
    stale_looking = {**SEAT, "last_activity_at": None, "created_at": "2020-01-01T00:00:00Z"}
    assert validate("stale-seat", ORGANIZATION_TYPE, stale_looking) == []
    assert validate("stale-seat", TEAM_TYPE, stale_looking) == []
    not_selected = {**ORG, "seat_management_setting": "assign_all"}
    assert validate("seat-management-setting", SEAT_TYPE, not_selected) == []
    assert validate("missing-seat", "pulumi:providers:random", {"live": False}) == []


@pytest.mark.parametrize(
    ("policy", "resource_type", "props", "config", "expected"),
    [
        ("unmanaged-seat", ORGANIZATION_TYPE,
         {**ORG, "unmanaged": [{"login": "zed", "assigning_team": None}]}, None,
         "zed: holds a Copilot seat directly"),
        ("missing-seat", SEAT_TYPE, {**SEAT, "live": False, "standing": "missing"}, None,
         "alice: missing — declared in seats.yaml"),
        ("missing-seat", TEAM_TYPE, {**TEAM, "live_seats": 0, "standing": "missing"}, None,
         "team mobile: missing — declared"),
        ("expired-grant", SEAT_TYPE, {**SEAT, "expires": "2026-10-31"}, None, "alice: the grant expired"),
        ("expired-grant", TEAM_TYPE, {**TEAM, "expires": "2026-10-31"}, None,
         "team mobile: the grant expired"),
        ("double-grant", SEAT_TYPE, {**SEAT, "via_declared_team": True, "assigning_team": "mobile"}, None,
         "alice: declared under users and also seated through team mobile"),
        ("seat-budget", ORGANIZATION_TYPE, ORG, {"maxSeats": 1.0}, "octo-demo: seats.yaml declares 5 seats"),
        ("seat-management-setting", ORGANIZATION_TYPE, {**ORG, "seat_management_setting": "assign_all"}, None,
         "octo-demo: seat_management_setting is 'assign_all'"),
    ],
    ids=["unmanaged", "missing-user", "missing-team", "expired-user", "expired-team", "double-grant",
         "budget", "setting"],
)
def test_each_policy_reports_its_violation(policy: str, resource_type: str, props: dict[str, Any],
                                           config: dict[str, Any] | None, expected: str) -> None:
    [message] = validate(policy, resource_type, props, config)
    assert message.startswith(expected)


def test_unknown_input_raises_the_sdks_error_so_it_becomes_an_advisory_note() -> None:
    props = {**SEAT, "last_activity_at": UNKNOWN_STRING_VALUE}
    with pytest.raises(UnknownValueError) as caught:
        validate("stale-seat", SEAT_TYPE, props)
    assert caught.value.props == ["last_activity_at"]
    assert caught.value.message == "string value at .last_activity_at can't be known during preview"


def test_unknown_bool_keeps_its_type_in_the_note() -> None:
    with pytest.raises(UnknownValueError) as caught:
        validate("stale-seat", SEAT_TYPE, {**SEAT, "live": UNKNOWN_BOOLEAN_VALUE})
    assert caught.value.message == "boolean value at .live can't be known during preview"


def test_unknowns_a_policy_does_not_read_do_not_stop_it() -> None:
    props = {**SEAT, "expires": "2026-10-31", "last_activity_at": UNKNOWN_STRING_VALUE,
             "owner": UNKNOWN_STRING_VALUE}
    [message] = validate("expired-grant", SEAT_TYPE, props)
    assert "expired on 2026-10-31" in message and "Owner" not in message


def test_unknown_inside_a_list_is_materialized_not_raised() -> None:
    props = {**ORG, "unmanaged": [{"login": "zed", "assigning_team": None}, UNKNOWN_STRING_VALUE]}
    [message] = validate("unmanaged-seat", ORGANIZATION_TYPE, props)
    assert message.startswith("zed:")


def test_materialize_copies_proxies_and_records_unknowns() -> None:
    unknowns: dict[tuple[str, ...], str] = {}
    proxied = unknown_checking_proxy({"a": [1, {"b": UNKNOWN_STRING_VALUE}], "c": UNKNOWN_BOOLEAN_VALUE})
    assert materialize(proxied, (), unknowns) == {"a": [1, {"b": UNKNOWN}], "c": UNKNOWN}
    assert unknowns == {("a", "1", "b"): UNKNOWN_STRING_VALUE, ("c",): UNKNOWN_BOOLEAN_VALUE}


def test_pack_main_is_only_wiring() -> None:
    source = (REPO / "policies" / "__main__.py").read_text()
    tree = ast.parse(source)
    calls = [n for n in ast.walk(tree)
             if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "PolicyPack"]
    assert len(calls) == 1 and len(source.splitlines()) <= 15
    assert PACK_NAME == "copilot-seats"


def test_example_config_names_only_real_policies_and_levels() -> None:
    import json

    config = json.loads((REPO / "policies" / "config.example.json").read_text())
    names = {p.name for p in POLICIES} | {"all"}
    levels = {"advisory", "mandatory", "disabled"}
    for key, value in config.items():
        if key.startswith("//"):
            continue
        assert key in names
        level = value if isinstance(value, str) else value.get("enforcementLevel", "advisory")
        assert level in levels
        if isinstance(value, dict):
            known = {"enforcementLevel"} | set(next(p for p in POLICIES if p.name == key).properties)
            assert set(value) <= known


def test_docs_cover_every_policy_setting_and_the_example_config() -> None:
    import json

    docs = (REPO / "docs" / "policies.md").read_text()
    for spec in POLICIES:
        assert f"| `{spec.name}` |" in docs, spec.name
        for key, schema in spec.properties.items():
            assert f"| `{key}` |" in docs, key
            if "default" in schema:
                assert f"| {schema['default']} |" in docs, key
    example = json.loads((REPO / "policies" / "config.example.json").read_text())
    block = docs.split("`policies/config.example.json`", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    assert json.loads(block) == example
