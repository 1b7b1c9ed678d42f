"""Named defaults, in one place, so the CLI, the Pulumi program and the policy pack agree.

Every threshold a user can override (CLI flag, stack config or policy-pack config) starts
from a constant here.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = [
    "API_VERSION",
    "BACKOFF_SECONDS",
    "BATCH_SIZE",
    "DEFAULT_BASE_URL",
    "GITHUB_RETENTION_DAYS",
    "GRACE_DAYS",
    "MAX_RATE_LIMIT_WAIT_SECONDS",
    "MAX_REMOVAL_COUNT",
    "MAX_REMOVAL_FRACTION",
    "MAX_RETRIES",
    "PER_PAGE",
    "REPORTING_LAG_DAYS",
    "SEAT_PRICE_USD",
    "SECONDARY_LIMIT_WAIT_SECONDS",
    "SIMULATOR_TOKEN",
    "STALE_AFTER_DAYS",
    "TIMEOUT_SECONDS",
    "WRITE_SPACING_SECONDS",
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

# --- API client (copilot_seats.github.api) ---------------------------------------------------------

TIMEOUT_SECONDS = 30.0
"""Per-request timeout (connect, read, write, pool) of the HTTP client."""

MAX_RETRIES = 3
"""Retries after the first attempt on 5xx, connection errors, timeouts and rate limits."""

BACKOFF_SECONDS = 1.0
"""First retry delay for 5xx/connection errors; doubled on each further retry."""

MAX_RATE_LIMIT_WAIT_SECONDS = 900.0
"""Longest single wait for a rate limit to reset; beyond it the client raises RateLimitError."""

SECONDARY_LIMIT_WAIT_SECONDS = 60.0
"""Wait after a secondary rate limit without ``retry-after`` or reset (GitHub: "at least one minute")."""

WRITE_SPACING_SECONDS = 1.0
"""Minimum pause between mutating requests (GitHub's best-practice guidance; 0 for the simulator)."""

BATCH_SIZE = 100
"""Logins or team slugs per grant/revoke request (GitHub documents no maximum; 100 is conservative)."""

SIMULATOR_TOKEN = "simulator-token"
"""The token the local simulator accepts when none is given (``copilot-seats simulate --token``)."""
