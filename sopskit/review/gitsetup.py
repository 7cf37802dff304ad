"""`sopskit git setup`: .gitattributes lines and local git config for the drivers.

Attributes go to the sops files git tracks now (found by content, each by its path) and to
the names that promise encryption: the registry's `encrypted_files` globs (braces, which
gitattributes lacks, are skipped), else `*.sops.*` and `*.enc.*` (`.sops.yaml` itself is
reset to git's own drivers). A `.sops.yaml` `path_regex` has no gitattributes equivalent.
They live in a marked block of `.gitattributes` that setup rewrites, so re-running it after
adding sops files is safe. The drivers pass any other file through (textconv) or merge it
as text, so an over-broad pattern is harmless.
The config is the repository's own (`git config --local`): a textconv diff driver, with
no textconv cache (it would store derived output in git notes), and a merge driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sopskit import gitio
from sopskit.errors import SopskitError
from sopskit.fsio import write_atomic
from sopskit.registry.locate import registry_path
from sopskit.registry.schema import load_registry
from sopskit.sopsfile.document import detect_format, looks_like_sops

DRIVER = "sopskit"
BEGIN = "# >>> sopskit git setup (managed: re-run `sopskit git setup` to update)"
END = "# <<< sopskit git setup"
_SPECIAL = " \t\"\\#!"
_GLOB = "*?[\\"  # wildmatch specials: a file's own name must match itself only
_C_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


@dataclass(frozen=True)
class Setup:
    patterns: tuple[str, ...]
    config: tuple[tuple[str, str], ...]
    changed: bool  # .gitattributes was rewritten


def tracked_sops_files(repo: Path) -> list[str]:
    names = gitio.git(repo, "ls-files", "-z").decode("utf-8", "surrogateescape").split("\0")
    out = []
    for name in filter(None, names):
        path = repo / name
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_size < 16 << 20 \
                    and looks_like_sops(path.read_bytes(), detect_format(name)):
                out.append(name)
        except OSError:
            continue
    return out


# The names that promise a sops file when the registry names none (the audit's defaults).
DEFAULT_GLOBS = ("*.sops.*", "*.enc.*")
# `.sops.yaml` matches `*.sops.*` but is sops' config: git's own drivers for it.
CONFIG_LINES = tuple(f"{name} !diff !merge" for name in (".sops.yaml", ".sops.yml"))


def _registry_globs(repo: Path) -> list[str]:
    try:
        found = registry_path(repo)
        registry = load_registry(found) if found is not None else None
    except SopskitError:
        registry = None  # a broken registry is reported by its own commands, not here
    if registry is None or not registry.defaults.encrypted_files:
        return list(DEFAULT_GLOBS)
    return [g.pattern for g in registry.defaults.encrypted_files if "{" not in g.pattern]


def _quote(pattern: str) -> str:
    """gitattributes: a pattern with spaces, specials or control characters is written
    C-quoted, as git's attr.c reads it (unquote_c_style: \\n, \\t, octal); a raw newline
    would split the line and leave the file with no attributes."""
    if not any(c in _SPECIAL or not c.isprintable() for c in pattern):
        return pattern
    return '"' + "".join(_C_ESCAPES.get(c, c if c.isprintable() else
                                        "".join(f"\\{b:03o}" for b in c.encode("utf-8",
                                                "surrogateescape")))
                         for c in pattern) + '"'


def literal(name: str) -> str:
    """A tracked file's path as a pattern matching that file only: wildmatch specials
    backslash-escaped, a leading `!` (a negative pattern, which git refuses) too, and a
    leading `/` anchors it at the root (a name without `/` would match at any depth)."""
    escaped = "".join("\\" + c if c in _GLOB else c for c in name)
    return "/" + escaped


def attributes_block(patterns: list[str]) -> str:
    lines = [f"{_quote(p)} diff={DRIVER} merge={DRIVER}" for p in patterns]
    return "\n".join([BEGIN, *lines, *CONFIG_LINES, END]) + "\n"


def _replace_block(text: str, block: str) -> str:
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        return head + block.rstrip("\n") + tail
    if text and not text.endswith("\n"):
        text += "\n"
    return text + block


def setup(repo: Path, command: str) -> Setup:
    """Write the attributes block and the local config; `command` runs sopskit."""
    patterns = sorted(dict.fromkeys([*_registry_globs(repo),
                                     *map(literal, tracked_sops_files(repo))]))
    attributes = repo / ".gitattributes"
    old = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    new = _replace_block(old, attributes_block(patterns))
    if new != old:
        write_atomic(attributes, new)
    config = (
        (f"diff.{DRIVER}.textconv", f"{command} git textconv"),
        (f"diff.{DRIVER}.cachetextconv", "false"),
        (f"merge.{DRIVER}.name", "sopskit: per-key-path merge of sops files"),
        (f"merge.{DRIVER}.driver", f"{command} git merge %O %A %B %P"),
    )
    for key, value in config:
        gitio.git(repo, "config", "--local", key, value)
    return Setup(tuple(patterns), config, new != old)
