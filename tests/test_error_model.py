"""The error model of issue 11, unit by unit: the tree, the CLI's one mapping, token checks,
scrubbing of every form of the token, name checks, safe text, and the provider's lifeline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import click
import httpx
import pytest
from click.testing import CliRunner

from copilot_seats import errors, redact
from copilot_seats.cli.failures import EXIT_API, EXIT_INVALID, EXIT_USAGE, MappedGroup, exit_code_for
from copilot_seats.desired.names import check_name, name_problem
from copilot_seats.desired.seats_edit import SeatsEditError
from copilot_seats.errors import (
    ApiError,
    AuthError,
    CheckFailed,
    ConfigError,
    CopilotSeatsError,
    CredentialsError,
    EditError,
    GuardError,
    InputError,
    RateLimitError,
    ResponseError,
    SpecError,
    SpecProblem,
    TransportError,
)
from copilot_seats.escape import csv_cell, md_code, md_text, one_line
from copilot_seats.github.api import CopilotClient
from copilot_seats.github.credentials import check_token

TOKEN = "fake-token-for-scrub-tests-0123456789"


@pytest.fixture(autouse=True)
def _forget_secrets() -> None:
    redact.forget_all()


def test_every_error_of_the_package_is_in_the_tree() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, Exception):
            assert issubclass(cls, CopilotSeatsError), name
    assert issubclass(SeatsEditError, EditError) and issubclass(CredentialsError, ConfigError)
    assert issubclass(ResponseError, ApiError)
    from copilot_seats.github import credentials
    assert credentials.CredentialsError is CredentialsError


@pytest.mark.parametrize(("error", "code"), [
    (SpecError([SpecProblem("s.yaml", 1, 1, "bad")]), EXIT_INVALID),
    (EditError("x"), EXIT_INVALID), (CheckFailed("drift"), EXIT_INVALID), (GuardError("x"), EXIT_INVALID),
    (InputError("fixture.json"), EXIT_INVALID),
    (ConfigError("--org"), EXIT_USAGE), (CredentialsError("GITHUB_TOKEN"), EXIT_USAGE),
    (TransportError("x"), EXIT_API), (ResponseError("GET u", "seats[0]", "bad"), EXIT_API),
    (AuthError(401, "GET", "u", "m"), EXIT_API), (RateLimitError(403, "GET", "u", "m"), EXIT_API),
])
def test_one_mapping_from_the_tree_to_exit_codes(error: CopilotSeatsError, code: int) -> None:
    assert exit_code_for(error) == code


def _group_raising(exc: BaseException) -> click.Group:
    @click.group(cls=MappedGroup)
    def group() -> None:
        pass

    @group.command()
    def boom() -> None:
        raise exc

    return group


@pytest.mark.parametrize(("exc", "code", "text"), [
    (CredentialsError(f"GITHUB_TOKEN is malformed near {TOKEN}"), 2, "error: GITHUB_TOKEN is malformed near ***"),
    (ResponseError("GET https://x/orgs/a", "seats[2].created_at", "expected a timestamp"), 3,
     "error: GET https://x/orgs/a: unexpected response from GitHub at seats[2].created_at"),
    (SpecError([SpecProblem("s.yaml", 3, 5, "bad key")]), 1, "s.yaml is invalid (1 problem); nothing was sent"),
    (FileNotFoundError(2, "No such file or directory", "out/x.md"), 1, "error: out/x.md: No such file or directory"),
    (RuntimeError(f"unexpected {TOKEN}"), 1, "internal error (a bug in copilot-seats"),
])
def test_cli_mapping_prints_one_scrubbed_line_and_no_traceback(exc: BaseException, code: int, text: str) -> None:
    redact.remember(TOKEN)
    result = CliRunner().invoke(_group_raising(exc), ["boom"])
    assert result.exit_code == code and text in result.output, result.output
    assert "Traceback" not in result.output and TOKEN not in result.output


def test_check_failed_with_no_message_prints_nothing_more() -> None:
    result = CliRunner().invoke(_group_raising(CheckFailed("")), ["boom"])
    assert result.exit_code == 1 and result.output == ""


@pytest.mark.parametrize(("value", "fragment"), [
    ("", "is empty"), ("   ", "is empty"), ("secretpart1 secretpart2", "character 12 of 23 is whitespace"),
    ("secretpart1\nsecretpart2", "a line break"), ("secretpart1\x00secretpart2", "a control character"),
    ("secretpart1é", "a non-ASCII character"), ("secretpart1\x7fsecretpart2", "a control character"),
])
def test_malformed_tokens_are_named_never_shown(value: str, fragment: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        check_token(value, "github:token")
    message = str(caught.value)
    assert message.startswith("github:token is") and fragment in message
    assert "secretpart" not in message


def test_surrounding_whitespace_is_trimmed_and_a_good_token_passes() -> None:
    assert check_token(f"  {TOKEN}\n", "GITHUB_TOKEN") == TOKEN


def test_client_refuses_a_malformed_token_before_any_request() -> None:
    sent: list[httpx.Request] = []
    with pytest.raises(CredentialsError):
        CopilotClient("https://api.example.test", "a\nb-0123456789", transport=httpx.MockTransport(sent.append))
    assert sent == []


@pytest.mark.parametrize("form", [
    lambda t: t, lambda t: repr(t)[1:-1], lambda t: repr(t.encode())[2:-1], lambda t: json.dumps(t),
    lambda t: quote(t, safe=""), lambda t: quote_plus(t), lambda t: f"b'Bearer {t}'",
], ids=["raw", "repr", "bytes-repr", "json", "url", "url-plus", "header"])
@pytest.mark.parametrize("token", [TOKEN, TOKEN + "\nsecond line of the file", TOKEN + "\x00tail-0123", "tök/en+=&%-x"])
def test_scrub_covers_escaped_quoted_and_url_encoded_forms(form: object, token: str) -> None:
    assert callable(form)
    message = f"LocalProtocolError: Illegal header value {form(token)} (and more)"
    cleaned = redact.scrub(message, token)
    assert "***" in cleaned
    for spelling in redact.forms(token):
        assert spelling not in cleaned


def test_remembered_tokens_are_scrubbed_from_package_log_records(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    redact.remember(TOKEN)
    with caplog.at_level(logging.INFO):
        logging.getLogger("copilot_seats.github.api").warning("server said %s", quote(TOKEN, safe=""))
    assert TOKEN not in caplog.text and quote(TOKEN, safe="") not in caplog.text and "***" in caplog.text


def test_short_strings_are_never_scrubbed() -> None:
    assert redact.scrub("the token t was used", "t") == "the token t was used"


@pytest.mark.parametrize("value", ["..", ".", "", "a/b", "a%2e", "a.b", "-a", "a-", "a--b", "a" * 40, "a\n", "ä"])
def test_org_names_follow_the_seats_yaml_login_rule(value: str) -> None:
    assert name_problem("organization", value) is not None
    with pytest.raises(ConfigError, match="--org"):
        check_name("organization", value, "--org")


def test_names_are_read_from_the_schema() -> None:
    from copilot_seats.desired.loader import check_spec

    for value in ["octo-demo", "A1", "a" * 39, "..", "a.b"]:
        schema_ok = check_spec(f"organization: '{value}'\n").valid
        assert schema_ok == (name_problem("organization", value) is None), value


def test_client_refuses_dot_segments_as_a_backstop() -> None:
    sent: list[httpx.Request] = []
    client = CopilotClient("https://api.example.test", TOKEN, transport=httpx.MockTransport(sent.append))
    for org in ("..", "."):
        with pytest.raises(ConfigError):
            client.get_billing(org)
    assert sent == []


@pytest.mark.parametrize("text", ["a\n# h", "![i](u)", "<b>x</b>", "[l](u)", "a|b", "@team", "https://x.y",
                                  "www.evil.com", "*em* _em_ ~~s~~", "$x$", "&amp;", "\\|", "`code`", "a\u2028b"])
def test_md_text_leaves_no_markdown_or_html_syntax(text: str) -> None:
    out = md_text(text)
    assert "\n" not in out and "\u2028" not in out
    prose = re.sub(r"(`+) .*? \1|(`+)[^`]+\2", "", out)  # link-like words are code spans: never links
    prose = re.sub(r"&#[0-9]+;", "", prose)  # numeric references render as the literal character
    for token in ("<", "](", "![", "|", "@", "://", "www.", "*", "_", "~", "$", "`", "#"):
        assert token not in prose, (token, out)


@pytest.mark.parametrize("text", ["a`b", "``", "`x`", "a|b", "x\ny", "plain"])
def test_md_code_spans_are_closed_and_table_safe(text: str) -> None:
    out = md_code(text)
    fence = out[: len(out) - len(out.lstrip("`"))]
    assert out.endswith(fence) and fence not in out[len(fence):-len(fence)]
    assert "\n" not in out and "|" not in out.replace("\\|", "")


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "  =x"])
def test_csv_formula_prefixes_are_neutralised(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["alice", "vscode/1.2", "2026-01-01", "", "a=b"])
def test_csv_plain_text_is_unchanged(text: str) -> None:
    assert csv_cell(text) == text


def test_one_line_shows_control_characters() -> None:
    assert one_line("a\x1b[2J\nb\u202e") == "a\\x1b[2J\\x0ab\\u202e"


def test_lifeline_exits_a_process_when_its_parent_dies(tmp_path: Path) -> None:
    """A grandchild that runs start_watch() exits once its parent is killed."""
    pid_file = tmp_path / "child.pid"
    child_script = tmp_path / "child.py"
    child_script.write_text("import os, time\nfrom copilot_seats import lifeline\nlifeline.start_watch()\n"
                            f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)\n")
    script = (f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, {str(child_script)!r}])\n"
              "time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "child never started"
            time.sleep(0.1)
        child = int(pid_file.read_text())
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child}").exists() and _state(child) != "Z":
            assert time.monotonic() < deadline, "the child outlived its parent"
            time.sleep(0.1)
    finally:
        if parent.poll() is None:
            parent.kill()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
