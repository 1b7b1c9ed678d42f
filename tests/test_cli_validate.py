"""``copilot-seats validate`` through the installed console script: output, JSON and exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "copilot-seats"
VALID = "organization: octo-demo\nusers:\n  alice:\n    owner: platform\n"
INVALID = "organization: octo-demo\nusers:\n  alice:\n    ownr: platform\n  bob/x:\n"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "validate", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "valid": tmp_path / "seats.yaml",
        "invalid": tmp_path / "broken" / "seats.yaml",
        "expired": tmp_path / "expired.yaml",
    }
    paths["invalid"].parent.mkdir()
    paths["valid"].write_text(VALID)
    paths["invalid"].write_text(INVALID)
    paths["expired"].write_text("organization: octo-demo\nusers:\n  carol:\n    expires: 2026-01-31\n")
    return paths


def test_console_script_is_installed() -> None:
    assert SCRIPT.is_file(), f"{SCRIPT} missing: pip install -e . in the venv"


def test_example_seats_yaml_is_valid_from_the_repo_root() -> None:
    result = run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "seats.yaml: valid (40 users, 2 teams;" in result.stdout


def test_invalid_file_prints_located_errors_and_exits_1(files: dict[str, Path]) -> None:
    result = run(str(files["invalid"]))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    path = str(files["invalid"])
    assert lines[0].startswith(f"{path}:4:5: error: unknown key 'ownr'")
    assert "did you mean 'owner'" in lines[0]
    assert lines[1].startswith(f"{path}:5:3: error: invalid login 'bob/x'")
    assert lines[-1] == f"{path}: invalid (2 errors, 0 warnings)"
    assert "Traceback" not in result.stderr


def test_warnings_do_not_fail_and_today_is_configurable(files: dict[str, Path]) -> None:
    path = str(files["expired"])
    late = run(path, "--today", "2026-02-01")
    assert late.returncode == 0
    assert late.stdout.splitlines()[0] == (
        f"{path}:4:14: warning: grant for 'carol' expired on 2026-01-31 (today is 2026-02-01): "
        "remove the entry or extend 'expires'"
    )
    assert late.stdout.splitlines()[-1] == f"{path}: valid (1 user, 0 teams; 0 errors, 1 warning)"
    early = run(path, "--today", "2026-01-31")
    assert early.returncode == 0 and "warning:" not in early.stdout


def test_json_output_is_one_object_across_all_paths(files: dict[str, Path]) -> None:
    result = run(
        str(files["valid"]),
        str(files["invalid"]),
        str(files["expired"]),
        "--format",
        "json",
        "--today",
        "2026-11-25",
    )
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert set(report) == {"valid", "errors", "warnings"}
    assert report["valid"] is False
    assert [(e["file"], e["line"], e["column"]) for e in report["errors"]] == [
        (str(files["invalid"]), 4, 5),
        (str(files["invalid"]), 5, 3),
    ]
    assert all(set(p) == {"file", "line", "column", "message"} for p in report["errors"] + report["warnings"])
    assert [(w["file"], w["line"]) for w in report["warnings"]] == [(str(files["expired"]), 4)]


def test_json_output_for_a_valid_file(files: dict[str, Path]) -> None:
    result = run(str(files["valid"]), "--format", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"valid": True, "errors": [], "warnings": []}


def test_summary_counts_invalid_files_when_given_several(files: dict[str, Path]) -> None:
    result = run(str(files["valid"]), str(files["invalid"]))
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "2 files: invalid (2 errors, 0 warnings; 1 of 2 files invalid)"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", ":1:1: error: seats.yaml is empty"),
        (b"organization: octo-demo\nusers:\n\talice:\n", ":3:1: error: tab character used for indentation"),
        (b"organization: octo-demo\nusers:\n  al\xffice:\n", ":3:5: error: file is not valid UTF-8"),
        (b"a: &a [x]\nb: *a\n", ":1:4: error: YAML anchor '&a' is not allowed"),
        (b"organization: octo-demo\nusers: [alice\n", ":3:1: error: YAML syntax error"),
    ],
    ids=["empty", "tabs", "not-utf8", "alias", "syntax"],
)
def test_bad_input_is_a_located_error_with_exit_1(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "seats.yaml"
    path.write_bytes(content)
    result = run(str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(str(path) + fragment), result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["does-not-exist.yaml"], "does not exist"),
        (["--format", "xml"], "'xml' is not one of"),
        (["--today", "tomorrow"], "tomorrow"),
    ],
    ids=["missing-path", "bad-format", "bad-today"],
)
def test_usage_errors_exit_2(args: list[str], fragment: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert fragment in result.stderr


def test_default_path_missing_is_a_usage_error(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.returncode == 2
    assert "'seats.yaml' does not exist" in result.stderr


def test_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = run(str(tmp_path))
    assert result.returncode == 2
    assert "is a directory" in result.stderr


def test_help_explains_exit_codes() -> None:
    result = subprocess.run([str(SCRIPT), "validate", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "0 valid (warnings allowed), 1 invalid, 2 usage error" in " ".join(result.stdout.split())


def test_pre_commit_hook_runs_validate_on_seats_files() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "copilot-seats-validate"
    assert hook["entry"] == "copilot-seats validate"
    pattern = re.compile(hook["files"])
    assert [
        p for p in ["seats.yaml", "org/seats.yml", "overseats.yaml", "seats.yaml.bak"] if pattern.search(p)
    ] == [
        "seats.yaml",
        "org/seats.yml",
    ]


def test_org_refuses_a_file_naming_another_organization_at_its_line(tmp_path: Path) -> None:
    seats = tmp_path / "seats.yaml"
    seats.write_text("# from a pull request\norganization: other-org\nusers:\n  alice:\n")
    result = run("--org", "octo-demo", str(seats))
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(
        f"{seats}:2:15: error: organization 'other-org' is not 'octo-demo', the organization this repository manages")
    as_json = run("--org", "octo-demo", "--format", "json", str(seats))
    assert json.loads(as_json.stdout)["valid"] is False


def test_org_comes_from_copilot_seats_org_and_compares_case_insensitively(files: dict[str, Path]) -> None:
    env = {**os.environ, "COPILOT_SEATS_ORG": "Octo-Demo"}
    same = subprocess.run([str(SCRIPT), "validate", str(files["valid"])], capture_output=True, text=True,
                          timeout=60, env=env, check=False)
    assert same.returncode == 0, same.stdout
    other = subprocess.run([str(SCRIPT), "validate", str(files["valid"])], capture_output=True, text=True,
                           timeout=60, env={**env, "COPILOT_SEATS_ORG": "acme"}, check=False)
    assert other.returncode == 1 and "is not 'acme'" in other.stdout
    bad = run("--org", "../x", str(files["valid"]))
    assert bad.returncode == 2 and "--org (COPILOT_SEATS_ORG)" in bad.stderr
