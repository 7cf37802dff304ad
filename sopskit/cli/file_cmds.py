"""`sopskit encrypt`, `decrypt`, `edit`: option parsing and rendering only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from sopskit.cli.context import AppContext, input_type_option, note, pass_app
from sopskit.cli.identity_options import identities_for_command, identity_options
from sopskit.engine import paths
from sopskit.engine.decrypt import (
    check_plaintext_destination,
    decrypt_file,
    deliver_plaintext,
)
from sopskit.engine.edit import edit_file
from sopskit.engine.encrypt import encrypt_file
from sopskit.engine.policy import Policy, decide
from sopskit.errors import UsageError
from sopskit.identity.model import Identities
from sopskit.sops.binary import locate
from sopskit.sops.runner import Sops, timeout_from
from sopskit.sopsfile.document import detect_format
from sopskit.sopsfile.extract import extract as extract_value
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.treepath import parse_path

PathArg = click.Path(path_type=Path)


def sops_for(app: AppContext, identities: Identities) -> Sops:
    return Sops(locate(app.sops_binary), identities, timeout=timeout_from(os.environ))


@click.command("encrypt")
@click.argument("files", nargs=-1, type=PathArg)
@click.option("-i", "--in-place", is_flag=True, help="Replace each file with its encryption.")
@click.option("-o", "--output", type=PathArg, help="Write the (single) result here.")
@click.option("--age", multiple=True, metavar="RECIPIENT", help="age recipient (repeatable).")
@click.option("--pgp", multiple=True, metavar="FP", help="PGP fingerprint (repeatable).")
@click.option("--allow-no-encrypted-values", "allow_no_encrypted", is_flag=True,
              help="Write the file even when its crypt rule leaves every value in plaintext.")
@click.option("--all", "everything", is_flag=True,
              help="Every file under FILES (default: the repository) that must be encrypted "
                   "and is not, in place (as -i with directories).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Files encrypted at once with --all / -i DIR (default: CPU count).")
@click.option("--dry-run", is_flag=True, help="With --all / -i DIR: show the plan only.")
@identity_options
@pass_app
def encrypt_cmd(app: AppContext, files: tuple[Path, ...], in_place: bool,  # noqa: PLR0917
                output: Path | None, age: tuple[str, ...], pgp: tuple[str, ...],
                allow_no_encrypted: bool, everything: bool, jobs: int | None, dry_run: bool,
                identity_files: tuple[Path, ...], use_keyring: bool | None) -> None:
    """Encrypt FILES with sops, verify the result natively, then write it.

    Recipients: --age/--pgp, else keys/registry.yaml, else the repository's .sops.yaml.
    Without -i or -o the ciphertext of the one FILE goes to stdout. With --all (or -i on a
    directory): every file that must be encrypted and is not, in parallel.
    """
    if everything or (in_place and any(f.is_dir() for f in files)):
        if output or age or pgp:
            raise UsageError("--all / -i DIR take recipients from the repository only")
        from sopskit.cli.encrypt_all_cmd import run_bulk  # only for bulk runs

        run_bulk(app, files, jobs=jobs, dry_run=dry_run, allow_no_encrypted=allow_no_encrypted,
                 identities=identities_for_command(app, identity_files, use_keyring))
        return
    if not files:
        raise UsageError("no FILE given (or use --all)")
    if in_place and output:
        raise UsageError("use either --in-place or --output, not both")
    if len(files) > 1 and not in_place:
        raise UsageError("several files need --in-place")
    identities = identities_for_command(app, identity_files, use_keyring)
    sops = sops_for(app, identities)
    for file in files:
        source = paths.target(app.repo, file)
        dest = source if in_place else (paths.output_target(app.repo, output) if output else None)
        _encrypt_one(app, source, dest, decide(app.repo, source, age=age, pgp=pgp), sops=sops,
                     identities=identities, allow_no_encrypted=allow_no_encrypted)


def _encrypt_one(app: AppContext, source: Path, dest: Path | None, policy: Policy, *, sops: Sops,
                 identities: Identities, allow_no_encrypted: bool = False) -> None:
    if app.verbosity > 0:
        note(app, f"{paths.display(app.repo, source)}: recipients "
                  f"{', '.join(map(str, sorted(policy.recipients)))} from {policy.rule.source}")
    done = encrypt_file(source, policy, repo=app.repo, sops=sops, identities=identities,
                        output=dest, allow_no_encrypted=allow_no_encrypted)
    mac = "MAC checked" if done.mac_checked else "MAC not checked: no key of yours"
    if dest is None:
        sys.stdout.buffer.write(done.ciphertext)
        if not done.mac_checked:  # the round trip was not proved either: say so
            note(app, f"encrypted {done.path} ({mac})")
    else:
        note(app, f"encrypted {done.path} -> {paths.display(app.repo, dest)} ({mac})")


@click.command("decrypt")
@click.argument("file", type=PathArg)
@click.option("-o", "--output", type=PathArg, help="Write the plaintext here (0600).")
@click.option("--force", is_flag=True,
              help="Allow -o to write plaintext inside the repository.")
@click.option("--engine", type=click.Choice(["native", "sops"]), default=None,
              help="Default: native when one of your keys opens the file, else sops.")
@click.option("--extract", metavar="PATH", default=None,
              help="Only this value or subtree, in sops' syntax: '[\"data\"][\"password\"]'.")
@input_type_option
@identity_options
@pass_app
def decrypt_cmd(app: AppContext, file: Path, output: Path | None,  # noqa: PLR0917
                force: bool, engine: str | None, extract: str | None,
                input_type: Format | None, identity_files: tuple[Path, ...],
                use_keyring: bool | None) -> None:
    """Print the plaintext of FILE (MAC checked)."""
    if output is not None:
        check_plaintext_destination(app.repo, output, force=force)
    tree_path = parse_path(extract) if extract is not None else None
    identities = identities_for_command(app, identity_files, use_keyring)
    done = decrypt_file(paths.target(app.repo, file), repo=app.repo, identities=identities,
                        engine=engine,  # type: ignore[arg-type]
                        sops=lambda: sops_for(app, identities), input_type=input_type)
    if app.verbosity > 0:
        note(app, f"decrypted with the {done.engine} engine")
    plaintext = done.plaintext
    if tree_path is not None:
        source = paths.target(app.repo, file)
        plaintext = extract_value(plaintext, detect_format(str(source), input_type), tree_path,
                                  path=paths.display(app.repo, source))
    if output is None:
        sys.stdout.buffer.write(plaintext)
    else:
        deliver_plaintext(app.repo, output, plaintext, force=force)


@click.command("edit")
@click.argument("file", type=PathArg)
@click.option("--resolve", is_flag=True, help="Finish a git merge conflict of FILE: both "
              "sides' values in the editor (in memory), conflicts named.")
@identity_options
@pass_app
def edit_cmd(app: AppContext, file: Path, resolve: bool, identity_files: tuple[Path, ...],
             use_keyring: bool | None) -> None:
    """Edit FILE with $SOPS_EDITOR / $EDITOR; the result is verified before it replaces FILE."""
    identities = identities_for_command(app, identity_files, use_keyring)
    source = paths.target(app.repo, file)
    if resolve:
        from sopskit.review.resolve import resolve as resolve_conflict  # only this option

        conflicts = resolve_conflict(source, repo=app.repo, identities=identities)
        named = ", ".join(conflicts) or "no conflicting key path"
        note(app, f"resolved {paths.display(app.repo, source)} ({named}); check it, then "
                  "`git add` it")
        return
    changed = edit_file(source, repo=app.repo, sops=sops_for(app, identities),
                        identities=identities)
    note(app, f"{'updated' if changed else 'unchanged'}: {paths.display(app.repo, source)}")
