"""The `sopskit` command group, global options, and the one place errors become exit codes."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import click

from sopskit import __version__
from sopskit.cli.commands import LazyGroup
from sopskit.cli.context import AppContext
from sopskit.errors import ExitCode, SopskitError, UsageError, looks_secret, redact
from sopskit.repo import find_repo_root


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sopskit")
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path),
              help="Repository root (default: git top level of the working directory).")
@click.option("--sops-binary", envvar="SOPSKIT_SOPS", metavar="PATH",
              help="sops binary to use (default: the one bundled with sopskit). Env: SOPSKIT_SOPS.")
@click.option("-v", "--verbose", count=True, help="More detail.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def cli(ctx: click.Context, repo: Path | None, sops_binary: str | None, verbose: int,
        quiet: bool) -> None:
    """Key registry, verified encryption and audit for SOPS secrets in GitOps repositories."""
    root = repo.resolve() if repo else find_repo_root(Path.cwd())
    ctx.obj = AppContext(repo=root, sops_binary=sops_binary, verbosity=-1 if quiet else verbose)


def refuse_private_key_arguments(args: list[str]) -> None:
    """No sopskit option takes a private key on the command line (it would stay in shell
    history and the process list): one given anyway (`--age AGE-SECRET-KEY-…`, a key pasted
    as a path) is refused before anything runs, so no report line or message echoes it.
    The option (or the argument's position) and the mistake are named, never the value."""
    for n, arg in enumerate(args):
        if arg == "--":
            return  # a command of the user's own (exec-env, exec-file): its arguments
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        if not looks_secret(value):
            continue
        if value is not arg:
            where = arg.split("=", 1)[0]
        elif n and args[n - 1].startswith("-"):
            where = args[n - 1]
        else:
            where = f"argument {n + 1}"
        raise UsageError(f"{where}: this is a private key, not a recipient or a path: give "
                         "its public key (age1...; `age-keygen -y KEYFILE` prints it) or a "
                         "key file (--identity FILE); the value is not shown")


# click's "Got unexpected extra argument (ARG ...)" quotes the arguments: after
# `sops set FILE PATH VALUE` habits the extra one is a secret value
_EXTRA_ARGUMENTS = "Got unexpected extra argument"


def _extra_arguments(exc: click.UsageError) -> str:
    """The mistake without the arguments (any may be a value)."""
    name = exc.ctx.command.name if exc.ctx is not None else None
    hint = ("; the value is read from --value-stdin, --value or a prompt, not from an "
            "argument (sops set takes it as one)" if name == "set" else "")
    return f"unexpected extra arguments (not shown: one may be a value){hint}"


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI and map every outcome to the exit-code table."""
    # A closed terminal (SIGHUP) or a CI timeout (SIGTERM) is handled like Ctrl-C, so every
    # `finally` runs: children are killed, temp files removed, a rekey journal stays whole.
    # Python's default for both is to die on the spot, leaving `.sopskit-*` temp files.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)
    try:
        refuse_private_key_arguments(sys.argv[1:] if argv is None else argv)
        code = cli.main(args=argv, prog_name="sopskit", standalone_mode=False)
    except SopskitError as exc:
        click.echo(f"sopskit: error: {exc}", err=True)
        sys.exit(int(exc.exit_code))
    except click.exceptions.Abort:
        click.echo("sopskit: interrupted", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    except KeyboardInterrupt:
        click.echo("sopskit: interrupted", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        # click quotes the offending value ("'AGE-SECRET-KEY-1…' is not one of …")
        message = exc.format_message()
        if isinstance(exc, click.UsageError) and message.startswith(_EXTRA_ARGUMENTS):
            if exc.ctx is not None:
                click.echo(exc.ctx.get_usage(), err=True)
            click.echo(f"sopskit: error: {_extra_arguments(exc)}", err=True)
        elif redact(message) != message:
            click.echo(f"sopskit: error: {redact(message)}", err=True)
        else:
            exc.show()
        sys.exit(int(ExitCode.USAGE))
    except BrokenPipeError:
        # stdout closed early (e.g. `| head`): not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(int(ExitCode.OK))
    except OSError as exc:
        # the file system refused a path the library did not expect to fail (a name too long
        # for the system, a loop of symlinks): the tool could not do its job, so exit 3
        click.echo(f"sopskit: error: {os_error_line(exc)}", err=True)
        sys.exit(int(ExitCode.OPERATIONAL))
    except Exception as exc:  # a bug: one line, no traceback (it could hold values)
        click.echo(f"sopskit: internal error ({type(exc).__name__}); please report it with"
                   " the command you ran", err=True)
        if os.environ.get("SOPSKIT_DEBUG"):
            raise
        sys.exit(int(ExitCode.INTERNAL))
    sys.exit(int(code) if isinstance(code, int) else 0)


def os_error_line(exc: OSError, limit: int = 80) -> str:
    """`NAME: reason` for an OSError, the name cut after `limit` characters and redacted."""
    name = str(exc.filename) if exc.filename is not None else ""
    if len(name) > limit:
        name = name[:limit] + "…"
    reason = exc.strerror or type(exc).__name__
    return redact(f"{name}: {reason}" if name else reason)
