"""Keeping the GitHub token out of every message the project prints or logs.

The token is validated before it is used (:func:`copilot_seats.github.credentials.check_token`), and the
HTTP client keeps it in the ``Authorization`` header only, so it should never reach a message.
This is the second line of defence: every token a client is built with is :func:`remember`-ed,
and every message an entry point prints (CLI errors, the program's ``RunError``, log records of
the ``copilot_seats`` loggers) passes :func:`scrub`, which replaces the token in each form a
library may have rendered it: as is, Python-escaped (``repr`` of str or bytes: ``\\n``, ``\\x00``),
JSON-escaped, URL-encoded (``%20`` and ``+``), and each line or whitespace-separated piece of a
multi-line value that is long enough to be secret on its own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "RedactingFilter", "forget_all", "forms", "remember", "scrub"]

REDACTED = "***"

_MIN_LENGTH = 8
"""Secrets (and pieces of a multi-part secret) shorter than this are not redacted: no real token
is that short, and replacing every ``t`` of a message would destroy it, not protect anything."""

_lock = threading.Lock()
_secrets: set[str] = set()


def forms(secret: str) -> set[str]:
    """Every spelling of ``secret`` that a message might contain (longest first when sorted)."""
    found = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], quote(secret, safe=""),
             quote_plus(secret, safe=""), quote(secret)}
    with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate: only the str forms exist
        found.add(repr(secret.encode("utf-8"))[2:-1])
    pieces = secret.replace("\x00", " ").split()
    if len(pieces) > 1:
        found.update(piece for piece in pieces if len(piece) >= _MIN_LENGTH)
    return {form for form in found if len(form) >= _MIN_LENGTH}


def remember(secret: str) -> None:
    """Scrub ``secret`` from every later :func:`scrub` call in this process."""
    if len(secret) >= _MIN_LENGTH:
        with _lock:
            _secrets.add(secret)


def forget_all() -> None:
    """Forget every remembered secret (tests)."""
    with _lock:
        _secrets.clear()


def scrub(text: str, *secrets: str) -> str:
    """``text`` with every form of every remembered secret (and of ``secrets``) replaced by ``***``."""
    with _lock:
        known = _secrets | {s for s in secrets if s}
    if not known:
        return text
    for form in sorted({f for secret in known for f in forms(secret)}, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs remembered secrets from each record's final message.

    Attach it to a handler to cover every logger behind it (filters on a logger do not apply
    to its children); the package's own records are scrubbed at creation, see below.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub_record(record)
        return True


def _scrub_record(record: logging.LogRecord) -> None:
    if not _secrets:
        return
    message = record.getMessage()
    cleaned = scrub(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None


_previous_factory = logging.getLogRecordFactory()


def _factory(*args: object, **kwargs: object) -> logging.LogRecord:
    """Scrub the records of the ``copilot_seats`` loggers as they are created, before any handler."""
    record = _previous_factory(*args, **kwargs)
    if record.name == "copilot_seats" or record.name.startswith("copilot_seats."):
        _scrub_record(record)
    return record


logging.setLogRecordFactory(_factory)
