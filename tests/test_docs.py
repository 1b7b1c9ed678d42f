"""The README is part of the product: its two fresh-machine commands, CI, and command docs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from copilot_seats.cli import main

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
CLI = Path(sys.executable).parent / "copilot-seats"


def first_code_block(text: str) -> list[str]:
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", text, re.S)
    assert block, "README has no code block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.split("#")[0].strip()]


def test_readme_starts_with_exactly_two_commands_demo_then_tests() -> None:
    assert first_code_block(README) == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    intro = README.split("```")[0]
    assert len(intro.splitlines()) < 12, "the two commands come first"


def test_ci_runs_the_readmes_test_command_and_nothing_else() -> None:
    commands = [line for line in (REPO / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1].strip() == "exec bash scripts/test.sh"
    assert not any("pytest" in c or "skip" in c for c in commands)


@pytest.mark.parametrize("name", sorted(main.commands), ids=str)
def test_every_command_has_help_and_is_documented(name: str) -> None:
    command = main.commands[name]
    assert isinstance(command, click.Command) and (command.help or "").strip()
    docs = README + "".join(p.read_text() for p in (REPO / "docs").glob("*.md"))
    assert f"copilot-seats {name}" in docs


def test_console_script_lists_every_command() -> None:
    out = subprocess.run([str(CLI), "--help"], capture_output=True, text=True, check=True).stdout
    for name in main.commands:
        assert name in out


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_docs_linked_from_readme_exist() -> None:
    for link in re.findall(r"\]\((docs/[^)]+)\)", README):
        path, _, anchor = link.partition("#")
        assert (REPO / path).exists(), link
        if anchor:
            headings = re.findall(r"(?m)^#+ (.+)$", (REPO / path).read_text())
            assert anchor in {_slug(h) for h in headings}, link
