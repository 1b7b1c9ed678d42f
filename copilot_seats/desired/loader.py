"""seats.yaml -> a validated :class:`~copilot_seats.desired.spec.SeatSpec`, or every problem, located.

Three stages, each collecting rather than stopping at the first problem:

1. :mod:`copilot_seats.desired.yaml_source` reads the bytes safely (size cap, UTF-8, no aliases,
   duplicate keys, tabs, syntax errors);
2. :mod:`copilot_seats.desired.schema_check` validates the shape against the JSON Schema (types,
   unknown keys with a "did you mean", login and slug syntax, date syntax);
3. this module's semantic checks, which the schema cannot express: real calendar dates,
   logins and slugs that differ only in case, ``owner`` together with its alias
   ``requested_by``, the entry cap, and the date-dependent warnings (an ``expires`` or
   ``stale_exemption.until`` already in the past).

Problems are :class:`~copilot_seats.errors.SpecProblem` values sorted by position. Warnings
never make a file invalid. Logins and slugs are checked against GitHub's syntax, which
admits only ``[A-Za-z0-9-]`` (plus one ``_`` before an EMU short code, see
:data:`copilot_seats.desired.spec.LOGIN_PATTERN`; ``_`` in slugs): nothing that reaches a URL path can
contain ``/``, ``.``, ``%`` or spaces.

Public entry points: :func:`load_spec` and :func:`parse_spec` raise
:class:`~copilot_seats.errors.SpecError`; :func:`check_spec` and :func:`check_file` never
raise for bad input and also return warnings.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from copilot_seats.desired.schema_check import schema_problems
from copilot_seats.desired.spec import (
    MAX_APPROVAL_DAYS,
    Mode,
    Plan,
    RemovalApproval,
    SeatSpec,
    Settings,
    StaleExemption,
    TeamGrant,
    UserGrant,
    normalize_login,
)
from copilot_seats.desired.yaml_source import (
    MAX_SPEC_BYTES,
    MarkedDict,
    Position,
    YamlDocument,
    format_json_path,
    position_of,
    read_yaml,
    too_large,
)
from copilot_seats.errors import SpecError, SpecProblem

__all__ = [
    "MAX_SPEC_BYTES",
    "MAX_SPEC_ENTRIES",
    "CheckResult",
    "check_file",
    "check_spec",
    "load_spec",
    "parse_spec",
]

log = logging.getLogger(__name__)

MAX_SPEC_ENTRIES = 200_000
"""Most users plus teams accepted in one file: an organization of 100,000 seats, with room to grow."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one seats.yaml.

    :param spec: the validated spec; ``None`` exactly when ``errors`` is non-empty.
    :param errors: every problem that makes the file invalid, sorted by position.
    :param warnings: things worth fixing that do not make the file invalid (an ``expires``
        date or a stale exemption already in the past), sorted by position.
    """

    spec: SeatSpec | None
    errors: list[SpecProblem] = field(default_factory=list)
    warnings: list[SpecProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def check_spec(
    text_or_bytes: str | bytes,
    path: str = "seats.yaml",
    *,
    today: date | None = None,
    max_bytes: int = MAX_SPEC_BYTES,
    max_entries: int = MAX_SPEC_ENTRIES,
) -> CheckResult:
    """Check the content of a seats.yaml; never raises for bad input.

    :param text_or_bytes: the file's content; bytes must be UTF-8.
    :param path: the file name used in every problem (not opened).
    :param today: the date that ``expires`` and ``until`` are compared with (default: the
        local date); passed in so results are reproducible.
    :param max_bytes: refuse larger input before parsing (default :data:`MAX_SPEC_BYTES`).
    :param max_entries: refuse more users plus teams (default :data:`MAX_SPEC_ENTRIES`).
    """
    document = read_yaml(text_or_bytes, path, max_bytes=max_bytes)
    errors = list(document.problems)
    if not errors and document.data is None:
        errors.append(
            SpecProblem(
                path,
                1,
                1,
                "seats.yaml is empty: expected a mapping with at least 'organization' "
                "(and usually 'users' and 'teams')",
            )
        )
    if document.data is None:  # unreadable: nothing further can be checked
        return CheckResult(None, sorted(errors))
    errors.extend(schema_problems(document, path))
    checker = _Semantics(document, path, today or date.today(), max_entries)
    if isinstance(document.data, MarkedDict):
        checker.run(document.data)
    errors.extend(checker.errors)
    spec = None if errors else _build(document.data, path, checker.dates)
    return CheckResult(spec, sorted(errors), sorted(checker.warnings))


def check_file(path: str | os.PathLike[str], *, today: date | None = None) -> CheckResult:
    """Read and check the file at ``path``; an unreadable file is an error, not an exception.

    Only a regular file (or a symlink to one) is read: a FIFO, socket or device is refused
    without waiting on it (it is opened non-blocking), so ``validate`` never hangs. A file
    larger than :data:`MAX_SPEC_BYTES` is refused with its exact size, without reading it all.
    The messages are the same for every entry point (validate, report, import, the program).
    """
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return CheckResult(None, [SpecProblem(name, 0, 0, f"cannot read the file: {_reason(exc)}")])
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _FILE_KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
            return CheckResult(None, [SpecProblem(
                name, 0, 0, f"cannot read the file: it is {kind}; the seats file must be a regular file")])
        if info.st_size > MAX_SPEC_BYTES:
            return CheckResult(None, [too_large(name, info.st_size, MAX_SPEC_BYTES)])
        with os.fdopen(fd, "rb", closefd=False) as handle:
            content = handle.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        return CheckResult(None, [SpecProblem(name, 0, 0, f"cannot read the file: {_reason(exc)}")])
    finally:
        os.close(fd)
    if len(content) > MAX_SPEC_BYTES:  # it grew while we read it
        return CheckResult(None, [too_large(name, max(len(content), os.stat(name).st_size), MAX_SPEC_BYTES)])
    return check_spec(content, name, today=today)


_FILE_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device", stat.S_IFDIR: "a directory"}


def _reason(exc: OSError) -> str:
    """The OS's words for ``exc``, plus what they usually mean for a symlink loop."""
    reason = exc.strerror or exc.__class__.__name__
    if exc.errno == errno.ELOOP:
        reason += " (a symbolic link loop, or a link where none is allowed)"
    return reason


def parse_spec(text: str | bytes, path: str = "seats.yaml", *, today: date | None = None) -> SeatSpec:
    """Validate the content of a seats.yaml and return its spec.

    Warnings are logged (``WARNING``), not raised.

    :raises SpecError: listing every problem, when the content is invalid.
    """
    return _spec_or_raise(check_spec(text, path, today=today))


def load_spec(path: str | os.PathLike[str], *, today: date | None = None) -> SeatSpec:
    """Read, validate and return the spec at ``path`` (see :func:`parse_spec`).

    :raises SpecError: when the file cannot be read or is invalid.
    """
    return _spec_or_raise(check_file(path, today=today))


def _spec_or_raise(result: CheckResult) -> SeatSpec:
    for warning in result.warnings:
        log.warning("%s", warning)
    if result.spec is None:
        raise SpecError(result.errors)
    return result.spec


class _Semantics:
    """The checks the schema cannot express; collects ``errors`` and ``warnings``.

    Runs on data that may also have failed the schema, so every step checks types first.
    ``dates`` maps the path of each valid date field to its parsed value.
    """

    def __init__(self, document: YamlDocument, file: str, today: date, max_entries: int) -> None:
        self.document = document
        self.file = file
        self.today = today
        self.max_entries = max_entries
        self.errors: list[SpecProblem] = []
        self.warnings: list[SpecProblem] = []
        self.dates: dict[tuple[str, ...], date] = {}

    def _problem(self, path: tuple[str, ...], message: str, *, key: bool = False) -> SpecProblem:
        position: Position = position_of(self.document.data, path, key=key) or (1, 1)
        return SpecProblem(self.file, *position, message, format_json_path(path))

    def run(self, root: MarkedDict) -> None:
        entries = 0
        for section, kind in (("users", "login"), ("teams", "team slug")):
            grants = root.get(section)
            if not isinstance(grants, MarkedDict):
                continue
            entries += len(grants)
            self._case_duplicates(section, kind, grants)
            for name, grant in grants.items():
                if isinstance(grant, MarkedDict):
                    self._grant((section, name), name, grant)
        settings = root.get("settings")
        if isinstance(settings, MarkedDict) and isinstance(settings.get("removal_approval"), MarkedDict):
            self._approval(("settings", "removal_approval"), settings["removal_approval"])
        if entries == 0 and not root.get("users") and not root.get("teams"):
            self.warnings.append(
                self._problem((), "no users and no teams are declared: nobody would hold a seat")
            )
        if entries > self.max_entries:
            self.errors.append(
                self._problem(
                    (),
                    f"too many entries: {entries:,} users and teams (the limit is {self.max_entries:,})",
                )
            )

    def _case_duplicates(self, section: str, kind: str, grants: MarkedDict) -> None:
        first: dict[str, str] = {}
        for name in grants:
            key = normalize_login(name)
            if key not in first:
                first[key] = name
                continue
            line = grants.key_positions[first[key]][0]
            self.errors.append(
                self._problem(
                    (section, name),
                    f"duplicate {kind} '{name}': already declared as '{first[key]}' on line {line} "
                    f"({kind}s are case-insensitive)",
                    key=True,
                )
            )

    def _grant(self, at: tuple[str, str], name: str, grant: MarkedDict) -> None:
        if "owner" in grant and "requested_by" in grant:
            self.errors.append(
                self._problem(
                    (*at, "requested_by"),
                    f"'{name}' has both 'owner' and its alias 'requested_by'; keep only one",
                    key=True,
                )
            )
        expires = self._date((*at, "expires"), grant.get("expires"))
        if expires is not None and expires < self.today:
            self.warnings.append(
                self._problem(
                    (*at, "expires"),
                    f"grant for '{name}' expired on {expires.isoformat()} "
                    f"(today is {self.today.isoformat()}): remove the entry or extend 'expires'",
                )
            )
        exemption = grant.get("stale_exemption")
        if isinstance(exemption, MarkedDict):
            until = self._date((*at, "stale_exemption", "until"), exemption.get("until"))
            if until is not None and until < self.today:
                self.warnings.append(
                    self._problem(
                        (*at, "stale_exemption", "until"),
                        f"stale exemption for '{name}' ended on {until.isoformat()} "
                        f"(today is {self.today.isoformat()}): remove it or extend 'until'",
                    )
                )

    def _approval(self, at: tuple[str, ...], approval: MarkedDict) -> None:
        """An approval is for one change: it expires within :data:`MAX_APPROVAL_DAYS`; once
        expired it is ignored (a warning says to remove it)."""
        expires = self._date((*at, "expires"), approval.get("expires"))
        if expires is None:
            return
        if expires < self.today:
            self.warnings.append(self._problem(
                (*at, "expires"),
                f"removal_approval expired on {expires.isoformat()} (today is {self.today.isoformat()}): "
                "the guard ignores it; remove it"))
        elif expires > self.today + timedelta(days=MAX_APPROVAL_DAYS):
            self.errors.append(self._problem(
                (*at, "expires"),
                f"removal_approval.expires {expires.isoformat()} is more than {MAX_APPROVAL_DAYS} days after "
                f"today ({self.today.isoformat()}): an approval is for one change; give the date it is "
                "applied by"))

    def _date(self, path: tuple[str, ...], value: Any) -> date | None:
        """Parse a date field the schema accepted as ``YYYY-MM-DD``; report impossible dates."""
        if not isinstance(value, str) or len(value) != 10 or not value[:4].isdigit():
            return None  # absent, or already reported by the schema
        try:
            parsed = date.fromisoformat(value)
        except ValueError as exc:
            self.errors.append(
                self._problem(path, f"'{'.'.join(path)}' is not a real date: '{value}' ({exc})")
            )
            return None
        self.dates[path] = parsed
        return parsed


def _removal_approval(raw_settings: Any, dates: dict[tuple[str, ...], date]) -> RemovalApproval | None:
    raw = raw_settings.get("removal_approval")
    if not isinstance(raw, MarkedDict):
        return None
    return RemovalApproval(seats=int(raw["seats"]), expires=dates[("settings", "removal_approval", "expires")],
                           reason=str(raw["reason"]), line=raw.position[0])


def _build(data: MarkedDict, file: str, dates: dict[tuple[str, ...], date]) -> SeatSpec:
    """Turn a document that passed every check into a :class:`SeatSpec`."""
    raw_settings = data.get("settings") or {}
    price = raw_settings.get("seat_price_usd")
    settings = Settings(
        mode=Mode(raw_settings.get("mode", Mode.ADDITIVE.value)),
        plan=Plan(raw_settings.get("plan", Plan.BUSINESS.value)),
        seat_price_usd=None if price is None else Decimal(str(price)),
        enterprise=raw_settings.get("enterprise"),
        removal_approval=_removal_approval(raw_settings, dates),
    )

    def grant_fields(section: str, name: str, section_data: MarkedDict) -> dict[str, Any]:
        meta = section_data[name] or {}
        exemption = meta.get("stale_exemption")
        return {
            "owner": meta.get("owner", meta.get("requested_by")),
            "reason": meta.get("reason"),
            "expires": dates.get((section, name, "expires")),
            "cost_center": meta.get("cost_center"),
            "stale_exemption": None
            if exemption is None
            else StaleExemption(exemption["reason"], dates[(section, name, "stale_exemption", "until")]),
            "line": section_data.key_positions[name][0],
        }

    users = data.get("users") or MarkedDict((0, 0))
    teams = data.get("teams") or MarkedDict((0, 0))
    return SeatSpec(
        organization=data["organization"],
        users=tuple(UserGrant(login=name, **grant_fields("users", name, users)) for name in users),
        teams=tuple(TeamGrant(slug=name, **grant_fields("teams", name, teams)) for name in teams),
        settings=settings,
        path=file,
    )
