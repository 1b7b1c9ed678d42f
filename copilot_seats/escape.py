"""Making untrusted strings inert in the outputs people read: Markdown, CSV and terminals.

Strings from GitHub (``last_activity_editor``, logins, team slugs, names) and from seats.yaml
(owner, reason, exemption reasons) end up in PR comments and job summaries (Markdown), in
finance's spreadsheets (CSV) and on terminals. Each function here makes one such string safe
for one kind of output, whatever it contains:

* :func:`md_text`: a run of Markdown text, on one line, that renders as the literal characters:
  no headings, lists, links, images, HTML, emphasis, table cells or autolinked URLs/mentions;
* :func:`md_code`: the same string as inline code (logins, slugs, editor strings), safe inside a
  table cell;
* :func:`csv_cell`: a spreadsheet cell that is never evaluated as a formula (OWASP's rule: a
  leading ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a ``'`` in front);
* :func:`one_line`: plain text for a terminal or a single-line message: line breaks and other
  control characters (escape sequences included) become visible ``\\xNN`` escapes.
"""

from __future__ import annotations

import re

__all__ = ["CSV_FORMULA_PREFIXES", "csv_cell", "md_code", "md_text", "one_line"]

CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these may be evaluated by a spreadsheet (Excel, LibreOffice, Sheets)."""

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>#!|~&@:$]|(?<=[wW]{3})\.")
"""What can start structure inline: escapes, code, emphasis, links/images, HTML and entities,
headings, tables, strikethrough, mentions, scheme and ``www.`` autolinks, emoji, math."""


def one_line(text: str) -> str:
    """``text`` with every control character (line breaks, ESC, bidi overrides) as a visible escape."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def _flatten(text: str) -> str:
    """Line breaks and other control characters become single spaces."""
    return re.sub(" {2,}", " ", _CONTROL.sub(" ", text)).strip()


def md_text(text: str) -> str:
    """``text`` as literal Markdown text on one line (safe in a table cell).

    Every ASCII punctuation character that Markdown, GitHub's extensions (tables, autolinks,
    @mentions, emoji shortcodes) or HTML could give a meaning is written as a numeric
    character reference, which renders as the character itself and starts nothing.
    """
    return _MD_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", _flatten(text))


def md_code(text: str) -> str:
    """``text`` as an inline code span on one line, safe in a table cell.

    Code spans show their content literally (no links, HTML or mentions). The fence is one
    backtick longer than the longest run inside, and pipes are escaped as GitHub's tables require
    even inside code. An empty string is rendered as an empty code span's stand-in, ``""``.
    """
    flat = _flatten(text)
    if not flat:
        return '`""`'
    longest = max((len(run) for run in re.findall("`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat.replace('|', chr(92) + '|')}{pad}{fence}"


def csv_cell(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text: a formula prefix gets a leading ``'``.

    Leading spaces are looked through (``"  =1+1"`` is neutralised too). The CSV writer quotes
    line breaks and commas; this function only deals with formulas.
    """
    if text.lstrip(" ").startswith(CSV_FORMULA_PREFIXES) or text.startswith(CSV_FORMULA_PREFIXES):
        return "'" + text
    return text
