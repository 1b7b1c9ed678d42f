"""The reconcile's run settings (stack config + environment), parsed and validated once.

The Pulumi program reads them through ``pulumi.Config``; the provider process, which the
pinned engine hands no stack config, reads the same keys through the CLI
(``pulumi config --json``) when it needs them — only for deletes (``onDelete``, and the
mass-removal allowance that ``pulumi destroy`` must honour without running the program).
Both go through :func:`parse_settings`, so "0 means 0" and "a bad value is an error naming
the key" hold in every entry point.

Keys (project namespace ``copilot-seats``), with the environment variable that overrides
each for one run where there is one:

========================== ======================================= =========================
key                        meaning                                 environment
========================== ======================================= =========================
``staleDays``              stale after this many days (>= 0)
``graceDays``              never-used seats get this grace (>= 0)
``maxRemovalCount``        guard: seats one run may revoke (>= 0)
``maxRemovalFraction``     guard: ... or this share of the last
                           applied declared count (0..1)
``allowMassRemoval``       let the guard pass (true/false)         COPILOT_SEATS_ALLOW_MASS_REMOVAL
``allowOrganizationChange``let ``organization:`` change (rename     COPILOT_SEATS_ALLOW_ORGANIZATION_CHANGE
                           or switch the managed org)
``onDelete``               ``revoke`` (default) or ``forget``:      COPILOT_SEATS_ON_DELETE
                           what removing a seat from the stack
                           does on GitHub
========================== ======================================= =========================
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from copilot_seats import defaults
from copilot_seats.errors import CopilotSeatsError

__all__ = [
    "CONFIG_NAMESPACE",
    "ENV_OVERRIDES",
    "OnDelete",
    "RunSettings",
    "SettingsError",
    "parse_settings",
]

CONFIG_NAMESPACE = "copilot-seats"
"""Project namespace of the stack config keys (``copilot-seats:maxRemovalCount``)."""

ENV_OVERRIDES: Mapping[str, str] = {
    "allowMassRemoval": "COPILOT_SEATS_ALLOW_MASS_REMOVAL",
    "allowOrganizationChange": "COPILOT_SEATS_ALLOW_ORGANIZATION_CHANGE",
    "onDelete": "COPILOT_SEATS_ON_DELETE",
}
"""Config key -> environment variable that overrides it for one run (when set and non-empty)."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(CopilotSeatsError):
    """A stack config value or override is invalid; the message names the key, never a secret."""


class OnDelete(enum.StrEnum):
    """What happens on GitHub when a seat leaves the stack (entry removed, or ``pulumi destroy``).

    ``revoke`` cancels the seat (guarded). ``forget`` only drops it from Pulumi's state: the way
    to stop managing seats with this stack without anyone losing one.
    """

    REVOKE = "revoke"
    FORGET = "forget"


@dataclass(frozen=True)
class RunSettings:
    """Validated settings of one run. Every field is set (defaults from :mod:`copilot_seats.defaults`).

    ``approved_removal`` is the one setting that does not come from the stack: the seats of
    seats.yaml's ``settings.removal_approval`` when it is in force today, else 0 (set by the
    program's model, :func:`copilot_seats.stack.model.build_stack`).
    """

    stale_days: int = defaults.STALE_AFTER_DAYS
    grace_days: int = defaults.GRACE_DAYS
    max_removal_count: int = defaults.MAX_REMOVAL_COUNT
    max_removal_fraction: float = defaults.MAX_REMOVAL_FRACTION
    allow_mass_removal: bool = False
    allow_organization_change: bool = False
    on_delete: OnDelete = OnDelete.REVOKE
    approved_removal: int = 0


Getter = Callable[[str], "str | None"]
"""Returns the raw string of a config key (without namespace), ``None`` when unset."""


def _key(name: str) -> str:
    return f"{CONFIG_NAMESPACE}:{name}"


def _int(get: Getter, name: str, default: int) -> int:
    raw = get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{_key(name)} must be a whole number >= 0, got {raw.strip()!r}") from None
    if value < 0:
        raise SettingsError(f"{_key(name)} must be a whole number >= 0, got {value}")
    return value


def _fraction(get: Getter, name: str, default: float) -> float:
    raw = get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(f"{_key(name)} must be a number from 0 to 1, got {raw.strip()!r}") from None
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise SettingsError(f"{_key(name)} must be a number from 0 to 1, got {raw.strip()}")
    return value


def _bool(get: Getter, env: Mapping[str, str], name: str) -> bool:
    source, raw = _with_override(get, env, name)
    if raw is None:
        return False
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise SettingsError(f"{source} must be true or false, got {raw.strip()!r}")


def _with_override(get: Getter, env: Mapping[str, str], name: str) -> tuple[str, str | None]:
    variable = ENV_OVERRIDES.get(name)
    if variable and (env.get(variable) or "").strip():
        return variable, env[variable]
    raw = get(name)
    return _key(name), (raw if raw is not None and raw.strip() else None)


def parse_settings(get: Getter, env: Mapping[str, str]) -> RunSettings:
    """Read and validate every setting; raise :class:`SettingsError` naming the first bad key.

    ``0`` means 0 (e.g. ``maxRemovalCount: 0`` with ``maxRemovalFraction: 0`` refuses every
    revocation); only an unset key takes the default.
    """
    source, on_delete = _with_override(get, env, "onDelete")
    try:
        mode = OnDelete((on_delete or OnDelete.REVOKE.value).strip().lower())
    except ValueError:
        raise SettingsError(f"{source} must be 'revoke' or 'forget', got {(on_delete or '').strip()!r}") from None
    return RunSettings(
        stale_days=_int(get, "staleDays", defaults.STALE_AFTER_DAYS),
        grace_days=_int(get, "graceDays", defaults.GRACE_DAYS),
        max_removal_count=_int(get, "maxRemovalCount", defaults.MAX_REMOVAL_COUNT),
        max_removal_fraction=_fraction(get, "maxRemovalFraction", defaults.MAX_REMOVAL_FRACTION),
        allow_mass_removal=_bool(get, env, "allowMassRemoval"),
        allow_organization_change=_bool(get, env, "allowOrganizationChange"),
        on_delete=mode,
    )
