"""The pack's policy objects (copilot_seats.policies.pack) driven like pulumi-policy 1.7.0 drives them.

No engine: ``validate`` is called with ``ResourceValidationArgs`` whose props go through the SDK's
own ``unknown_checking_proxy``, exactly as ``_PolicyAnalyzerServicer.Analyze`` builds them.
"""

from __future__ import annotations

import ast
from dataclasses import replace
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
from test_rules import (  # tests/ is on sys.path (rootdir conftest)
    NOW,
    SEATS_INPUTS,
    _seen,
    declared,
    observed,
    props_of,
    seats,
)

from copilot_seats.policies.config import POLICIES, SEATS_TYPE
from copilot_seats.policies.pack import PACK_NAME, build_policies, materialize
from copilot_seats.policies.rules import UNKNOWN
from copilot_seats.provider.contract import LEGACY_TOKENS, SEATS_NAME, SeatObservation, TeamObservation

REPO = Path(__file__).resolve().parent.parent
POLICIES_BY_NAME = {p.name: p for p in build_policies(lambda: NOW)}


def args(resource_type: str, props: dict[str, Any], config: dict[str, Any] | None = None,
         name: str = SEATS_NAME) -> ResourceValidationArgs:
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
    [message] = validate("stale-seat", SEATS_TYPE, props_of(observed(last_activity_at="2026-08-01T00:00:00Z")))
    assert message.startswith("alice: no Copilot activity for 111 days")


def test_config_from_the_engine_reaches_the_rule() -> None:
    props = props_of(observed(last_activity_at="2026-10-01T00:00:00Z"))
    assert validate("stale-seat", SEATS_TYPE, props, {"staleDays": 60.0, "graceDays": 14.0}) == []
    assert len(validate("stale-seat", SEATS_TYPE, props, {"staleDays": 30.0, "graceDays": 14.0})) == 1


def test_policies_ignore_resource_types_they_do_not_judge() -> None:
    stale_looking = props_of(observed(last_activity_at=None, created_at="2020-01-01T00:00:00Z"))
    not_selected = props_of(seats(org=replace(SEATS_INPUTS.org, seat_management_setting="assign_all")))
    assert len(validate("stale-seat", SEATS_TYPE, stale_looking)) == 1
    assert len(validate("seat-management-setting", SEATS_TYPE, not_selected)) == 1
    for legacy in LEGACY_TOKENS:  # copilot-seats 0.1's per-seat types are retired, not judged
        assert validate("stale-seat", legacy, stale_looking) == []
        assert validate("seat-management-setting", legacy, not_selected) == []
    assert validate("missing-seat", "pulumi:providers:random", {"live": False}) == []


@pytest.mark.parametrize(
    ("policy", "props", "config", "expected"),
    [
        ("unmanaged-seat", props_of(seats(org=replace(SEATS_INPUTS.org, unmanaged=(("zed", None),)))), None,
         "zed: holds a Copilot seat directly"),
        ("missing-seat", props_of(seats(observed_users={"alice": _seen(), "bob": SeatObservation(standing="missing")})),
         None, "bob: missing — declared in seats.yaml"),
        ("missing-seat", props_of(seats(observed_teams={"mobile": TeamObservation("missing")})), None,
         "team mobile: missing — declared"),
        ("expired-grant", props_of(declared(expires="2026-10-31")), None, "alice: the grant expired"),
        ("expired-grant",
         props_of(seats(teams={"mobile": replace(SEATS_INPUTS.teams["mobile"], expires="2026-10-31")})), None,
         "team mobile: the grant expired"),
        ("double-grant", props_of(observed(via_declared_team=True, assigning_team="mobile")), None,
         "alice: declared under users and also seated through team mobile"),
        ("seat-budget", props_of(SEATS_INPUTS), {"maxSeats": 1.0}, "octo-demo: seats.yaml declares 5 seats"),
        ("seat-management-setting",
         props_of(seats(org=replace(SEATS_INPUTS.org, seat_management_setting="assign_all"))), None,
         "octo-demo: seat_management_setting is 'assign_all'"),
    ],
    ids=["unmanaged", "missing-user", "missing-team", "expired-user", "expired-team", "double-grant",
         "budget", "setting"],
)
def test_each_policy_reports_its_violation(policy: str, props: dict[str, Any], config: dict[str, Any] | None,
                                           expected: str) -> None:
    [message] = validate(policy, SEATS_TYPE, props, config)
    assert message.startswith(expected)
    assert validate(policy, SEATS_TYPE, props_of(SEATS_INPUTS), {"maxSeats": 5.0}) == []


def test_unknown_input_raises_the_sdks_error_so_it_becomes_an_advisory_note() -> None:
    props = props_of(SEATS_INPUTS)
    observed = props["observed_users"]
    observed["last_activity_at"][observed["logins"].index("alice")] = UNKNOWN_STRING_VALUE
    with pytest.raises(UnknownValueError) as caught:
        validate("stale-seat", SEATS_TYPE, props)
    assert caught.value.props == ["observed_users", "last_activity_at", "0"]  # alice's place in the column
    assert caught.value.message == ("string value at .observed_users.last_activity_at.0 "
                                    "can't be known during preview")


def test_unknown_bool_keeps_its_type_in_the_note() -> None:
    props = props_of(SEATS_INPUTS)
    props["observed_users"]["via_declared_team"] = [UNKNOWN_BOOLEAN_VALUE]
    with pytest.raises(UnknownValueError) as caught:
        validate("double-grant", SEATS_TYPE, props)
    assert caught.value.message == ("boolean value at .observed_users.via_declared_team.0 "
                                    "can't be known during preview")


def test_violations_found_before_an_unknown_are_still_reported() -> None:
    props = props_of(declared(expires="2026-10-31"))
    props["observed_teams"]["mobile"]["standing"] = UNKNOWN_STRING_VALUE  # the team's view cannot be judged
    reported: list[str] = []
    with pytest.raises(UnknownValueError) as caught:
        POLICIES_BY_NAME["expired-grant"].validate(args(SEATS_TYPE, props), lambda m, urn=None: reported.append(m))
    assert [m.split(":")[0] for m in reported] == ["alice"]
    assert caught.value.props == ["observed_teams", "mobile", "standing"]


def test_unknowns_a_policy_does_not_read_do_not_stop_it() -> None:
    props = props_of(declared(expires="2026-10-31"))
    props["org"]["seat_management_setting"] = UNKNOWN_STRING_VALUE
    props["org"]["estimated_monthly_cost"] = UNKNOWN_STRING_VALUE
    [message] = validate("expired-grant", SEATS_TYPE, props)
    assert "expired on 2026-10-31" in message and "Owner: platform" in message
    selected = props_of(seats(org=replace(SEATS_INPUTS.org, seat_management_setting="assign_all")))
    selected["observed_users"]["last_activity_at"][0] = UNKNOWN_STRING_VALUE  # alice
    [mandatory] = validate("seat-management-setting", SEATS_TYPE, selected)
    assert "'assign_all'" in mandatory


def test_unknown_inside_a_list_is_materialized_and_named_in_the_note() -> None:
    props = props_of(seats(org=replace(SEATS_INPUTS.org, unmanaged=(("zed", None),))))
    props["org"]["unmanaged"].append(UNKNOWN_STRING_VALUE)
    with pytest.raises(UnknownValueError) as caught:
        validate("unmanaged-seat", SEATS_TYPE, props)
    assert caught.value.props == ["org", "unmanaged", "1"]


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
