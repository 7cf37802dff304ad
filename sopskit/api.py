"""The public Python API (`import sopskit`): decrypt, verify, encrypt, load_registry, audit.

Each function does what the CLI command of the same name does, through the same library
functions: the repository is found from the file (its nearest ancestor holding `.git`, as
the CLI finds it from the working directory), identities are discovered as the CLI does
(`--identity`, SOPS_AGE_KEY*, the OS keyring, the default keys file, GnuPG) unless
`identities=` names key files, and the sops binary is the bundled one (or SOPSKIT_SOPS).
Paths are `str` or `os.PathLike`. Every failure is a `sopskit.SopskitError` subclass whose
`exit_code` is the CLI's; nothing is printed. See docs/api.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from sopskit.errors import ConfigError, InputError, UsageError

if TYPE_CHECKING:
    from sopskit.audit.result import AuditResult
    from sopskit.identity.model import Identities
    from sopskit.registry.model import Cluster, Key, Registry, Rule
    from sopskit.registry.resolve import Resolution
    from sopskit.sops.runner import Sops
    from sopskit.sopsfile.model import Format
    from sopskit.sopsfile.verify import VerifyReport

StrPath: TypeAlias = "str | os.PathLike[str]"
IdentitiesArg: TypeAlias = "Iterable[StrPath] | Identities | None"


def _path(path: StrPath) -> Path:
    return Path(os.fspath(path)).absolute()


def _repo(path: Path, repo: StrPath | None) -> Path:
    """`repo` when given, else the repository `path` lies in (the directory itself for a
    directory), as the CLI finds it from its working directory."""
    from sopskit.repo import find_repo_root

    if repo is not None:
        return _path(repo).resolve()
    return find_repo_root(path if path.is_dir() else path.parent)


def _identities(repo: Path, identities: IdentitiesArg) -> Identities:
    """Discovered as the CLI does, or only the named age keys files / ssh private keys
    (PGP still through GnuPG, which has no key file: GNUPGHOME or ~/.gnupg, as sops)."""
    from sopskit.identity.model import Identities

    if isinstance(identities, Identities):
        return identities
    if identities is None:
        from sopskit.identity.registry_link import discover_for_repo

        return discover_for_repo(repo)
    from sopskit.identity.discover import from_key_files

    if isinstance(identities, str | bytes | os.PathLike):
        raise UsageError("identities= takes a list of key files, not one path")
    return from_key_files([_path(p) for p in identities])


def _sops(identities: Identities) -> Sops:
    from sopskit.sops.binary import locate
    from sopskit.sops.runner import Sops, timeout_from

    return Sops(locate(os.environ.get("SOPSKIT_SOPS") or None), identities,
                timeout=timeout_from(os.environ))


def decrypt(path: StrPath, *, raw: bool = False, extract: str | None = None,
            identities: IdentitiesArg = None, repo: StrPath | None = None,
            input_type: Format | None = None) -> Any:
    """The plaintext of the sops file `path`, MAC checked (as `sopskit decrypt`).

    Parsed by default: dict (or a list of documents) for YAML, dict/list for JSON, dict of
    strings for dotenv, dict of sections for INI, bytes for a binary file. `raw=True`: the
    bytes `sops -d` prints. `extract='["data"]["password"]'`: only that value or subtree
    (with `raw=True`, the bytes `sops -d --extract` prints).
    """
    from sopskit.engine import paths
    from sopskit.engine.decrypt import decrypt_file
    from sopskit.sopsfile.document import detect_format

    file = _path(path)
    root = _repo(file, repo)
    ids = _identities(root, identities)
    source = paths.target(root, file)
    done = decrypt_file(source, repo=root, identities=ids, sops=lambda: _sops(ids),
                        input_type=input_type)
    fmt = detect_format(str(source), input_type)
    shown = paths.display(root, source)
    if extract is not None:
        from sopskit.sopsfile.treepath import parse_path

        tree_path = parse_path(extract)
        if raw:
            from sopskit.sopsfile.extract import extract as extract_bytes

            return extract_bytes(done.plaintext, fmt, tree_path, path=shown)
        from sopskit.sopsfile.pyvalue import plain_value

        return plain_value(done.plaintext, fmt, path=shown, tree_path=tree_path)
    if raw:
        return done.plaintext
    from sopskit.sopsfile.pyvalue import plain_value

    return plain_value(done.plaintext, fmt, path=shown)


def verify(path: StrPath, *, require_mac: bool = False, identities: IdentitiesArg = None,
           repo: StrPath | None = None, input_type: Format | None = None) -> VerifyReport:
    """Verify one sops file natively, as `sopskit verify` (structure, every value, the MAC
    when one of your keys opens the file). Never raises for a bad file: the report says
    `.ok`, `.mac_checked` and lists `.problems` (each with `.check` and `.message`)."""
    from sopskit.engine.verify_files import verify_paths

    file = _path(path)
    if file.is_dir():
        raise UsageError("verify() takes one file; call it for each file of the directory",
                         path=str(path))
    root = _repo(file, repo)
    reports = verify_paths(root, [file], _identities(root, identities),
                           require_mac=require_mac, input_type=input_type)
    return reports[0]


def encrypt(path: StrPath, *, output: StrPath | None = None, in_place: bool = False,
            age: Sequence[str] = (), pgp: Sequence[str] = (),
            identities: IdentitiesArg = None, repo: StrPath | None = None) -> bytes:
    """Encrypt the plaintext file `path` with sops and verify the result natively before
    anything is written, as `sopskit encrypt`. Recipients: `age=`/`pgp=`, else the
    repository's registry, else its `.sops.yaml`. Written to `output`, or over `path` with
    `in_place=True`; the ciphertext is returned in every case."""
    from sopskit.engine import paths
    from sopskit.engine.encrypt import encrypt_file
    from sopskit.engine.policy import decide

    if in_place and output is not None:
        raise UsageError("use either in_place=True or output=, not both")
    if isinstance(age, str) or isinstance(pgp, str):
        raise UsageError("age= and pgp= take a list of recipients")
    file = _path(path)
    root = _repo(file, repo)
    ids = _identities(root, identities)
    source = paths.target(root, file)
    dest = source if in_place else (paths.target(root, _path(output)) if output else None)
    done = encrypt_file(source, decide(root, source, age=age, pgp=pgp), repo=root,
                        sops=_sops(ids), identities=ids, output=dest)
    return done.ciphertext


@dataclass(frozen=True)
class LoadedRegistry:
    """A repository's validated key registry (`keys/registry.yaml`)."""

    registry: Registry
    repo: Path

    @property
    def path(self) -> Path:
        return self.registry.path

    @property
    def keys(self) -> dict[str, Key]:
        """Key name -> key (`.type`, `.recipient`, `.clusters`, `.status`, `.owner`...)."""
        return dict(self.registry.keys)

    @property
    def clusters(self) -> dict[str, Cluster]:
        return dict(self.registry.clusters)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The ordered path rules (`.path`, `.clusters`, ...): the first match wins."""
        return self.registry.rules

    def resolve(self, path: StrPath) -> Resolution:
        """Everything the registry says about `path` (as `sopskit recipients --explain`)."""
        from sopskit.registry.resolve import resolve

        return resolve(self.registry, self._relative(path))

    def recipients_for(self, path: StrPath) -> list[str]:
        """The recipients (age1... strings, PGP fingerprints) a file at `path` (relative to
        the repository, or absolute inside it) must be encrypted to, sorted."""
        return sorted(r.id for r in self.resolve(path).recipients)

    def _relative(self, path: StrPath) -> str:
        given = Path(os.fspath(path))
        if not given.is_absolute():
            return given.as_posix()
        from sopskit.repo import relative_posix

        return relative_posix(self.repo, given)


def load_registry(repo: StrPath | None = None, *,
                  path: StrPath | None = None) -> LoadedRegistry:
    """The registry of the repository `repo` (default: the one the working directory is
    in): `path=`, else SOPSKIT_REGISTRY, else `keys/registry.yaml`. A ConfigError lists
    every problem of an invalid registry; an InputError says when there is none."""
    from sopskit.registry.locate import registry_path
    from sopskit.registry.schema import load_registry as load

    root = _repo(_path("."), repo)
    file = registry_path(root, os.fspath(path) if path is not None else None)
    if file is None:
        raise InputError("no key registry here (keys/registry.yaml); `sopskit init` makes one",
                         path=str(root))
    return LoadedRegistry(load(file), root)


def audit(path: StrPath = ".", *, identities: IdentitiesArg = None,
          registry: StrPath | None = None, baseline: StrPath | None = None,
          staged: bool = False, since: str | None = None) -> AuditResult:
    """Audit as `sopskit audit` does, in the repository `path` lies in: the whole repository
    when `path` is its root (`"."` from the root), else only `path` (a file or directory),
    as `sopskit audit PATH`. The result has `.findings` (each with `.rule`, `.severity`,
    `.path`, `.line`, `.message`) and `.summary` (the JSON report's counts); the
    repository's `.sopskit-baseline.json` applies unless `baseline=` names another."""
    from sopskit.audit.run import AuditOptions, run_audit

    target = _path(path)
    root = _repo(target, None)
    try:
        ids = _identities(root, identities)
    except ConfigError:  # an invalid registry is a finding of the audit, not a stop (CLI too)
        from sopskit.identity.discover import discover

        ids = discover()
    paths = () if target.resolve() == root else (target,)
    return run_audit(AuditOptions(
        repo=root, paths=paths, staged=staged, since=since, identities=ids,
        registry=_path(registry) if registry is not None else None,
        baseline=_path(baseline) if baseline is not None else None))
