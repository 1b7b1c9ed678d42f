"""``copilot-seats init DIR``: start a seats repository that depends on this release.

Writes the files of :func:`copilot_seats.scaffold.scaffold_files` into ``DIR`` (created when
missing). ``seats.yaml`` is either a minimal file for ``--org`` or, with ``--import``, the live
seats as ``copilot-seats import`` writes them (read-only ``GITHUB_TOKEN``; not read when
``seats.yaml`` exists). Nothing is ever overwritten: a file that exists is skipped, and each
skipped file is one ``init: skipped PATH: ...`` line on stderr saying whether it is identical to
this release's (so running init again in a seats repository adds what a new release brings and
names what differs). No link inside ``DIR`` is followed: if a symbolic link (even a dangling
one) is one of the files or on the way to one (a linked ``policies/`` or ``.github/``), init
stops before writing anything and names the path; the writes themselves refuse links too
(:func:`copilot_seats.scaffold.write_files`), so nothing lands outside ``DIR``.

Exit codes: 0 written (or every file skipped); 1 the imported file would be invalid; 2 usage
error (a link inside DIR, a file where a directory must be, bad ``--org``, ``GITHUB_TOKEN`` unset
with ``--import``); 3 GitHub API error.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from copilot_seats import __version__
from copilot_seats.cli import main
from copilot_seats.cli.edit import fetch_live, imported_file
from copilot_seats.desired.loader import check_spec
from copilot_seats.desired.seats_edit import render_seats_file
from copilot_seats.errors import EditError
from copilot_seats.scaffold import existing_targets, scaffold_files, write_files

__all__ = ["init_command"]


def _minimal(org: str) -> str:
    return render_seats_file(
        org, (), (),
        header=[f"Copilot seats of {org}: who holds a seat, why, and until when.",
                "Add users (login: owner, reason, expires) or teams; every change is a pull request.",
                "Or start from the live seats: copilot-seats import --org "
                f"{org} --output seats.yaml --force"],
        settings={"mode": "additive"},
    )


@main.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--org", required=True, help="the organization whose Copilot seats the repository manages.")
@click.option("--import", "from_live", is_flag=True,
              help="write seats.yaml from the live seats (as `copilot-seats import`; reads GITHUB_TOKEN).")
@click.option("--owners", default=None,
              help="CODEOWNERS owners of seats.yaml and the workflows (default: @ORG/copilot-seat-admins).")
def init_command(directory: Path, org: str, from_live: bool, owners: str | None) -> None:
    """Scaffold a seats repository in DIRECTORY pinned to this copilot-seats release.

    Writes seats.yaml (minimal, or --import'ed from the live org), requirements.txt pinning
    copilot-seats and the Pulumi SDKs, the Pulumi.yaml/__main__.py and policies/ shims, the
    GitOps workflows with their setup action, CODEOWNERS and a README. Never overwrites a
    file (existing ones are skipped and listed), never follows a symbolic link inside
    DIRECTORY; never writes to GitHub.
    """
    minimal = _minimal(org)
    if check_spec(minimal, "seats.yaml").spec is None:
        raise click.UsageError(f"--org {org!r} is not a GitHub organization login")
    owners = owners or f"@{org}/copilot-seat-admins"
    existing = existing_targets(directory, scaffold_files(org, minimal, owners))  # ConfigError (exit 2): a link
    now = datetime.now(UTC)
    text = minimal
    if from_live and "seats.yaml" not in existing:  # an existing seats.yaml is kept: nothing to read
        text, _found = imported_file(org, fetch_live(org, now), now)
        checked = check_spec(text, "seats.yaml")
        if checked.spec is None:
            detail = "; ".join(str(p) for p in checked.errors)
            raise EditError(f"refusing to write seats.yaml: the imported file would be invalid: {detail}")
    files = scaffold_files(org, text, owners)
    write_files(directory, {name: content for name, content in files.items() if name not in existing})
    for name in existing:
        click.echo(f"init: skipped {name}: {_kept(directory / name, files[name])}", err=True)
    written = len(files) - len(existing)
    if not written:
        click.echo(f"init: wrote nothing in {directory}: every file exists (copilot-seats {__version__})", err=True)
        return
    click.echo(f"init: wrote {written} files in {directory} (copilot-seats {__version__})"
               + (f", skipped {len(existing)} that exist" if existing else ""), err=True)
    click.echo(f"next: cd {directory}, create .venv from requirements.txt, then validate, "
               "`pulumi stack init`, preview (README.md)", err=True)


def _kept(path: Path, content: str) -> str:
    """Why ``path`` was left alone, and whether it matches what init would have written."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return "it exists and is not a regular file; init never overwrites"
    try:
        with os.fdopen(fd, "rb") as handle:
            same = handle.read(len(content.encode()) + 1) == content.encode()
    except OSError:  # e.g. a directory
        return "it exists and is not a regular file; init never overwrites"
    if same:
        return f"it exists, identical to copilot-seats {__version__}'s"
    return f"it exists and differs from copilot-seats {__version__}'s; init never overwrites (compare by hand)"
