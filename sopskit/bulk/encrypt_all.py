"""`sopskit encrypt --all` / `encrypt -i DIR`: encrypt what must be encrypted and is not.

A file must be encrypted when its name promises it (the registry's `encrypted_files`,
else `*.sops.*` / `*.enc.*` and `.sops.yaml` rules that select only such names: the same
promise the audit checks) or when it is a Kubernetes Secret with plaintext `data` /
`stringData`; sops files, templates (`secret.sops.yaml.j2`) and the sops config are
skipped. The plan lists each file with its reason and recipients' source; files are then
encrypted in parallel (each one is `encrypt_file`: the real sops, native verification,
atomic replace), so one failure leaves the others done and safe.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sopskit import gitio, yamlio
from sopskit.audit.detectors.unencrypted import DEFAULT_PATTERNS, Promise, config_promise
from sopskit.audit.filekind import is_template_name
from sopskit.engine import paths
from sopskit.engine.encrypt import encrypt_file
from sopskit.engine.policy import Policy, decide
from sopskit.errors import InputError, SopskitError, UsageError
from sopskit.identity.model import Identities
from sopskit.registry.locate import registry_path
from sopskit.registry.schema import load_registry
from sopskit.sops.runner import Sops
from sopskit.sopsfile.document import detect_format, looks_like_sops

MAX_CANDIDATE_BYTES = 1 << 20  # a Secret manifest is small; larger files are not read


@dataclass(frozen=True)
class Planned:
    path: Path  # absolute
    shown: str  # repository-relative
    reason: str
    policy: Policy | None = None
    problem: str | None = None  # why it cannot be encrypted (no rule, unreadable)


@dataclass(frozen=True)
class Outcome:
    shown: str
    ok: bool
    detail: str  # "MAC checked" / the error's one line


def promise(repo: Path) -> Promise:
    """Which names promise encryption (audit/detectors/unencrypted.py)."""
    found = registry_path(repo)
    if found is not None:
        registry = load_registry(found)
        if registry.defaults.encrypted_files:
            return Promise(registry_globs=tuple(registry.defaults.encrypted_files))
        return Promise(DEFAULT_PATTERNS)
    return config_promise(repo)


def candidates(repo: Path, roots: Iterable[Path]) -> list[Path]:
    """Files under `roots` (absolute): git's tracked and untracked-but-not-ignored ones in a
    repository, else every file found."""
    rels = []
    for root in roots:
        if root != repo and repo not in root.parents:
            raise UsageError("is outside the repository", path=root)
        # `:(literal)`: `env[1]/x.yaml` names that file, not also `env1/x.yaml` (a glob)
        rels.append(":(literal)" + (root.relative_to(repo).as_posix() if root != repo else "."))
    try:
        out = gitio.git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                        "--", *rels)
    except InputError:  # not a git repository
        found: list[Path] = []
        for root in roots:
            found += [root] if root.is_file() else sorted(p for p in root.rglob("*")
                                                          if p.is_file())
        return found
    names = sorted(set(filter(None, out.decode("utf-8", "surrogateescape").split("\0"))))
    return [repo / n for n in names if (repo / n).is_file() and not (repo / n).is_symlink()]


def reason_for(shown: str, data: bytes, promised: Promise) -> str | None:
    fmt = detect_format(shown)
    if looks_like_sops(data, fmt) or is_template_name(shown):
        return None
    if promised.promised(shown):
        return "name promises encryption"
    if fmt in ("yaml", "json") and is_plain_secret(data, shown):
        return "plaintext Kubernetes Secret"
    return None


def is_plain_secret(data: bytes, shown: str) -> bool:
    """A YAML/JSON document of kind Secret with a non-empty `data` or `stringData`."""
    if b"Secret" not in data:
        return False
    try:
        docs = yamlio.load_all(data.decode("utf-8"), path=shown, rt=False)
    except (UnicodeDecodeError, InputError):
        return False
    return any(isinstance(d, dict) and d.get("kind") == "Secret"
               and any(isinstance(d.get(f), dict) and d.get(f) for f in ("data", "stringData"))
               for d in docs)


def plan(repo: Path, roots: Iterable[Path]) -> list[Planned]:
    promised = promise(repo)
    out = []
    for path in candidates(repo, roots):
        shown = paths.display(repo, path)
        try:
            if path.stat().st_size > MAX_CANDIDATE_BYTES and not promised.promised(shown):
                continue
            reason = reason_for(shown, path.read_bytes(), promised)
        except OSError:
            continue
        if reason is None:
            continue
        try:
            out.append(Planned(path, shown, reason, decide(repo, path)))
        except SopskitError as exc:
            out.append(Planned(path, shown, reason, problem=exc.message))
    return out


def encrypt_planned(planned: list[Planned], *, repo: Path, sops: Sops, identities: Identities,
                    jobs: int, on_done: Callable[[Outcome], None] | None = None,
                    allow_no_encrypted: bool = False) -> list[Outcome]:
    """Encrypt every planned file in place, `jobs` at a time; outcomes in plan order."""

    def one(item: Planned) -> Outcome:
        if item.policy is None:
            done = Outcome(item.shown, False, item.problem or "no policy")
        else:
            try:
                result = encrypt_file(item.path, item.policy, repo=repo, sops=sops,
                                      identities=identities, output=item.path,
                                      allow_no_encrypted=allow_no_encrypted)
                done = Outcome(item.shown, True, "MAC checked" if result.mac_checked
                               else "MAC not checked: no key of yours")
            except SopskitError as exc:
                done = Outcome(item.shown, False, exc.message)
        if on_done is not None:
            on_done(done)
        return done

    workers = max(1, min(jobs, len(planned) or 1))
    if workers == 1:
        return [one(p) for p in planned]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, planned))


def default_jobs() -> int:
    return os.cpu_count() or 1
