"""The exception tree. Every failure the package detects is one of these, raised where it is
detected and saying where (file:line, config key or variable, URL, field)::

    CopilotSeatsError
    ├── ConfigError                a flag, environment variable or config key is unusable
    │   └── CredentialsError       no GitHub token, or a malformed one (names where, never the value)
    ├── SpecError                  seats.yaml is invalid (every problem, located)
    ├── EditError                  seats.yaml cannot be edited as asked (import --merge, prune)
    ├── InputError                 another input file is invalid (e.g. a simulator fixture)
    ├── CheckFailed                a check the user asked for failed (e.g. report --fail-on-drift)
    ├── GuardError                 a safety rail refused the change (e.g. mass removal)
    └── ApiError                   talking to GitHub failed
        ├── TransportError         no answer: connection error, timeout
        ├── ResponseError          GitHub answered 2xx, but not with the documented shape
        └── ApiStatusError         GitHub answered 4xx/5xx
            ├── AuthError          401/403: bad token or missing permission
            ├── NotFoundError      404: org/user not found or not visible to the token
            ├── UnprocessableError 422: e.g. seat management setting, team-derived seat
            └── RateLimitError     primary/secondary rate limit that outlasted our wait cap

Each entry point maps the tree once: the CLI to exit codes (:mod:`copilot_seats.cli.failures`:
1 invalid input or failed check, 2 configuration/usage, 3 GitHub), the Pulumi program to a
``pulumi.RunError`` with the same message. Messages never contain the token: the client keeps
it in the ``Authorization`` header only, and every printed message passes
:func:`copilot_seats.redact.scrub` anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ApiError",
    "ApiStatusError",
    "AuthError",
    "CheckFailed",
    "ConfigError",
    "CopilotSeatsError",
    "CredentialsError",
    "EditError",
    "GuardError",
    "InputError",
    "NotFoundError",
    "RateLimitError",
    "ResponseError",
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


class ConfigError(CopilotSeatsError):
    """A flag, environment variable or Pulumi config key has an unusable value; the message names
    it (``--org``, ``GITHUB_TOKEN``, ``github:token``) and says what is expected."""


class CredentialsError(ConfigError):
    """No GitHub token could be found, or the one found is malformed (empty, whitespace or
    control characters). The message says where we looked; it never contains the value."""


class EditError(CopilotSeatsError):
    """seats.yaml cannot be edited as asked (unparsable, flow style, duplicate or unknown name)."""


class InputError(CopilotSeatsError):
    """An input file other than seats.yaml (which raises SpecError) is invalid or unreadable,
    e.g. a simulator fixture or state file; the message names the file."""


class CheckFailed(CopilotSeatsError):
    """A check the user asked for failed (e.g. drift with ``report --fail-on-drift``). The
    message may be empty when the command already printed the details."""


class GuardError(CopilotSeatsError):
    """A safety rail refused a change before anything was written."""


class ApiError(CopilotSeatsError):
    """Talking to GitHub's API failed."""


class TransportError(ApiError):
    """No usable answer: connection refused/reset, DNS failure, timeout (after retries)."""


class ResponseError(ApiError):
    """GitHub answered with success, but the body is not what its documentation describes
    (not JSON, a missing required field, a field of the wrong type).

    :param where: the request, e.g. ``GET https://api.github.com/orgs/acme/copilot/billing/seats``
        (``"response"`` when a parser is used on its own).
    :param field: location of the bad value in the body, e.g. ``seats[3].created_at``
        (``""`` for the body as a whole).
    :param problem: what is wrong, naming the offending value (shortened).
    """

    def __init__(self, where: str, field: str, problem: str) -> None:
        self.where = where
        self.field = field
        self.problem = problem
        at = f" at {field}" if field else ""
        super().__init__(f"{where}: unexpected response from GitHub{at}: {problem}")

    def located(self, where: str, prefix: str = "") -> ResponseError:
        """The same problem, located at the request ``where`` and under ``prefix`` in its body."""
        field = f"{prefix}.{self.field}" if prefix and self.field else (prefix or self.field)
        return ResponseError(where, field, self.problem)


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
