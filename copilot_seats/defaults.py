"""Named defaults, in one place, so the CLI, the Pulumi program and the policy pack agree.

Every threshold a user can override (CLI flag, stack config or policy-pack config) starts
from a constant here.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "GITHUB_RETENTION_DAYS",
    "GRACE_DAYS",
    "MAX_REMOVAL_COUNT",
    "MAX_REMOVAL_FRACTION",
    "PER_PAGE",
    "REPORTING_LAG_DAYS",
    "SEAT_PRICE_USD",
    "STALE_AFTER_DAYS",
]

DEFAULT_BASE_URL = "https://api.github.com"
"""GitHub's REST API root; ``GITHUB_API_URL`` (set by GitHub Actions) or ``github:baseUrl`` override it."""

API_VERSION = "2022-11-28"
"""Sent as ``X-GitHub-Api-Version`` on every request."""

PER_PAGE = 100
"""GitHub's maximum page size for the seat listing (its default is 50)."""

STALE_AFTER_DAYS = 60
"""A seat whose last activity is older than this many days is stale."""

REPORTING_LAG_DAYS = 1
"""Tolerance for GitHub's activity reporting lag (activity can take up to 24 hours to appear)."""

GRACE_DAYS = 14
"""A never-used seat is only stale once it was granted more than this many days ago."""

GITHUB_RETENTION_DAYS = 90
"""GitHub drops ``last_activity_at`` after this many days of inactivity (it then reads null)."""

SEAT_PRICE_USD: dict[str, Decimal] = {
    "business": Decimal("19"),
    "enterprise": Decimal("39"),
}
"""List price per seat per month by plan; ``settings.seat_price_usd`` in seats.yaml overrides it."""

MAX_REMOVAL_COUNT = 10
MAX_REMOVAL_FRACTION = 0.10
"""Mass-removal guard: refuse to revoke more than max(count, fraction x declared) seats in one run."""
