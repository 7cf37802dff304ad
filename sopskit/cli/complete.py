"""Shell completion of the registry's key, cluster and rule names (click's completion:
`eval "$(_SOPSKIT_COMPLETE=bash_source sopskit)"`, README).

Completers are attached by parameter name when a command module loads (commands.load), so a
new command taking `NAME`, `KEY`, `CLUSTER`, `--cluster(s)` or a rule `INDEX` completes
without code of its own. They read the registry of the repository the command line names
(`--repo`, `--registry`) or the working directory is in; any problem means no suggestions,
never an error on the user's terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported when completing only: every command start-up loads this module
    from click.shell_completion import CompletionItem

Completer = Callable[[click.Context, click.Parameter, str], "list[CompletionItem]"]

# subcommands whose NAME is a new one: nothing to complete
_NEW_NAMES = frozenset({"add", "generate", "init"})


def _registry(ctx: click.Context) -> Any:
    from sopskit.errors import SopskitError
    from sopskit.registry.locate import registry_path
    from sopskit.registry.schema import load_registry
    from sopskit.repo import find_repo_root

    root = ctx.find_root()
    given = root.params.get("repo")
    repo = Path(given).resolve() if given else find_repo_root(Path.cwd())
    explicit = ctx.params.get("registry")
    try:
        path = registry_path(repo, explicit)
        return load_registry(path) if path is not None else None
    except (SopskitError, OSError):
        return None


def keys(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    registry = _registry(ctx)
    if registry is None:
        return []
    return [CompletionItem(name, help=f"{key.type} {key.status}")
            for name, key in registry.keys.items() if name.startswith(incomplete)]


def clusters(ctx: click.Context, _param: click.Parameter,
             incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    registry = _registry(ctx)
    if registry is None:
        return []
    # `--clusters a,b`: complete the last name of a comma-separated list
    head, _, last = incomplete.rpartition(",")
    prefix = f"{head}," if head else ""
    return [CompletionItem(prefix + name, help=cluster.description or None)
            for name, cluster in registry.clusters.items() if name.startswith(last)]


def rules(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    registry = _registry(ctx)
    if registry is None:
        return []
    return [CompletionItem(str(rule.index), help=rule.path) for rule in registry.rules
            if str(rule.index).startswith(incomplete)]


def completer_for(command: click.Command, param: click.Parameter) -> Completer | None:
    """The completer a parameter gets by its name, or None."""
    name = param.name or ""
    if name in ("clusters", "cluster"):
        return clusters
    if name == "key" or (name == "name" and command.name not in _NEW_NAMES):
        return keys
    if name in ("index", "rule") and isinstance(param, click.Argument):
        return rules
    return None


def add_completions(command: click.Command) -> None:
    """Attach the completers to `command` and its subcommands (once)."""
    if getattr(command, "_sopskit_completion", False):
        return
    command._sopskit_completion = True  # type: ignore[attr-defined]
    for param in command.params:
        found = completer_for(command, param)
        if found is not None and param._custom_shell_complete is None:
            param._custom_shell_complete = found
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_completions(sub)
