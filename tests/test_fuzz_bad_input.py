"""Fuzz suite for issue 11 (hypothesis, bounded, seeded: the same inputs every run).

* **seats.yaml**: 10,000 mutations of valid files (inserted YAML syntax, tags of every kind,
  anchors, control and non-ASCII characters, deleted spans, re-indented and duplicated lines,
  corrupted UTF-8) through the loader (``check_spec``); 1,000 more through the real ``validate``
  command (written to disk, checked in batches) and 300 through ``report`` against a simulator.
  Properties: no exception ever; a spec xor errors; every problem located inside the file and
  explained; ``validate`` exits 0/1 with one located line per problem; ``report`` sends no
  request for an invalid file.
* **GitHub payloads**: 1,000 malformed seat listings and 500 malformed billing objects through
  the parsers and ``fetch_snapshot`` (over ``httpx.MockTransport``) and every renderer; 60
  listings through ``report`` against the simulator. Properties: a snapshot or a
  ``ResponseError`` that names the request and the field, never another exception.

Counts are asserted (not just configured), so a run that silently generated fewer fails.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from click.testing import CliRunner
from conftest import RunningSimulator
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from copilot_seats.cli import main
from copilot_seats.decisions.analysis import compare
from copilot_seats.desired.loader import CheckResult, check_spec
from copilot_seats.errors import ResponseError, SpecProblem
from copilot_seats.github.api import CopilotClient
from copilot_seats.github.live import fetch_snapshot
from copilot_seats.reports.render import render, report_data

T = TypeVar("T")
TODAY = date(2026, 11, 25)
SEATS_FILES = 10_000
FILES_PER_EXAMPLE = 10
VALIDATE_FILES = 1_000
REPORT_FILES = 300
SEAT_PAYLOADS = 1_000
BILLING_PAYLOADS = 500
REPORT_PAYLOADS = 60


def bounded(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


SEEDS = [
    "organization: acme\nusers:\n  alice:\n    owner: platform\n    reason: Core work\n"
    "    expires: 2027-03-31\n  bob: {}\nteams:\n  platform:\n    owner: lead\n",
    "organization: acme\nsettings:\n  mode: authoritative\n  plan: enterprise\n  seat_price_usd: 39\n"
    "users:\n  Alice:\n    requested_by: carol\n    stale_exemption:\n      reason: leave\n"
    "      until: 2027-01-01\n",
    "# comment\norganization: octo-demo  # org\nusers: {alice: {owner: a}, bob: null}\nteams: {}\n",
]
SNIPPETS = [
    ":", ": ", "- ", "-", "?", "? ", "[", "]", "{", "}", ",", "#", "&a ", "*a", "!", "!!", "|", "|-\n", ">",
    "'", '"', "\\", "%YAML 1.1\n", "---\n", "...\n", "<<: ", "~", "null", "yes", "no", "on", "0x1G", "1e999",
    ".nan", "2026-02-30", "2026-13-01", "0b_", "\t", "\n", "\n  ", "\n    ", "\r\n", "\x00", "\x1b[2J", "\x7f",
    "\x85", "\u2028", "\ufeff", "é", "İ", "😀", "\u202e", "=1+1", "@team", "../", "%2e", "a" * 50, "owner",
    "users:", "teams:", "organization: ", "settings:", "expires: ", "until: ", "stale_exemption:",
    *(f"!!{tag} " for tag in ("seq", "map", "str", "int", "float", "bool", "null", "timestamp", "binary",
                              "set", "omap", "pairs", "python/object:os.system", "merge", "value")),
    "!custom ", "!<tag:yaml.org,2002:seq> ", "!!seq {a: 1}", "!!map [a, b]", "!!bool maybe", "{a: 1}", "[1, 2]",
]


class Genome:
    """Reads choices from fuzz bytes (hypothesis draws one ``binary`` per example: cheap to
    generate, and shrinking the bytes shrinks the mutations). Past the end, every read is 0."""

    def __init__(self, data: bytes) -> None:
        # The drawn bytes lead; a hash of them follows, so even short or all-zero draws (which
        # hypothesis tries first) still make varied choices.
        self.data, self.at = data + hashlib.sha256(data).digest() * 4, 0

    def byte(self) -> int:
        self.at += 1
        return self.data[self.at - 1] if self.at <= len(self.data) else 0

    def below(self, bound: int) -> int:
        """A number in ``range(bound)`` (two bytes of entropy)."""
        return ((self.byte() << 8) | self.byte()) % bound if bound > 1 else 0

    def pick(self, options: Sequence[T]) -> T:
        return options[self.below(len(options))]


def mutate_seats(genome: Genome) -> str | bytes:
    """A valid seed with 1-5 mutations; sometimes as bytes with a corrupted byte."""
    text = genome.pick(SEEDS)
    for _ in range(1 + genome.below(5)):
        at = genome.below(len(text) + 1)
        kind = genome.below(6)
        if kind <= 1:
            text = text[:at] + genome.pick(SNIPPETS) + text[at:]
        elif kind == 2:
            text = text[:at] + "".join(chr(genome.pick(CODEPOINTS)) for _ in range(1 + genome.below(4))) + text[at:]
        elif kind == 3:
            text = text[:at] + text[at + 1 + genome.below(30):]
        else:
            lines = text.split("\n")
            index = genome.below(len(lines))
            if kind == 4:
                lines.insert(index, lines[index])
            else:
                lines[index] = " " * genome.below(7) + lines[index].lstrip(" ")
            text = "\n".join(lines)
    if genome.below(10) == 0:
        raw = bytearray(text.encode("utf-8", "surrogatepass"))
        if raw:
            raw[genome.below(len(raw))] = 0x80 + genome.below(0x80)
        return bytes(raw)
    return text


CODEPOINTS = [*range(0x20, 0x7F), 0x00, 0x09, 0x0A, 0x0D, 0x1B, 0x7F, 0x85, 0xA0, 0xE9, 0x130, 0x2028,
              0x202E, 0xFEFF, 0xD800, 0x1F600, 0xFFFE]
GENOMES = st.binary(min_size=4, max_size=48)


def _lines(source: str | bytes) -> int:
    text = source if isinstance(source, str) else source.decode("utf-8", "replace")
    return len(text.splitlines()) + text.count("\x85") + text.count("\u2028") + text.count("\u2029") + 1


def assert_located(result: CheckResult, file: str, lines: int) -> None:
    assert (result.spec is None) == bool(result.errors)
    for problem in [*result.errors, *result.warnings]:
        assert isinstance(problem, SpecProblem) and problem.file == file and problem.message.strip()
        if problem.line == 0:  # only the file as a whole (size, unreadable) has no line
            assert problem.message.startswith(("file is too large", "cannot read")), problem
        else:
            assert 1 <= problem.line <= lines and problem.column >= 1, (problem, lines)


def test_fuzz_seats_yaml_through_the_loader() -> None:
    seen: Counter[str] = Counter()

    @seed(11)
    @bounded(SEATS_FILES // FILES_PER_EXAMPLE)
    @given(GENOMES)
    def check(data: bytes) -> None:
        for variant in range(FILES_PER_EXAMPLE):  # one draw, ten files: hypothesis' overhead per file / 10
            source = mutate_seats(Genome(data + bytes([variant])))
            result = check_spec(source, "fuzz.yaml", today=TODAY)  # any exception fails the test
            assert_located(result, "fuzz.yaml", _lines(source))
            seen["files"] += 1
            seen["invalid" if result.errors else "valid"] += 1

    check()
    print(f"\nfuzz: {seen['files']} mutated seats.yaml through the loader: {seen['invalid']} invalid, "
          f"{seen['valid']} valid, 0 tracebacks")
    assert seen["files"] >= SEATS_FILES and seen["invalid"] > SEATS_FILES // 2 and seen["valid"] > 0


def test_fuzz_seats_yaml_through_validate(tmp_path: Path) -> None:
    files: list[Path] = []

    @seed(12)
    @bounded(VALIDATE_FILES)
    @given(GENOMES)
    def collect(data: bytes) -> None:
        source = mutate_seats(Genome(data))
        path = tmp_path / f"s{len(files)}.yaml"
        path.write_bytes(source if isinstance(source, bytes) else source.encode("utf-8", "surrogatepass"))
        files.append(path)

    collect()
    assert len(files) >= VALIDATE_FILES
    runner = CliRunner()
    invalid = 0
    for start in range(0, len(files), 250):
        batch = files[start:start + 250]
        for path in batch:
            alone = runner.invoke(main, ["validate", "--today", "2026-11-25", "--format", "json", str(path)])
            assert alone.exception is None or isinstance(alone.exception, SystemExit), alone.output
            assert alone.exit_code in (0, 1), alone.output
            report = json.loads(alone.output)
            assert report["valid"] == (alone.exit_code == 0)
            invalid += not report["valid"]
            lines = _lines(path.read_bytes())
            for problem in report["errors"]:
                assert problem["file"] == str(path) and problem["message"]
                assert (1 <= problem["line"] <= lines) or problem["message"].startswith(("file is too large",
                                                                                         "cannot read"))
    print(f"\nfuzz: {len(files)} mutated seats.yaml through `copilot-seats validate`: {invalid} invalid")
    assert invalid > 0


def test_fuzz_invalid_seats_yaml_through_report_sends_nothing(simulator: RunningSimulator, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", simulator.token)
    monkeypatch.setenv("GITHUB_API_URL", simulator.base_url)
    runner = CliRunner()
    seen: Counter[str] = Counter()

    @seed(13)
    @bounded(REPORT_FILES)
    @given(GENOMES)
    def check(data: bytes) -> None:
        source = mutate_seats(Genome(data))
        path = tmp_path / "seats.yaml"
        path.write_bytes(source if isinstance(source, bytes) else source.encode("utf-8", "surrogatepass"))
        simulator.state.log.clear()
        result = runner.invoke(main, ["report", "--seats", str(path), "--format", "json", "--org", "acme"])
        assert "Traceback" not in result.output and "internal error" not in result.output, result.output
        assert isinstance(result.exception, SystemExit | None), result.exception
        valid = check_spec(path.read_bytes(), str(path)).valid
        if valid:
            assert result.exit_code == 0, result.output
            seen["valid"] += 1
        else:
            assert result.exit_code == 1 and "is invalid" in result.output, result.output
            assert simulator.requests == [], "an invalid seats.yaml reached the API"
            seen["invalid"] += 1
        seen["files"] += 1

    check()
    print(f"\nfuzz: {seen['files']} mutated seats.yaml through `copilot-seats report`: {seen['invalid']} invalid "
          "(0 requests each)")
    assert seen["files"] >= REPORT_FILES and seen["invalid"] > 0


# -- GitHub payloads ----------------------------------------------------------------------------

ODD_SCALARS: list[Any] = [None, True, False, 0, -1, 2**63, 1.5, -0.0, 1e308, "", "x", "2026-13-45", "yesterday",
                          "2026-11-01", "2026-11-01T00:00:00Z", "2026-11-01T25:00:00+01:00", "\u0000", "=1+1",
                          "\n# heading", "<img src=x>", "a|b", "😀", "@team", "../..", [], {}]


def json_value(genome: Genome, depth: int = 0) -> Any:
    """Any JSON value: mostly odd scalars, sometimes a small list or object of them."""
    kind = genome.below(8) if depth < 2 else 0
    if kind == 6:
        return [json_value(genome, depth + 1) for _ in range(genome.below(4))]
    if kind == 7:
        return {genome.pick(["login", "slug", "seats", "created_at", "x", ""]): json_value(genome, depth + 1)
                for _ in range(genome.below(4))}
    return genome.pick(ODD_SCALARS)


SEAT = {"created_at": "2025-03-01T10:00:00Z", "updated_at": None, "pending_cancellation_date": None,
        "last_activity_at": "2026-11-20T08:00:00-06:00", "last_activity_editor": "vscode/1.9/copilot/1.2",
        "last_authenticated_at": "2026-11-20T08:00:00Z", "plan_type": "business",
        "assignee": {"login": "alice", "id": 1, "type": "User"}, "assigning_team": {"slug": "platform"},
        "organization": {"login": "acme"}}
BILLING = {"seat_breakdown": {"total": 3, "added_this_cycle": 1, "pending_invitation": 0,
                              "pending_cancellation": 0, "active_this_cycle": 2, "inactive_this_cycle": 1},
           "seat_management_setting": "assign_selected", "public_code_suggestions": "allow",
           "ide_chat": "enabled", "platform_chat": "enabled", "cli": "disabled", "plan_type": "business"}


def broken(genome: Genome, template: dict[str, Any]) -> Any:
    """``template`` with 1-3 fields removed or replaced by any JSON value (sometimes nested)."""
    value = json.loads(json.dumps(template))
    for _ in range(1 + genome.below(3)):
        target, key = value, genome.pick(sorted(value))
        if isinstance(value[key], dict) and value[key] and genome.below(2):
            target, key = value[key], genome.pick(sorted(value[key]))
        if genome.below(2):
            target.pop(key, None)
        else:
            target[key] = json_value(genome)
    return value


def seat_listing(genome: Genome) -> Any:
    """A listing whose seats are broken seats, good seats or any JSON; sometimes no listing at all."""
    seats = [genome.pick([lambda: broken(genome, SEAT), lambda: SEAT, lambda: json_value(genome)])()
             for _ in range(1 + genome.below(4))]
    body = {"total_seats": len(seats) if genome.below(3) else json_value(genome), "seats": seats}
    return body if genome.below(4) else json_value(genome)


class _Served:
    """One reusable mock GitHub whose billing and listing bodies each example sets."""

    def __init__(self) -> None:
        self.billing: Any = BILLING
        self.listing: Any = {}
        self.client = CopilotClient("https://api.example.test", "fuzz-token-0123456789", read_only=True,
                                    transport=httpx.MockTransport(self.handle), sleep=lambda _s: None)

    def handle(self, request: httpx.Request) -> httpx.Response:
        payload = self.listing if request.url.path.endswith("/seats") else self.billing
        return httpx.Response(200, content=json.dumps(payload).encode(),
                              headers={"content-type": "application/json"})


def _render_all(snapshot: Any) -> None:
    from copilot_seats.desired.loader import parse_spec

    spec = parse_spec("organization: acme\nusers:\n  alice: {}\nteams:\n  platform: {}\n")
    comparison = compare(spec, snapshot, snapshot.fetched_at, 60, 14)
    data = report_data(comparison, snapshot, Decimal(19), Decimal(19))
    for fmt in ("json", "csv", "table", "markdown"):
        render(fmt, data)


def _payload_property(served: _Served, billing: Any, listing: Any, seen: Counter[str]) -> None:
    served.billing, served.listing = billing, listing
    try:
        snapshot = fetch_snapshot(served.client, "acme", now=datetime(2026, 11, 25, tzinfo=UTC))
    except ResponseError as exc:
        assert exc.where.startswith("GET https://api.example.test/orgs/acme/copilot/billing"), exc
        assert exc.field or "JSON" in exc.problem, exc  # a located field, or the body as a whole
        seen["refused"] += 1
    else:
        _render_all(snapshot)
        seen["accepted"] += 1
    seen["payloads"] += 1


def test_fuzz_malformed_seat_listings() -> None:
    seen: Counter[str] = Counter()
    served = _Served()

    @seed(14)
    @bounded(SEAT_PAYLOADS)
    @given(GENOMES)
    def check(data: bytes) -> None:
        _payload_property(served, BILLING, seat_listing(Genome(data)), seen)

    check()
    print(f"\nfuzz: {seen['payloads']} malformed seat listings: {seen['refused']} refused with a located "
          f"ResponseError, {seen['accepted']} accepted and rendered in 4 formats, 0 other exceptions")
    assert seen["payloads"] >= SEAT_PAYLOADS and seen["refused"] > SEAT_PAYLOADS // 2


def test_fuzz_malformed_billing() -> None:
    seen: Counter[str] = Counter()
    served = _Served()

    @seed(15)
    @bounded(BILLING_PAYLOADS)
    @given(GENOMES)
    def check(data: bytes) -> None:
        genome = Genome(data)
        billing = broken(genome, BILLING) if genome.below(4) else json_value(genome)
        _payload_property(served, billing, {"total_seats": 1, "seats": [SEAT]}, seen)

    check()
    print(f"\nfuzz: {seen['payloads']} malformed billing objects: {seen['refused']} refused, "
          f"{seen['accepted']} accepted")
    assert seen["payloads"] >= BILLING_PAYLOADS and seen["refused"] > 0


def test_fuzz_malformed_listings_through_report(simulator: RunningSimulator, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", simulator.token)
    monkeypatch.setenv("GITHUB_API_URL", simulator.base_url)
    seats = tmp_path / "seats.yaml"
    seats.write_text("organization: acme\nusers:\n  alice: {}\n")
    runner = CliRunner()
    codes: Counter[int] = Counter()

    @seed(16)
    @bounded(REPORT_PAYLOADS)
    @given(GENOMES, st.sampled_from(["json", "csv", "table", "markdown"]))
    def check(data: bytes, fmt: str) -> None:
        listing = seat_listing(Genome(data))
        simulator.state.faults.clear()
        simulator.state.inject(status=200, method="GET", path="/copilot/billing/seats", body=listing, times=100)
        result = runner.invoke(main, ["report", "--seats", str(seats), "--format", fmt])
        assert "Traceback" not in result.output and "internal error" not in result.output, result.output
        assert isinstance(result.exception, SystemExit | None), result.exception
        assert result.exit_code in (0, 3), result.output
        if result.exit_code == 3:
            assert "unexpected response from GitHub" in result.output and "/orgs/acme/copilot/billing/seats" \
                in result.output, result.output
        codes[result.exit_code] += 1
        assert simulator.writes == []

    check()
    print(f"\nfuzz: {sum(codes.values())} malformed listings through `copilot-seats report`: "
          f"{codes[3]} exit 3 (located), {codes[0]} exit 0")
    assert sum(codes.values()) >= REPORT_PAYLOADS and codes[3] > 0


