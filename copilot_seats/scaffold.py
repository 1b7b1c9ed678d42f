"""The files of a new seats repository (``copilot-seats init``), pinned to this release.

A seats repository holds data and configuration only: ``seats.yaml``, the Pulumi project and
policy-pack shims (three lines each, importing this package), the GitOps workflows and their
setup action, and CODEOWNERS. It depends on this package through
``requirements.txt`` (``copilot-seats==`` :data:`copilot_seats.__version__`, plus the Pulumi SDK
pins the release was tested with), so upgrading is a version bump in one file, reviewed like
any other change.

The shims are the very files this repository runs (tests/test_init.py compares them), and
the workflows, setup action, Dependabot and zizmor configurations are copies of this
repository's own (same test), so a seats repository gets exactly the trust model documented in
docs/gitops.md, with every action pinned by commit SHA and kept current by Dependabot.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from copilot_seats import __version__
from copilot_seats.errors import ConfigError, EditError

__all__ = ["ENGINE_PINS", "PULUMI_CLI_VERSION", "existing_targets", "scaffold_files", "write_files"]

PULUMI_CLI_VERSION = "3.78.1"
"""The Pulumi CLI this release is tested with (tools/pulumi-version.env; the setup action pins it)."""

ENGINE_PINS = {"pulumi": "3.272.0", "pulumi-policy": "1.21.0"}
"""The Pulumi SDKs this release is tested with (tools/pulumi-version.env)."""

_TEMPLATES = Path(__file__).with_name("templates")

PULUMI_YAML = """\
# The Pulumi program that reconciles seats.yaml with GitHub's Copilot seats.
# `pulumi preview` lists the seats it would grant or revoke; `pulumi up` applies them.
name: copilot-seats
description: GitHub Copilot seats as code (seats.yaml reconciled with GitHub's Copilot seat API)
runtime:
  name: python
  options:
    # A pre-created virtualenv (scripts/setup.sh). No `toolchain:` option: the pinned v3.78.1
    # language host predates it (it rejects -toolchain) and always uses pip + this virtualenv,
    # so a uv.lock/poetry.lock in a parent directory cannot switch toolchains either.
    virtualenv: .venv
config:
  copilot-seats:seatsFile:
    type: string
    description: Path of the seats file, relative to the project directory.
    default: seats.yaml
plugins:
  providers:
    # The native `copilot` provider: the console script pulumi-resource-copilot that installing
    # copilot-seats puts into the virtualenv's bin directory (relative to the project directory).
    - name: copilot
      path: .venv/bin
"""

MAIN_PY = '''\
"""Pulumi program: reconcile seats.yaml with GitHub's Copilot seats.

`pulumi preview` shows the seats that would be granted or revoked; `pulumi up` applies them.
All logic lives in the copilot_seats package (see copilot_seats/stack/program.py).
"""

from copilot_seats.stack.program import main

main()
'''

POLICY_YAML = f"""\
# CrossGuard policy pack "copilot-seats": drift and stale seats, reported during preview.
# Run with: pulumi preview --policy-pack policies [--policy-pack-config policies/config.example.json]
description: Copilot seat drift, staleness and hygiene checks
version: {__version__}  # = copilot_seats.__version__ (tests/test_init.py keeps them equal)
runtime:
  name: python
  options:
    # The project's virtualenv (scripts/setup.sh): the pack imports copilot_seats.policies.rules.
    virtualenv: ../.venv
"""

POLICY_MAIN_PY = '''\
"""The copilot-seats CrossGuard pack: drift, stale seats and hygiene, reported during preview.

Only wiring: the policies are built in copilot_seats.policies.pack (importable and unit-tested);
PolicyPack starts the analyzer server and never returns. See docs/policies.md.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from copilot_seats.policies.pack import PACK_NAME, build_policies

PolicyPack(PACK_NAME, policies=build_policies(), enforcement_level=EnforcementLevel.ADVISORY)
'''

_README = """\
# Copilot seats of {org}

Who holds a GitHub Copilot seat in `{org}`, and why: `seats.yaml`, reconciled by
[copilot-seats](https://pypi.org/project/copilot-seats/) {version} (pinned in `requirements.txt`;
upgrading is a version bump there, in a pull request).

```sh
python -m venv .venv && .venv/bin/pip install -r requirements.txt   # plus the Pulumi CLI {cli}
export GITHUB_TOKEN=...                          # read-only is enough for everything but `pulumi up`
.venv/bin/copilot-seats validate seats.yaml
pulumi login s3://my-bucket/copilot-seats        # or azblob://, gs://, file://; plain `pulumi login` = Pulumi Cloud
export PULUMI_CONFIG_PASSPHRASE=...              # self-managed backends: the stack's secrets passphrase
pulumi stack init prod --secrets-provider passphrase
pulumi preview --policy-pack policies
```

Every seat change is a pull request to `seats.yaml`: the `seats preview` workflow comments the
plan, merging applies it, a nightly job checks for drift, a weekly job proposes removing stale
seats, and a nightly dependency audit (pip-audit on requirements.txt, no credential) fails on a
known vulnerability of a pinned package. Set up the environments, secrets and variables as described in copilot-seats'
docs/gitops.md ("Credentials, secrets and variables").
"""

_GITIGNORE = """\
/.venv/
/.state/
__pycache__/
*.pyc
"""

_CODEOWNERS = """\
# Every seat change is approved by the people who pay for it (turn on "Require review from
# Code Owners" for main). The workflows and their setup action decide which job sees which
# credential: changes to them need the same owners.
/seats.yaml            {owners}
/requirements.txt      {owners}
/Pulumi*.yaml          {owners}
/policies/             {owners}
/.github/              {owners}
"""

def requirements() -> str:
    """``requirements.txt`` of a seats repository: this release and its tested Pulumi SDKs."""
    lines = [f"copilot-seats=={__version__}", *(f"{name}=={v}" for name, v in ENGINE_PINS.items())]
    return "# The copilot-seats release this repository runs; upgrade by bumping the versions here.\n" + \
        "\n".join(lines) + "\n"


def scaffold_files(org: str, seats_text: str, owners: str) -> dict[str, str]:
    """Relative path -> content of every file ``init`` writes."""
    files = {
        "seats.yaml": seats_text,
        "requirements.txt": requirements(),
        "Pulumi.yaml": PULUMI_YAML,
        "__main__.py": MAIN_PY,
        "policies/PulumiPolicy.yaml": POLICY_YAML,
        "policies/__main__.py": POLICY_MAIN_PY,
        "README.md": _README.format(org=org, version=__version__, cli=PULUMI_CLI_VERSION),
        ".gitignore": _GITIGNORE,
        ".github/CODEOWNERS": _CODEOWNERS.format(owners=owners),
        ".github/actions/setup/action.yml": (_TEMPLATES / "actions" / "setup.yml").read_text(encoding="utf-8"),
        ".github/dependabot.yml": (_TEMPLATES / "github" / "dependabot.yml").read_text(encoding="utf-8"),
        ".github/zizmor.yml": (_TEMPLATES / "github" / "zizmor.yml").read_text(encoding="utf-8"),
    }
    for workflow in sorted((_TEMPLATES / "workflows").glob("*.yml")):
        files[f".github/workflows/{workflow.name}"] = workflow.read_text(encoding="utf-8")
    return files


def _link_refusal(path: Path, directory: Path) -> ConfigError:
    return ConfigError(f"{path} is a symbolic link: init never writes through a link inside {directory} "
                       "(remove it, or init another directory)")


def existing_targets(directory: Path, names: Iterable[str]) -> list[str]:
    """The ``names`` (relative paths) that already exist in ``directory``, never following a link.

    :raises ConfigError: a symbolic link (dangling or not) is one of the paths or on the way to
        one (a linked ``policies/`` or ``.github/``), or a file stands where a directory must be.
        ``directory`` itself may be a link: it is the directory the user named.
    """
    found: list[str] = []
    for name in names:
        parts = PurePosixPath(name).parts
        for depth in range(1, len(parts) + 1):
            path = directory.joinpath(*parts[:depth])
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                break
            if stat.S_ISLNK(mode):
                raise _link_refusal(path, directory)
            if depth < len(parts) and not stat.S_ISDIR(mode):
                raise ConfigError(f"{path} is not a directory: init needs to write {directory / name}")
            if depth == len(parts):
                found.append(name)
    return sorted(set(found))


def write_files(directory: Path, files: Mapping[str, str]) -> None:
    """Create every file of ``files`` inside ``directory``, never following a link and never
    overwriting (each directory is opened with ``O_NOFOLLOW`` relative to its parent, each file
    created with ``O_CREAT | O_EXCL | O_NOFOLLOW``), so a link that appears after
    :func:`existing_targets` looked is refused too and nothing is written outside ``directory``.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        root = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise EditError(f"cannot write {directory}: {exc.strerror or exc}") from None
    try:
        for name, content in files.items():
            *folders, leaf = PurePosixPath(name).parts
            fd = os.dup(root)
            path = directory
            try:
                for folder in folders:
                    path = path / folder
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(folder, 0o777, dir_fd=fd)
                    child = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                    os.close(fd)
                    fd = child
                path = path / leaf
                out = os.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=fd)
                with os.fdopen(out, "w", encoding="utf-8") as handle:
                    handle.write(content)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and os.path.islink(path):
                    raise _link_refusal(path, directory) from None
                if exc.errno == errno.EEXIST:
                    what = "a symbolic link" if os.path.islink(path) else "an existing file"
                    raise ConfigError(f"{path} is {what}: init never overwrites or follows it") from None
                raise EditError(f"cannot write {path}: {exc.strerror or exc}") from None
            finally:
                os.close(fd)
    finally:
        os.close(root)
