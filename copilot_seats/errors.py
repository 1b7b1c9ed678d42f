"""The exception tree. Callers catch one of two roots::

    CopilotSeatsError
    ├── SpecError                  seats.yaml is invalid (every problem, located)
    ├── GuardError                 a safety rail refused the change (e.g. mass removal)
    └── ApiError                   talking to GitHub failed
        ├── TransportError         no answer: connection error, timeout
        └── ApiStatusError         GitHub answered 4xx/5xx
            ├── AuthError          401/403: bad token or missing permission
            ├── NotFoundError      404: org/user not found or not visible to the token
            ├── UnprocessableError 422: e.g. seat management setting, team-derived seat
            └── RateLimitError     primary/secondary rate limit that outlasted our wait cap

Messages never contain the token (the client never puts it anywhere but the header).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ApiError",
    "ApiStatusError",
    "AuthError",
    "CopilotSeatsError",
    "GuardError",
    "NotFoundError",
    "RateLimitError",
    "SpecError",
    "SpecProblem",
    "TransportError",
    "UnprocessableError",
]


class CopilotSeatsError(Exception):
    """Root of every error this package raises on purpose."""


@dataclass(frozen=True, order=True)
class SpecProblem:
    """One problem in seats.yaml: where it is and what is wrong.

    Ordered by (file, line, column) so problems print in reading order.

    :param file: path of the file as given by the user.
    :param line: 1-based line (0 when the problem concerns the file as a whole).
    :param column: 1-based column (0 when unknown).
    :param message: what is wrong and what was expected, naming the offending value.
    :param json_path: location in the document, e.g. ``$.users.alice.expires``.
    """

    file: str
    line: int
    column: int
    message: str
    json_path: str = "$"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class SpecError(CopilotSeatsError):
    """seats.yaml is invalid. ``problems`` lists every problem found, sorted by position."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid seats file")


class GuardError(CopilotSeatsError):
    """A safety rail refused a change before anything was written."""


class ApiError(CopilotSeatsError):
    """Talking to GitHub's API failed."""


class TransportError(ApiError):
    """No usable answer: connection refused/reset, DNS failure, timeout (after retries)."""


class ApiStatusError(ApiError):
    """GitHub answered with an error status.

    :param status: HTTP status code.
    :param method: HTTP method of the request.
    :param url: URL of the request (never contains credentials).
    :param message: GitHub's ``message`` plus what the user can do about it.
    :param documentation_url: GitHub's ``documentation_url`` when it sent one.
    """

    def __init__(
        self,
        status: int,
        method: str,
        url: str,
        message: str,
        documentation_url: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.message = message
        self.documentation_url = documentation_url
        super().__init__(f"{method} {url} -> {status}: {message}")


class AuthError(ApiStatusError):
    """401/403: the token is missing, invalid, or lacks the needed permission."""


class NotFoundError(ApiStatusError):
    """404: the organization, enterprise, team or user does not exist or is not visible."""


class UnprocessableError(ApiStatusError):
    """422: GitHub understood the request but refuses it (see the message for why)."""


class RateLimitError(ApiStatusError):
    """A rate limit whose reset lies beyond the configured maximum wait.

    :param retry_after: seconds GitHub asked us to wait, when known.
    """

    def __init__(self, *args: object, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after
