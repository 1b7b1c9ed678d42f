"""Making untrusted strings inert in the outputs people read: Markdown, CSV and terminals.

Strings from GitHub (``last_activity_editor``, logins, team slugs, names) and from seats.yaml
(owner, reason, exemption reasons) end up in PR comments and job summaries (Markdown), in
finance's spreadsheets (CSV) and on terminals. Each function here makes one such string safe
for one kind of output, whatever it contains:

* :func:`md_text`: a run of Markdown text, on one line, that renders as the literal characters:
  no headings, lists, links, images, HTML, emphasis, table cells, autolinked URLs, domains or
  e-mail addresses, and no mentions. A word that a renderer could turn into a link or a mention
  (it holds ``@``, ``://``, ``www.`` or looks like a domain) is shown as inline code, which no
  CommonMark/GFM renderer links and GitHub never mentions from; every other punctuation
  character that could start structure is a numeric character reference;
* :func:`md_code`: the same string as inline code (logins, slugs, editor strings), safe inside a
  table cell;
* :func:`csv_cell`: a spreadsheet cell that is never evaluated as a formula (OWASP's rule: a
  leading ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a ``'`` in front);
* :func:`one_line`: plain text for a terminal or a single-line message: line breaks and other
  control characters (escape sequences included) become visible ``\\xNN`` escapes.

Invisible and direction-changing characters (C0/C1 controls, line/paragraph separators, and
Unicode's format characters: bidi embeddings, overrides and isolates U+202A..U+202E and
U+2066..U+2069, the marks U+200E/U+200F/U+061C, zero-width U+200B..U+200D, U+2060..U+2064,
U+FEFF, the soft hyphen...) never reach the output: Markdown writers replace them with a space,
:func:`one_line` with a visible escape. tests/test_markdown_inert.py renders hostile text with
markdown-it-py (CommonMark, GFM tables and strikethrough, linkify) and checks the token stream.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["CSV_FORMULA_PREFIXES", "csv_cell", "md_code", "md_text", "one_line"]

CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these may be evaluated by a spreadsheet (Excel, LibreOffice, Sheets)."""

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
"""Controls, format characters (bidi, zero-width, soft hyphen, ...), line and paragraph
separators, private use, surrogates and unassigned code points: nothing a reader sees as text."""

_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>#!|~&@$]|:(?=\S)|(?<=[wW]{3})\.")
"""What can start structure inline: escapes, code, emphasis, links/images, HTML and entities,
headings, tables, strikethrough, mentions, schemes, emoji shortcodes (a ``:`` that ends a word,
as in ``owner: eng``, starts none), math."""

_LINKISH = re.compile(r"[@\uff20\ufe6b]|:/|\w[.\u3002\uff0e\uff61]\w")
"""A word a renderer could autolink or mention: an ``@`` (mention, e-mail), a scheme, or a dot
between letters or digits (``www.``, a domain as linkify's fuzzy mode reads ``example.com``)."""

_LIST_START = re.compile(r"[-+]|\d+[.)]")
"""What would make the start of a line a list item."""


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in _INVISIBLE_CATEGORIES or (ch.isspace() and ch != " ")


def one_line(text: str) -> str:
    """``text`` with every control or invisible character (line breaks, ESC, bidi overrides,
    zero-width characters) as a visible escape."""
    def escape(ch: str) -> str:
        if not _invisible(ch):
            return ch
        return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
    return "".join(escape(ch) for ch in text)


def _flatten(text: str) -> str:
    """Line breaks, other whitespace and invisible characters become single spaces."""
    return re.sub(" {2,}", " ", "".join(" " if _invisible(ch) else ch for ch in text)).strip()


def _md_word(word: str) -> str:
    if _LINKISH.search(word):
        return md_code(word)
    return _MD_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", word)


def md_text(text: str) -> str:
    """``text`` as literal Markdown text on one line (safe in a table cell or after a list marker).

    A word that could become a link or a mention is an inline code span (:func:`md_code`): no
    renderer links inside code, and GitHub mentions nobody from it. In the other words every
    ASCII punctuation character that Markdown, GitHub's extensions (tables, autolinks, mentions,
    emoji shortcodes) or HTML could give a meaning is written as a numeric character reference,
    which renders as the character itself and starts nothing; so is a leading list marker.
    """
    out = " ".join(_md_word(word) for word in _flatten(text).split(" ") if word)
    start = _LIST_START.match(out)
    if start:
        end = start.end() - 1
        out = f"{out[:end]}&#{ord(out[end])};{out[end + 1:]}"
    return out


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
