"""`sopskit exec-env`: run a command with a sops file's values as environment variables.

Like `sops exec-env` (cmd/sops/subcommand/exec: top-level scalar keys of document 0 become
`KEY=value`, appended to the environment; `--pristine`: only them), with nothing written
to disk, the command run directly (no `/bin/sh -c`), and a flattening rule for nested
files instead of an error (docs/exec.md):

- dotenv: every key as it is; INI: `section__key`;
- a Kubernetes Secret (`kind: Secret`): each key of `stringData` as it is and each key of
  `data` base64-decoded, which is what the pod would see;
- any other YAML/JSON: top-level scalars keep their names (as in sops); nested values join
  their keys (and list indices) with `__`, e.g. `db: {hosts: [a]}` -> `db__hosts__0=a`;
- null is skipped; numbers and booleans as sops prints them; two values that flatten to
  one name, a name containing `=`, or a value containing a NUL byte (binary `data`) are
  refused (naming the keys, never a value).
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from sopskit import process
from sopskit.engine.decrypt import Decrypted
from sopskit.errors import InputError, UsageError
from sopskit.sopsfile.extract import plain_branch
from sopskit.sopsfile.gorender import to_text
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.tree import Branch, Item, Node, Scalar, Seq
from sopskit.sopsfile.treepath import find_item, values

SEPARATOR = "__"


def flatten(plaintext: bytes, fmt: Format, *, path: str) -> dict[str, str]:
    """The environment variables of a decrypted file, by the rule in the module docstring."""
    if fmt == "binary":
        raise UsageError("a binary sops file has no keys to export; use exec-file", path=path)
    root = plain_branch(plaintext, fmt, path=path)
    out: dict[str, str] = {}
    origin: dict[str, str] = {}
    for name, key_path, value in _pairs(root, path):
        if "=" in name or "\0" in name or not name:
            raise InputError(f"key {key_path!r} cannot be an environment variable name",
                             path=path)
        if "\0" in value:  # e.g. a Secret's binary `data` (a keystore): execve cannot pass it
            raise InputError(f"the value of {key_path!r} contains a NUL byte, which an "
                             "environment variable cannot hold; use exec-file", path=path)
        if name in out:
            raise InputError(f"keys {origin[name]!r} and {key_path!r} both become ${name}",
                             path=path)
        out[name], origin[name] = value, key_path
    return out


def _pairs(root: Branch, path: str) -> list[tuple[str, str, str]]:
    if _is_secret(root):
        return _secret_pairs(root, path)
    out: list[tuple[str, str, str]] = []
    _walk(root, (), out)
    return out


def _is_secret(root: Branch) -> bool:
    kind = find_item(root, "kind")
    return (kind is not None and isinstance(kind.value, Scalar) and kind.value.value == "Secret"
            and (find_item(root, "data") or find_item(root, "stringData")) is not None)


def _secret_pairs(root: Branch, path: str) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for section, decode in (("data", True), ("stringData", False)):
        item = find_item(root, section)
        if item is None or not isinstance(item.value, Branch):
            continue
        for entry in item.value:
            if isinstance(entry, Item) and isinstance(entry.value, Scalar) \
                    and entry.value.value is not None:
                text = to_text(entry.value.value)
                key_path = f"{section}.{entry.key}"
                out.append((entry.key, key_path, _b64(text, key_path, path) if decode else text))
    return out


def _b64(text: str, key_path: str, path: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError):
        raise InputError(f"{key_path} is not valid base64 (a Secret's data values must be)",
                         path=path) from None


def _walk(node: Node, keys: tuple[str, ...], out: list[tuple[str, str, str]]) -> None:
    if isinstance(node, Branch):
        for item in node:
            if isinstance(item, Item):
                _walk(item.value, (*keys, item.key), out)
    elif isinstance(node, Seq):
        for index, value in enumerate(values(node)):
            _walk(value, (*keys, str(index)), out)
    elif node.value is not None:
        out.append((SEPARATOR.join(keys), ".".join(keys), to_text(node.value)))


def run_with_env(done: Decrypted, fmt: Format, command: tuple[str, ...], *, shown: str,
                 pristine: bool = False, cwd: Path | None = None) -> int:
    """Run `command` with the file's values added to (or, `pristine`, instead of) our
    environment; return its exit code. PATH is kept even when pristine, to find it."""
    if not command:
        raise UsageError("no command given (sopskit exec-env FILE -- CMD ARG...)")
    values_env = flatten(done.plaintext, fmt, path=shown)
    base = {"PATH": os.environ.get("PATH", "")} if pristine else dict(os.environ)
    with process.terminations_interrupt():
        return process.run_user_command(command, env={**base, **values_env}, cwd=cwd)
