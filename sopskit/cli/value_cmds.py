"""`sopskit set` and `unset`: option parsing and rendering only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from sopskit.cli.context import AppContext, input_type_option, note, pass_app
from sopskit.cli.identity_options import identities_for_command, identity_options
from sopskit.engine import paths
from sopskit.engine.setvalue import Outcome, Value, set_value, unset_value
from sopskit.errors import UsageError
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.treepath import format_path, parse_path

PathArg = click.Path(path_type=Path)


@click.command("set")
@click.argument("file", type=PathArg)
@click.argument("path")
@click.option("--value-stdin", is_flag=True, help="Read the value from stdin (one trailing "
              "newline is dropped).")
@click.option("--value", "value_arg", metavar="VALUE", default=None,
              help="The value itself (visible in shell history and `ps`: prefer stdin or "
                   "the prompt).")
@click.option("--json", "as_json", is_flag=True,
              help="The value is JSON (a number, true/false, a mapping or list), as sops "
                   "set takes it; default: a string.")
@input_type_option
@identity_options
@pass_app
def set_cmd(app: AppContext, file: Path, path: str, value_stdin: bool,  # noqa: PLR0917
            value_arg: str | None, as_json: bool, input_type: Format | None,
            identity_files: tuple[Path, ...], use_keyring: bool | None) -> None:
    """Set the value at PATH (sops syntax, e.g. '["stringData"]["PASSWORD"]') in FILE.

    Only that value changes: every other value keeps its ciphertext and the data key is
    kept. Without --value-stdin or --value, the value is asked for without echo.
    """
    tree_path = parse_path(path)
    value = _parse_value(_read_value(value_stdin, value_arg), as_json)
    identities = identities_for_command(app, identity_files, use_keyring)
    done = set_value(paths.target(app.repo, file), tree_path, value, repo=app.repo,
                     identities=identities, input_type=input_type)
    _report(app, done, format_path(tree_path), "set")


@click.command("unset")
@click.argument("file", type=PathArg)
@click.argument("path")
@click.option("--idempotent", is_flag=True, help="A missing PATH is not an error.")
@input_type_option
@identity_options
@pass_app
def unset_cmd(app: AppContext, file: Path, path: str, idempotent: bool,  # noqa: PLR0917
              input_type: Format | None, identity_files: tuple[Path, ...],
              use_keyring: bool | None) -> None:
    """Remove the value at PATH from FILE; every other value keeps its ciphertext."""
    tree_path = parse_path(path)
    identities = identities_for_command(app, identity_files, use_keyring)
    done = unset_value(paths.target(app.repo, file), tree_path, repo=app.repo,
                       identities=identities, input_type=input_type, idempotent=idempotent)
    _report(app, done, format_path(tree_path), "removed")


def _read_value(from_stdin: bool, given: str | None) -> str:
    if from_stdin and given is not None:
        raise UsageError("use either --value-stdin or --value, not both")
    if from_stdin:
        text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape").removesuffix("\n")
    elif given is not None:
        text = given  # argv: undecodable bytes arrive as surrogates
    elif not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError("no value: pass --value-stdin (and pipe it in) or run on a terminal "
                         "to be asked for it")
    else:
        text = str(click.prompt("Value", hide_input=True, confirmation_prompt=True, err=True))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a sops value is text; sealing it would fail verification
        raise UsageError("the value is not valid UTF-8 text; base64-encode binary data "
                         "(a Secret's `data`)") from None
    return text


def _parse_value(text: str, as_json: bool) -> Value:
    if not as_json:
        return text
    try:
        value: Value = json.loads(text)
    except json.JSONDecodeError as exc:
        # the message names the place, never the text (it is a secret)
        raise UsageError(f"the value is not valid JSON ({exc.msg} at character "
                         f"{exc.pos + 1})") from None
    if value is None:
        raise UsageError("null cannot be stored (sops skips null values); use unset")
    return value


def _report(app: AppContext, done: Outcome, shown_path: str, verb: str) -> None:
    if not done.changed:
        note(app, f"unchanged: {done.path} {shown_path}")
        return
    note(app, f"{verb} {shown_path} in {done.path} (verified; other values unchanged)")
    if not done.encrypted and verb == "set":
        note(app, f"note: the file's crypt rule keeps {shown_path} in plaintext, as sops does")
