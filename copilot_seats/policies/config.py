"""The policy pack's catalogue as data: names, descriptions, enforcement levels, config schemas.

No ``pulumi_policy`` import here: :mod:`copilot_seats.policies.pack` turns these records into
``ResourceValidationPolicy`` objects, :mod:`copilot_seats.policies.rules` reads thresholds through
:func:`setting`, and docs/tests read the same records. Defaults come from
:mod:`copilot_seats.defaults`, so the CLI, the program and the pack start from the same numbers.

Configuration reaches a policy through ``pulumi preview --policy-pack-config FILE`` (JSON)::

    {"stale-seat": {"enforcementLevel": "mandatory", "staleDays": 45},
     "seat-budget": {"maxSeats": 50},
     "double-grant": "disabled"}

The engine validates values against :attr:`PolicySpec.properties` (JSON Schema) and fills in
each ``default`` before the pack sees them. Numbers arrive as floats (protobuf ``Struct``);
:func:`setting` turns them back into ``int`` where the default is an ``int``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from copilot_seats import defaults
from copilot_seats.provider import contract

__all__ = [
    "ADVISORY",
    "DISABLED",
    "MANDATORY",
    "MAX_STALE_DAYS",
    "PER_SEAT_POLICIES",
    "POLICIES",
    "SEATS_TYPE",
    "PolicySpec",
    "policy_spec",
    "setting",
]

ADVISORY: Final = "advisory"
"""Violations are shown; ``pulumi preview``/``up`` still exit 0."""
MANDATORY: Final = "mandatory"
"""Violations fail ``pulumi preview``/``up`` (non-zero exit, "preview failed")."""
DISABLED: Final = "disabled"
"""The policy does not run."""

SEATS_TYPE: Final = contract.SEATS.token
"""Type token of the one resource per organization the pack judges: every declared user and
team (rules per entry), and the org-level observations (rules per organization)."""

_SUMMARIZE_ABOVE: Final = {
    "type": "integer", "minimum": 0, "default": 20,
    "description": "Up to this many violations get one each, at their seat; the rest are listed in one "
                   "summary violation (a preview stays readable at thousands of seats).",
}

MAX_STALE_DAYS: Final = defaults.GITHUB_RETENTION_DAYS - defaults.REPORTING_LAG_DAYS
"""Upper bound of ``staleDays``: beyond it a null ``last_activity_at`` (GitHub forgets activity
after 90 days) could no longer tell "stale" from "not stale"."""


@dataclass(frozen=True)
class PolicySpec:
    """One policy of the pack.

    :param name: the policy's name in previews and in ``--policy-pack-config`` keys.
    :param description: first line of every violation message.
    :param enforcement: default level: :data:`ADVISORY`, :data:`MANDATORY` or :data:`DISABLED`.
    :param resource_types: type tokens the policy judges; other resources are ignored.
    :param properties: JSON Schema of each config property, with its ``default`` when there is
        one. A property without a default is off until configured (e.g. the budget caps).
    """

    name: str
    description: str
    enforcement: str
    resource_types: tuple[str, ...]
    properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def defaults(self) -> dict[str, Any]:
        """The config a policy sees when nothing is configured (what the engine fills in)."""
        return {key: schema["default"] for key, schema in self.properties.items() if "default" in schema}


POLICIES: tuple[PolicySpec, ...] = (
    PolicySpec(
        "stale-seat",
        "Copilot seats whose holder has not used Copilot recently (a candidate for removal).",
        ADVISORY,
        (SEATS_TYPE,),
        {
            "staleDays": {
                "type": "integer", "minimum": 1, "maximum": MAX_STALE_DAYS,
                "default": defaults.STALE_AFTER_DAYS,
                "description": "A seat is stale when its last activity is older than this many days "
                               f"(plus {defaults.REPORTING_LAG_DAYS} day of tolerance for GitHub's "
                               "reporting lag).",
            },
            "graceDays": {
                "type": "integer", "minimum": 0, "default": defaults.GRACE_DAYS,
                "description": "A seat with no reported activity is only stale once it was granted "
                               "more than this many days ago.",
            },
            "summarizeAbove": _SUMMARIZE_ABOVE,
        },
    ),
    PolicySpec(
        "unmanaged-seat",
        "Copilot seats held outside seats.yaml (drift): directly, or through an undeclared team.",
        ADVISORY,
        (SEATS_TYPE,),
        {
            "summarizeAbove": {
                "type": "integer", "minimum": 0, "default": 20,
                "description": "Up to this many directly held seats get one violation each; above it, one "
                               "summary violation lists them (a preview stays readable for large drift).",
            },
        },
    ),
    PolicySpec(
        "missing-seat",
        "Seats declared in seats.yaml that GitHub does not list, or lists as pending cancellation (drift).",
        ADVISORY,
        (SEATS_TYPE,),
        {"summarizeAbove": _SUMMARIZE_ABOVE},
    ),
    PolicySpec(
        "expired-grant",
        "seats.yaml entries whose `expires` date has passed: remove them, or extend the date.",
        ADVISORY,
        (SEATS_TYPE,),
        {"summarizeAbove": _SUMMARIZE_ABOVE},
    ),
    PolicySpec(
        "double-grant",
        "Users declared directly who also hold their seat through a team declared in seats.yaml.",
        ADVISORY,
        (SEATS_TYPE,),
        {"summarizeAbove": _SUMMARIZE_ABOVE},
    ),
    PolicySpec(
        "seat-budget",
        "Declared seats or estimated monthly cost above the configured caps (off until a cap is set).",
        ADVISORY,
        (SEATS_TYPE,),
        {
            "maxSeats": {
                "type": "integer", "minimum": 0,
                "description": "Most seats seats.yaml may declare (users plus live seats through "
                               "declared teams). Unset: no cap.",
            },
            "maxMonthlyCost": {
                "type": "number", "minimum": 0,
                "description": "Most the listed seats may cost per month, in USD (seat count x "
                               "price per seat). Unset: no cap.",
            },
        },
    ),
    PolicySpec(
        "seat-management-setting",
        "The organization must assign Copilot seats to selected users and teams (`assign_selected`), "
        "or seats.yaml cannot be enforced.",
        MANDATORY,
        (SEATS_TYPE,),
    ),
)
"""Every policy, in the order the pack registers them."""

PER_SEAT_POLICIES: Final = tuple(p.name for p in POLICIES
                                 if p.name != "unmanaged-seat" and "summarizeAbove" in p.properties)
"""Policies judged entry by entry that summarise above ``summarizeAbove`` (``unmanaged-seat`` judges
the organization as a whole and summarises by itself)."""


def policy_spec(name: str) -> PolicySpec:
    """The :class:`PolicySpec` called ``name``; ``KeyError`` when there is none."""
    for spec in POLICIES:
        if spec.name == name:
            return spec
    raise KeyError(name)


def setting(config: Mapping[str, Any], policy: str, key: str) -> Any:
    """``config[key]`` for ``policy``, else the schema default, else ``None`` (not configured).

    Whole-number floats are returned as ``int`` when the schema says ``integer``: the engine
    passes configuration as protobuf ``Struct`` values, in which every number is a double.
    """
    schema = policy_spec(policy).properties[key]
    value = config.get(key, schema.get("default"))
    if schema.get("type") == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
