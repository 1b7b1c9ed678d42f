"""The CrossGuard wiring: :mod:`copilot_seats.policies.rules` as ``pulumi_policy`` policy objects.

``policies/__main__.py`` only calls ``PolicyPack(PACK_NAME, policies=build_policies())``, which
starts a gRPC server and never returns; everything else lives here so tests can build the very
same policy objects and call their ``validate`` without an engine.

Runs on pulumi-policy 1.21.0 (tools/pulumi-version.env) under both engine lanes. Its newer
features (severity, ``not_applicable``, stack tags, remediation) are not used: the pinned
v3.78.1 engine predates them and none would replace anything below. What the adapter does for
each resource:

1. skip resources whose type the policy does not judge (see :data:`copilot_seats.policies.catalog.RULES`);
2. copy the inputs out of the SDK's unknown-checking proxy, replacing values not known during
   preview by :data:`copilot_seats.policies.rules.UNKNOWN` (so one unknown value cannot hide the rest);
3. run the pure rule with the policy's config and the current time, report each violation;
4. if the rule could not judge (it needed an unknown value), raise the SDK's own
   ``UnknownValueError``: pulumi-policy reports that as an *advisory* "can't run policy during
   preview" note whatever the policy's enforcement level, so unknowns never fail a preview.

Per-seat policies (:data:`copilot_seats.policies.config.PER_SEAT_POLICIES`) summarise, so that a
preview of thousands of seats stays readable: the first ``summarizeAbove`` violations are
reported one by one (each names its login); the rest are listed in one summary violation of the
same enforcement level, so a mandatory policy still fails the run. Every seat of an org is in one
resource, so one ``validate`` call sees them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from copilot_seats.policies.catalog import RULES
from copilot_seats.policies.config import PER_SEAT_POLICIES, POLICIES, PolicySpec, setting
from copilot_seats.policies.rules import UNKNOWN, Rule

__all__ = ["PACK_NAME", "SUMMARY_NAMES", "build_policies", "materialize", "summary_message", "validator"]

PACK_NAME = "copilot-seats"
"""The pack's name in previews and in ``pulumi policy`` commands."""

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def materialize(value: Any, path: tuple[str, ...] = (),
                unknowns: dict[tuple[str, ...], str] | None = None) -> Any:
    """A plain copy of ``value`` (the SDK's proxied inputs) with unknowns as :data:`UNKNOWN`.

    :param unknowns: when given, receives ``path -> the engine's unknown sentinel`` for every
        unknown value found, so the caller can raise a precise ``UnknownValueError``.
    """
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            out[key] = _item(value, key, (*path, str(key)), unknowns)
        return out
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_item(value, i, (*path, str(i)), unknowns) for i in range(len(value))]
    return value


def _item(container: Any, key: Any, path: tuple[str, ...],
          unknowns: dict[tuple[str, ...], str] | None) -> Any:
    try:
        return materialize(container[key], path, unknowns)
    except UnknownValueError as exc:
        if unknowns is not None:
            unknowns[path] = exc.unknown_type_sentinel
        return UNKNOWN


SUMMARY_NAMES = 50
"""How many subjects a summary violation names before "and N more"."""


def summary_message(policy: str, reported: int, held: Sequence[str]) -> str:
    """The summary violation of ``policy`` for the ``held`` subjects beyond the first ``reported``."""
    shown = ", ".join(held[:SUMMARY_NAMES])
    more = f" and {len(held) - SUMMARY_NAMES} more" if len(held) > SUMMARY_NAMES else ""
    return (f"{len(held)} more seat(s) in violation of {policy} beyond the {reported} reported one by one "
            f"(summarizeAbove): {shown}{more}. `copilot-seats report` (stale seats, drift, expiry) and "
            "`copilot-seats pr-comment` list them all.")


def validator(policy: str, rules: Mapping[str, Rule], clock: Clock = _utcnow) -> Callable[..., None]:
    """The ``validate`` callback of ``policy``: dispatches on resource type to ``rules``; per-seat
    policies report the first ``summarizeAbove`` violations one by one and the rest in one summary."""
    summarize = policy in PER_SEAT_POLICIES

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config() or {}
        rule = rules.get(args.resource_type)
        if rule is None:
            return
        unknowns: dict[tuple[str, ...], str] = {}
        props = materialize(args.props, (), unknowns)
        undetermined = []
        limit = setting(config, policy, "summarizeAbove") if summarize else None
        reported = 0
        held: list[str] = []
        for violation in rule(props, config, clock()):
            if not violation.determined:
                undetermined.append(violation)
            elif limit is None or reported < limit:
                reported += 1
                report_violation(violation.message, None)
            else:
                held.append(violation.subject)
        if held:
            report_violation(summary_message(policy, reported, held), None)
        if undetermined:
            name = undetermined[0].unknown[0]  # an input's name, or a dotted path into the Seats inputs
            key = next((path for path in unknowns if ".".join(path) == name), (name,))
            raise UnknownValueError(unknowns.get(key, UNKNOWN_STRING_VALUE), list(key))

    validate.__name__ = f"validate_{policy.replace('-', '_')}"
    return validate


def _policy(spec: PolicySpec, clock: Clock) -> ResourceValidationPolicy:
    schema = (PolicyConfigSchema(properties={k: dict(v) for k, v in spec.properties.items()})
              if spec.properties else None)
    return ResourceValidationPolicy(
        name=spec.name,
        description=spec.description,
        validate=validator(spec.name, RULES[spec.name], clock),
        enforcement_level=EnforcementLevel(spec.enforcement),
        config_schema=schema,
    )


def build_policies(clock: Clock = _utcnow) -> list[ResourceValidationPolicy]:
    """Every policy of :data:`copilot_seats.policies.config.POLICIES`, ready for ``PolicyPack``.

    :param clock: the time the rules judge against (tests pin it); default: now, UTC.
    """
    return [_policy(spec, clock) for spec in POLICIES]
