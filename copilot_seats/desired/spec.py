"""The desired state: what seats.yaml declares, as frozen, typed values.

Produced only by :mod:`copilot_seats.desired.loader` (which validates and normalizes); consumed by
``analysis``, ``rules``, the Pulumi program and the CLI. Logins and team slugs are kept as
written (for display) and as a casefolded ``key`` (for every comparison): GitHub treats
logins case-insensitively, so ``Alice`` and ``alice`` are the same person.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = [
    "LOGIN_PATTERN",
    "MAX_APPROVAL_DAYS",
    "Grant",
    "Mode",
    "Plan",
    "RemovalApproval",
    "SeatSpec",
    "Settings",
    "StaleExemption",
    "TeamGrant",
    "UserGrant",
    "is_login",
    "normalize_login",
]

LOGIN_PATTERN = r"(?=[A-Za-z0-9_-]{1,39}$)[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*(?:_[A-Za-z0-9]{3,8})?"
"""A GitHub user login, the one rule (the schema's ``userLogin`` is ``^`` + this + ``$``).

Two shapes, 1-39 characters in all:

* a personal account: letters, digits and single hyphens, not starting or ending with a hyphen
  (``alice``, ``mona-lisa``);
* an Enterprise Managed User: the normalized IdP handle (same syntax), an underscore, and the
  enterprise's short code of 3-8 letters or digits (``alice_acme``, ``mona-lisa_octo``).

Neither shape can contain ``/``, ``.``, ``%``, spaces or a second underscore, so no login can
change the path of an API URL. Organizations and teams have their own rules (schema
``githubLogin`` and ``slug``).
"""


def is_login(name: str) -> bool:
    """True when ``name`` is a GitHub user login (personal or EMU; see :data:`LOGIN_PATTERN`)."""
    return re.fullmatch(LOGIN_PATTERN, name) is not None


def normalize_login(login: str) -> str:
    """Return the comparison key of a GitHub login or team slug (case-insensitive)."""
    return login.casefold()


class Mode(enum.StrEnum):
    """How seats held outside seats.yaml are treated.

    ``additive`` (default): only declared seats are managed; others are reported as drift.
    ``authoritative``: seats held outside seats.yaml are revoked.
    """

    ADDITIVE = "additive"
    AUTHORITATIVE = "authoritative"


class Plan(enum.StrEnum):
    """The Copilot plan the organization pays for; selects the default seat price."""

    BUSINESS = "business"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class StaleExemption:
    """An explicit, time-boxed reason why a seat may look stale (e.g. parental leave).

    The ``stale-seat`` rule skips the entry while ``until`` has not passed.
    """

    reason: str
    until: date


@dataclass(frozen=True)
class Grant:
    """Metadata shared by user and team entries; every field is optional.

    :param owner: who is accountable for the seat (``owner`` or its alias ``requested_by``).
    :param reason: why the seat exists, for reviewers and audits.
    :param expires: the date after which the grant should be removed (``expired-grant`` rule);
        ``None`` means open-ended.
    :param cost_center: free-form accounting tag, carried into reports.
    :param stale_exemption: see :class:`StaleExemption`; ``None`` means no exemption.
    :param line: 1-based line of the entry in seats.yaml (0 when not loaded from a file).
    """

    owner: str | None = None
    reason: str | None = None
    expires: date | None = None
    cost_center: str | None = None
    stale_exemption: StaleExemption | None = None
    line: int = 0


@dataclass(frozen=True)
class UserGrant(Grant):
    """A user who holds a direct seat. ``login`` as written; ``key`` is its casefolded form."""

    login: str = ""

    @property
    def key(self) -> str:
        return normalize_login(self.login)


@dataclass(frozen=True)
class TeamGrant(Grant):
    """A team (by slug) whose members all get a seat through the team."""

    slug: str = ""

    @property
    def key(self) -> str:
        return normalize_login(self.slug)


@dataclass(frozen=True)
class RemovalApproval:
    """``settings.removal_approval``: one large removal, approved in the pull request itself.

    The guard lets a run past its limit only when the run revokes exactly ``seats`` seats, on or
    before ``expires`` (the loader refuses more than :data:`MAX_APPROVAL_DAYS` ahead), so an
    approval left in the file cannot wave through a different removal later.
    """

    seats: int
    expires: date
    reason: str
    line: int = 0

    def in_force(self, today: date) -> bool:
        return today <= self.expires


MAX_APPROVAL_DAYS = 31
"""How far ahead ``removal_approval.expires`` may be: an approval is for one change."""


@dataclass(frozen=True)
class Settings:
    """Optional organization-wide settings of seats.yaml.

    :param mode: see :class:`Mode`.
    :param plan: see :class:`Plan`.
    :param seat_price_usd: monthly price per seat; ``None`` means the plan's list price
        (:data:`copilot_seats.defaults.SEAT_PRICE_USD`).
    :param enterprise: enterprise slug, when seats are also billed through an enterprise.
    :param removal_approval: see :class:`RemovalApproval` (``None``: none).
    """

    mode: Mode = Mode.ADDITIVE
    plan: Plan = Plan.BUSINESS
    seat_price_usd: Decimal | None = None
    enterprise: str | None = None
    removal_approval: RemovalApproval | None = None


@dataclass(frozen=True)
class SeatSpec:
    """The whole of seats.yaml: one organization, its user and team grants, and settings.

    ``users`` and ``teams`` are in file order and contain no duplicate keys (the loader
    rejects duplicates).
    """

    organization: str
    users: tuple[UserGrant, ...] = ()
    teams: tuple[TeamGrant, ...] = ()
    settings: Settings = field(default_factory=Settings)
    path: str = "seats.yaml"

    def user(self, login: str) -> UserGrant | None:
        """The grant for ``login`` (any case), or ``None`` when it is not declared."""
        key = normalize_login(login)
        return next((u for u in self.users if u.key == key), None)

    def team(self, slug: str) -> TeamGrant | None:
        """The grant for team ``slug`` (any case), or ``None`` when it is not declared."""
        key = normalize_login(slug)
        return next((t for t in self.teams if t.key == key), None)

    @property
    def user_keys(self) -> frozenset[str]:
        return frozenset(u.key for u in self.users)

    @property
    def team_keys(self) -> frozenset[str]:
        return frozenset(t.key for t in self.teams)
