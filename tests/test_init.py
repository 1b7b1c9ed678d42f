"""``copilot-seats init``: a seats repository pinned to this release, working from an empty directory.

The scaffold's shims, workflows and setup action are this repository's own files (compared
here), one version (0.2.0) runs through the package, the pack, the scaffold and the docs, and
init -> import -> validate -> stack init -> preview works from an empty directory on the real
engine against the simulator.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SMALL_FIXTURE, RunningSimulator
from engine import PACK_LAUNCHER, REPO, PulumiResult, engine_lane, policy_violations, require_engine

from copilot_seats import __version__
from copilot_seats.scaffold import (
    ENGINE_PINS,
    MAIN_PY,
    POLICY_MAIN_PY,
    POLICY_YAML,
    PULUMI_CLI_VERSION,
    PULUMI_YAML,
    scaffold_files,
    write_files,
)

CLI = Path(sys.executable).parent / "copilot-seats"


def _pins() -> dict[str, str]:
    text = (REPO / "tools" / "pulumi-version.env").read_text()
    return dict(re.findall(r"(?m)^(PULUMI_\w+_VERSION)=(\S+)$", text))


def _init(target: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), "init", str(target), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, check=False)


def test_the_shims_are_this_repositorys_own_files() -> None:
    assert (REPO / "Pulumi.yaml").read_text() == PULUMI_YAML
    assert (REPO / "__main__.py").read_text() == MAIN_PY
    assert (REPO / "policies" / "PulumiPolicy.yaml").read_text() == POLICY_YAML
    assert (REPO / "policies" / "__main__.py").read_text() == POLICY_MAIN_PY


def test_the_workflows_and_setup_action_are_this_repositorys_own() -> None:
    files = scaffold_files("acme", "organization: acme\n", "@acme/admins")
    ours = {f".github/workflows/{p.name}": p.read_text() for p in (REPO / ".github" / "workflows").glob("*.yml")}
    ours[".github/actions/setup/action.yml"] = (REPO / ".github" / "actions" / "setup" / "action.yml").read_text()
    for name in ("dependabot.yml", "zizmor.yml"):
        ours[f".github/{name}"] = (REPO / ".github" / name).read_text()
    assert {k: v for k, v in files.items() if k in ours} == ours, \
        "copy .github/workflows/*.yml, .github/actions/setup/action.yml, .github/dependabot.yml and " \
        ".github/zizmor.yml into copilot_seats/templates/"
    assert set(ours) <= set(files)


def test_one_version_everywhere() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert __version__ == pyproject["project"]["version"] == "0.2.0"
    assert yaml.safe_load(POLICY_YAML)["version"] == __version__
    requirements = scaffold_files("acme", "", "@a/b")["requirements.txt"]
    assert f"copilot-seats=={__version__}" in requirements.splitlines()
    pins = _pins()
    tested = {"pulumi": pins["PULUMI_PYTHON_SDK_VERSION"], "pulumi-policy": pins["PULUMI_POLICY_SDK_VERSION"]}
    assert tested == ENGINE_PINS
    assert pins["PULUMI_CLI_VERSION"] == PULUMI_CLI_VERSION
    action = (REPO / ".github" / "actions" / "setup" / "action.yml").read_text()
    assert f'pulumi-version: "{PULUMI_CLI_VERSION}"' in action
    doc = (REPO / "docs" / "seats-format.md").read_text()
    assert re.findall(r"(?m)^\s+rev: (\S+)$", doc) == [f"v{__version__}"], "the pre-commit example pins this release"


def test_init_writes_a_pinned_repository_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "seats-repo"
    result = _init(target, "--org", "acme", "--owners", "@acme/seat-admins")
    assert result.returncode == 0, result.stderr
    assert (target / "requirements.txt").read_text().splitlines()[1] == f"copilot-seats=={__version__}"
    assert "/seats.yaml            @acme/seat-admins" in (target / ".github" / "CODEOWNERS").read_text()
    validated = subprocess.run([str(CLI), "validate", str(target / "seats.yaml")], capture_output=True, text=True,
                               timeout=60, check=False)
    assert validated.returncode == 0, validated.stdout + validated.stderr

    other = tmp_path / "half"
    other.mkdir()
    (other / "Pulumi.yaml").write_text("name: mine\n")
    again = _init(other, "--org", "acme")
    assert again.returncode == 0, again.stderr
    assert (other / "Pulumi.yaml").read_text() == "name: mine\n", "never overwritten"
    assert _skipped(again.stderr) == [
        "init: skipped Pulumi.yaml: it exists and differs from copilot-seats "
        f"{__version__}'s; init never overwrites (compare by hand)"]
    assert (other / "__main__.py").read_text() == MAIN_PY, "the missing files are written"


def _invoke_init(target: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    from click.testing import CliRunner

    from copilot_seats.cli import main

    return CliRunner().invoke(main, ["init", str(target), "--org", "acme", *args], env=env)


def _skipped(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("init: skipped ")]


def test_init_skips_every_existing_file_and_says_so_one_line_each(tmp_path: Path) -> None:
    target = tmp_path / "repo"
    (target / ".github" / "workflows").mkdir(parents=True)
    mine = {"seats.yaml": "organization: acme\nusers:\n  frank:\n    owner: me\n",
            ".github/CODEOWNERS": "* @me\n", "README.md": "mine\n"}
    for name, text in mine.items():
        (target / name).write_text(text)
    preview = scaffold_files("acme", "", "@acme/copilot-seat-admins")[".github/workflows/seats-preview.yml"]
    (target / ".github" / "workflows" / "seats-preview.yml").write_text(preview)  # this release's own copy
    (target / "requirements.txt").mkdir()  # not a file at all
    result = _invoke_init(target)
    assert result.exit_code == 0, result.output
    differs = f"it exists and differs from copilot-seats {__version__}'s; init never overwrites (compare by hand)"
    assert _skipped(result.stderr) == [
        f"init: skipped .github/CODEOWNERS: {differs}",
        f"init: skipped .github/workflows/seats-preview.yml: it exists, identical to copilot-seats {__version__}'s",
        f"init: skipped README.md: {differs}",
        "init: skipped requirements.txt: it exists and is not a regular file; init never overwrites",
        f"init: skipped seats.yaml: {differs}",
    ]
    for name, text in mine.items():
        assert (target / name).read_text() == text, f"{name} was overwritten"
    assert (target / "requirements.txt").is_dir()
    files = scaffold_files("acme", "", "@acme/copilot-seat-admins")
    written = {name for name in files if name not in mine and name not in (
        "requirements.txt", ".github/workflows/seats-preview.yml")}
    assert all((target / name).read_text() == files[name] for name in written), "every other file is written"
    assert f"init: wrote {len(written)} files in {target}" in result.stderr
    assert f"skipped {len(files) - len(written)} that exist" in result.stderr


def test_init_again_writes_nothing_and_lists_every_file(tmp_path: Path) -> None:
    target = tmp_path / "repo"
    assert _invoke_init(target).exit_code == 0
    before = _tree(target)
    (target / "Pulumi.yaml").write_text("name: changed\n")
    before["Pulumi.yaml"] = "name: changed\n"
    again = _invoke_init(target)
    assert again.exit_code == 0, again.output
    assert _tree(target) == before, "nothing changed"
    names = sorted(scaffold_files("acme", "", "@acme/copilot-seat-admins"))
    assert [line.split(":")[1].removeprefix(" skipped ") for line in _skipped(again.stderr)] == names
    assert sum("differs" in line for line in _skipped(again.stderr)) == 1, "only the edited Pulumi.yaml differs"
    assert f"init: wrote nothing in {target}: every file exists" in again.stderr


def test_init_import_reads_nothing_when_seats_yaml_exists(
        tmp_path: Path, make_simulator: Callable[..., RunningSimulator]) -> None:
    sim = make_simulator(SMALL_FIXTURE)
    target = tmp_path / "repo"
    target.mkdir()
    (target / "seats.yaml").write_text("organization: acme\n")
    result = _invoke_init(target, "--import", env=sim.env())
    assert result.exit_code == 0, result.output
    assert (target / "seats.yaml").read_text() == "organization: acme\n"
    assert [r.path for r in sim.requests] == [], "the kept seats.yaml needs no import"
    assert len(_skipped(result.stderr)) == 1


def _tree(root: Path) -> dict[str, str]:
    """Every path below ``root`` (links not followed) with its kind or link target."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        out[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else "dir" if path.is_dir() else path.read_text()
    return out


def _link_pulumi_yaml_dangling(target: Path, outside: Path) -> Path:
    (target / "Pulumi.yaml").symlink_to(outside / "Pulumi.yaml")  # does not exist yet
    return target / "Pulumi.yaml"


def _link_policies(target: Path, outside: Path) -> Path:
    (outside / "policies").mkdir()
    (target / "policies").symlink_to(outside / "policies", target_is_directory=True)
    return target / "policies"


def _link_github(target: Path, outside: Path) -> Path:
    (outside / "gh").mkdir()
    (target / ".github").symlink_to(outside / "gh", target_is_directory=True)
    return target / ".github"


def _link_workflows(target: Path, outside: Path) -> Path:
    (target / ".github").mkdir()
    (target / ".github" / "workflows").symlink_to(outside, target_is_directory=True)
    return target / ".github" / "workflows"


def _link_readme_to_a_file(target: Path, outside: Path) -> Path:
    (outside / "notes.md").write_text("mine\n")
    (target / "README.md").symlink_to(outside / "notes.md")
    return target / "README.md"


@pytest.mark.parametrize("make_link", [_link_pulumi_yaml_dangling, _link_policies, _link_github, _link_workflows,
                                       _link_readme_to_a_file], ids=lambda f: f.__name__[6:])
def test_init_refuses_symlinks_inside_dir_and_writes_nothing_anywhere(tmp_path: Path, make_link: Any) -> None:
    from click.testing import CliRunner

    from copilot_seats.cli import main

    target, outside = tmp_path / "repo", tmp_path / "outside"
    target.mkdir()
    outside.mkdir()
    link = make_link(target, outside)
    before = {"repo": _tree(target), "outside": _tree(outside)}
    result = CliRunner().invoke(main, ["init", str(target), "--org", "acme"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line]
    assert lines == [f"error: {link} is a symbolic link: init never writes through a link inside {target} "
                     "(remove it, or init another directory)"]
    assert {"repo": _tree(target), "outside": _tree(outside)} == before, "nothing was written, in DIR or outside"


def test_a_link_that_appears_after_the_check_is_refused_by_the_write_itself(tmp_path: Path) -> None:
    """write_files opens each directory with O_NOFOLLOW and creates each file with O_EXCL: a link
    planted between the check and the write (a race) is refused, never followed."""
    from copilot_seats.errors import ConfigError

    target, outside = tmp_path / "repo", tmp_path / "outside"
    outside.mkdir()
    target.mkdir()
    (target / "policies").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfigError, match="policies is a symbolic link"):
        write_files(target, {"a.txt": "a\n", "policies/__main__.py": "x\n"})
    (target / "policies").unlink()
    (target / "b.txt").symlink_to(outside / "b.txt")
    with pytest.raises(ConfigError, match=r"b\.txt is a symbolic link: init never overwrites or follows it"):
        write_files(target, {"b.txt": "b\n"})
    assert list(outside.iterdir()) == []


def test_dir_itself_may_be_a_link(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from copilot_seats.cli import main

    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    result = CliRunner().invoke(main, ["init", str(tmp_path / "alias"), "--org", "acme"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "real" / "policies" / "__main__.py").read_text() == POLICY_MAIN_PY


def test_init_refuses_an_invalid_org(tmp_path: Path) -> None:
    result = _init(tmp_path / "x", "--org", "not/an-org")
    assert result.returncode == 2 and not (tmp_path / "x").exists()


def test_init_import_writes_the_live_seats(tmp_path: Path, make_simulator: Callable[..., RunningSimulator]) -> None:
    sim = make_simulator(SMALL_FIXTURE)
    result = _init(tmp_path / "repo", "--org", "acme", "--import", env=sim.env())
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "repo" / "seats.yaml").read_text()
    assert "  Alice:  # last activity" in text and "  platform:  #" in text
    assert not sim.writes


@pytest.mark.engine
def test_init_import_validate_preview_from_an_empty_directory(
        tmp_path: Path, make_simulator: Callable[..., RunningSimulator]) -> None:
    bin_dir = require_engine()
    sim = make_simulator(SMALL_FIXTURE)
    repo = tmp_path / "seats-repo"
    assert _init(repo, "--org", "acme").returncode == 0
    # requirements.txt is satisfied by the project's virtualenv (copilot-seats 0.2.0 and the pinned SDKs)
    (repo / ".venv").symlink_to(REPO / ".venv")
    installed = subprocess.run(
        [str(repo / ".venv" / "bin" / "python"), "-c",
         "import importlib.metadata as m, json; print(json.dumps({d: m.version(d) for d in "
         "('copilot-seats', 'pulumi', 'pulumi-policy')}))"], capture_output=True, text=True, check=True)
    wanted = dict(line.split("==") for line in (repo / "requirements.txt").read_text().splitlines()
                  if "==" in line)
    assert json.loads(installed.stdout) == wanted
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}, **sim.env(),
           "PATH": f"{bin_dir}{os.pathsep}{repo / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "PULUMI_HOME": str(tmp_path / "home"), "PULUMI_CONFIG_PASSPHRASE": "init-test",
           "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}
    (tmp_path / "state").mkdir()

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(list(argv), cwd=repo, env=env, capture_output=True, text=True, timeout=600,
                              check=False)
        assert proc.returncode == 0, f"$ {' '.join(argv)}\n{proc.stdout}{proc.stderr}"
        return proc

    # the README's commands, in order (file:// stands in for s3://, azblob://, gs://)
    run("copilot-seats", "import", "--org", "acme", "--output", "seats.yaml", "--force")
    run("copilot-seats", "validate", "seats.yaml")
    run("pulumi", "login", f"file://{tmp_path / 'state'}")
    run("pulumi", "stack", "init", "prod", "--secrets-provider", "passphrase", "--non-interactive")
    pack = "policies"
    if engine_lane() == "current":  # a current CLI starts the pinned host's pack only through an executable
        shutil.copy2(PACK_LAUNCHER, repo / "policies" / PACK_LAUNCHER.name)
        pack = str(repo / "policies" / PACK_LAUNCHER.name)
        env["PULUMI_PYTHON_CMD"] = str(repo / ".venv" / "bin" / "python")
    preview = run("pulumi", "preview", "--policy-pack", pack, "--json", "--non-interactive")
    steps = json.loads(preview.stdout)["steps"]
    [record] = [s for s in steps if s["urn"].split("::")[-2] == "copilot:index:Seats"]  # one resource per org
    assert set(record["newState"]["inputs"]["users"]) == {"alice", "bob", "newbie"}  # keyed by casefolded login
    text = run("pulumi", "preview", "--policy-pack", pack, "--non-interactive").stdout
    found = policy_violations(PulumiResult(("preview",), 0, text, ""))  # either engine's layout
    assert {(v["pack"], v["version"]) for v in found if v["policy"] == "stale-seat"} == {
        ("copilot-seats", __version__)}, "the pack reports this release"
    assert not sim.writes, "a preview writes nothing"
