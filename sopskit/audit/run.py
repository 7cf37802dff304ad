"""`run_audit(options) -> AuditResult`: scope, per-file scan (in parallel for large scans),
then the repository-level checks (recipients, integrity with a key, rotation, config) and
the baseline. Library code: no printing; errors are SopskitError subclasses."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sopskit.audit import baseline as baseline_mod
from sopskit.audit import config_drift, creation_rules, integrity, recipients, rotation, scope
from sopskit.audit.detectors.unencrypted import DEFAULT_PATTERNS, Promise, config_promise
from sopskit.audit.finding import Finding
from sopskit.audit.result import AuditResult
from sopskit.audit.scan import DEFAULT_MAX_FILE_SIZE, FileResult, ScanSettings, scan_bytes
from sopskit.errors import InputError, SopskitError, UsageError
from sopskit.flux.loader import holds_discovered
from sopskit.gpg import key_expiry
from sopskit.history import datakey, leaks
from sopskit.identity.model import Identities
from sopskit.registry.locate import registry_path
from sopskit.registry.model import Registry
from sopskit.registry.resolve import resolve_or_none
from sopskit.registry.sops_config import CONFIG_NAME, nearest_config, rule_of
from sopskit.repo import display, is_git_repo

PARALLEL_MIN_FILES = 400  # below this, starting workers costs more than it saves
_CHUNK = 64


@dataclass(frozen=True)
class AuditOptions:
    repo: Path
    paths: tuple[Path, ...] = ()
    staged: bool = False
    since: str | None = None
    max_data_key_age: int = 365
    expiry_warning: int = 30
    jobs: int | None = None  # None: one per CPU for large scans
    identities: Identities | None = None
    registry: Path | None = None  # explicit registry file
    baseline: Path | None = None
    today: date | None = None
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    history: bool = False  # every blob of every branch and tag (`since`: commits after it)


@dataclass
class Collected:
    """Every finding before the baseline, and what was scanned."""

    findings: list[Finding]
    files_scanned: int
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sops_files: tuple[str, ...] = ()  # paths of the files with sops metadata
    examined: frozenset[str] = frozenset()  # every path in scope (skipped ones too)


@dataclass
class _Context:
    options: AuditOptions
    now: datetime
    registry: Registry | None = None
    registry_rel: str | None = None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.options.today or self.now.date()


def run_audit(options: AuditOptions) -> AuditResult:
    """The audit with the baseline applied (`options.baseline`, else the repository's
    `.sopskit-baseline.json` when it exists)."""
    if not options.repo.is_dir():  # else a mistyped --repo passed as "0 findings", exit 0
        raise UsageError("the repository is not a directory", path=options.repo)
    collected = collect_history(options) if options.history else collect(options)
    path = options.baseline or _default_baseline(options.repo)
    new, accepted = collected.findings, list[Finding]()
    if path is not None:
        new, accepted = baseline_mod.load(path).split(collected.findings, _today(options))
    skipped = sum(collected.skipped.values())
    return AuditResult(new, collected.files_scanned, skipped, collected.skipped, len(accepted),
                       collected.notes)


def coverage(options: AuditOptions, collected: Collected) -> Callable[[str], bool] | None:
    """Which repository paths a narrowed audit speaks for (None: all of them): the files
    it examined, and with PATHs everything under them (a deleted file included)."""
    if options.staged or options.since:
        return collected.examined.__contains__
    if not options.paths:
        return None
    repo = options.repo.resolve()
    tops = [Path(os.path.relpath(p.resolve(), repo)).as_posix() for p in options.paths]
    if "." in tops:
        return None
    return lambda rel: any(rel == t or rel.startswith(t + "/") for t in tops)


def _today(options: AuditOptions) -> date:
    return options.today or datetime.now(UTC).date()


def _default_baseline(repo: Path) -> Path | None:
    path = repo / baseline_mod.DEFAULT_NAME
    return path if path.is_file() else None


def collect_history(options: AuditOptions) -> Collected:
    """`audit --history`: plaintext ever committed (inline allows applied, baseline not)."""
    if options.staged or options.paths:
        raise UsageError("--history scans every commit of every branch and tag: it takes "
                         "neither --staged nor PATHs (--since REV limits the commits)")
    ctx = _Context(options, datetime.now(UTC))
    settings = ScanSettings(_load_registry(ctx), options.max_file_size)
    got = leaks.scan_history(options.repo, settings, since=options.since,
                             identities=options.identities, jobs=options.jobs)
    notes = [f"history: {got.commits} commit(s), {got.blobs_scanned} blob(s) scanned", *ctx.notes,
             *got.notes]
    return Collected(got.findings, got.blobs_scanned, got.skipped, notes)


def collect(options: AuditOptions) -> Collected:
    """Every finding in scope (inline allows applied, baseline not)."""
    if options.staged and options.since:
        raise UsageError("use either --staged or --since, not both")
    ctx = _Context(options, datetime.now(UTC))
    settings = ScanSettings(_load_registry(ctx), options.max_file_size)
    files = _scope(options)
    results = _secret_sources(files, settings, _scan(files, settings, options.jobs))
    sops_files = [r for r in results if r.sops is not None]
    findings = [f for r in results for f in r.findings]
    configs = [r.path for r in results if r.path.rsplit("/", 1)[-1] == CONFIG_NAME
               and not r.skipped]
    findings += _sops_checks(ctx, files, sops_files, configs)
    if not (options.staged or options.since):
        findings += _repo_checks(ctx)
        findings += _delivery(ctx, results)
    skipped = dict(files.skipped)
    for r in results:
        if r.skipped:
            skipped[r.skipped] = skipped.get(r.skipped, 0) + 1
    scanned = sum(1 for r in results if not r.skipped)
    unique = sorted(set(findings + ctx.findings), key=Finding.sort_key)
    sops_paths = tuple(sorted(r.path for r in results if r.sops is not None or r.sops_broken))
    return Collected(unique, scanned, skipped, ctx.notes, sops_paths,
                     frozenset(r.path for r in results))


def _load_registry(ctx: _Context) -> Promise:
    repo = ctx.options.repo
    path = registry_path(repo, ctx.options.registry)
    if path is None:
        return config_promise(repo)
    rel = _relative(repo, path)
    ctx.registry_rel = rel
    ctx.registry, problems = config_drift.load(path, rel)
    ctx.findings += problems
    if ctx.registry is None or not ctx.registry.defaults.encrypted_files:
        return Promise(DEFAULT_PATTERNS)
    return Promise(registry_globs=tuple(ctx.registry.defaults.encrypted_files))


def _relative(repo: Path, path: Path) -> str:
    return display(repo, path.resolve())


def _scope(options: AuditOptions) -> scope.Scope:
    if options.staged:
        return scope.staged(options.repo, options.paths)
    if options.since:
        return scope.since(options.repo, options.since, options.paths)
    return scope.working_tree(options.repo, options.paths)


def _secret_sources(files: scope.Scope, settings: ScanSettings,
                    results: list[FileResult]) -> list[FileResult]:
    """Rescan the plaintext files a kustomize secretGenerator reads (`envs`, `files`): each
    of their values becomes a Secret's. sops-encrypted ones are what Flux expects."""
    sources = {path: mode for r in results for path, mode in r.secret_sources}
    if not sources:
        return results
    out = []
    for r in results:
        mode = sources.get(r.path)
        if mode is None or r.skipped or r.sops is not None or r.sops_broken:
            out.append(r)
        else:
            out.append(scan_bytes(r.path, _read(files, r.path), settings, secret_source=mode))
    return out


def _scan(files: scope.Scope, settings: ScanSettings, jobs: int | None) -> list[FileResult]:
    results = [scan_bytes(rel, data, settings) for rel, data in files.blobs.items()]
    items = sorted(files.disk.items())
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or (jobs is None and len(items) < PARALLEL_MIN_FILES):
        return results + scan_paths(settings, items)
    chunks = [items[i:i + _CHUNK] for i in range(0, len(items), _CHUNK)]
    context = multiprocessing.get_context("fork" if os.name == "posix" else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for part in pool.map(scan_paths, [settings] * len(chunks), chunks):
            results += part
    return results


def scan_paths(settings: ScanSettings, items: list[tuple[str, Path]]) -> list[FileResult]:
    """Read and scan files from disk (a worker's unit of work)."""
    out = []
    for rel, path in items:
        out.append(_scan_disk(rel, path, settings))
    return out


def _scan_disk(rel: str, path: Path, settings: ScanSettings) -> FileResult:
    try:
        with open(path, "rb") as f:  # one open: the size from the descriptor, then the bytes
            if os.fstat(f.fileno()).st_size > settings.max_file_size:
                return FileResult(rel, skipped="size")
            data = f.read()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=rel) from None
    result = scan_bytes(rel, data, settings)
    result.flux_discovery = holds_discovered(rel, data)
    return result


def _sops_checks(ctx: _Context, files: scope.Scope, sops_files: list[FileResult],
                 configs: list[str]) -> list[Finding]:
    out: list[Finding] = []
    if ctx.registry is not None:
        out += _registry_rules(ctx, sops_files)
    elif ctx.registry_rel is None:
        out += _config_rules(ctx, sops_files, configs)
    out += _keyed_integrity(ctx, files, sops_files)
    if not ctx.options.staged and is_git_repo(ctx.options.repo):
        out += _rotation(ctx, [r.path for r in sops_files])
    return out


def _registry_rules(ctx: _Context, sops_files: list[FileResult]) -> Iterator[Finding]:
    assert ctx.registry is not None
    for r in sops_files:
        assert r.sops is not None
        yield from recipients.check(ctx.registry, r.path, r.sops, today=ctx.today,
                                    flux_secret=r.flux_secret)
        resolution = None if r.flux_secret else resolve_or_none(ctx.registry, r.path,
                                                                 today=ctx.today)
        if resolution is not None:
            yield from creation_rules.structure(r.path, r.sops, rule_of(resolution))


def _config_rules(ctx: _Context, sops_files: list[FileResult],
                  configs: list[str]) -> list[Finding]:
    """No registry: every sops file against the `.sops.yaml` rule sops would pick, and
    every `.sops.yaml` in scope that sops cannot read, used by a file or not (the next
    `sops -e` in its directory fails)."""
    checks = creation_rules.ConfigChecks(ctx.options.repo)
    for rel in configs:
        checks.config(ctx.options.repo / rel)
    if not sops_files:
        return checks.problems
    if not any(nearest_config(checks.repo, r.path) for r in sops_files):
        ctx.notes.append("no key registry (keys/registry.yaml) and no .sops.yaml above any "
                         "sops file: recipients not checked")
        return checks.problems  # a .sops.yaml elsewhere that sops cannot read still is one
    out: list[Finding] = []
    for r in sops_files:
        assert r.sops is not None
        out += checks.check(r.path, r.sops, flux_secret=r.flux_secret)
    return out + checks.problems


def _read(files: scope.Scope, rel: str) -> bytes:
    return files.blobs[rel] if rel in files.blobs else files.disk[rel].read_bytes()


def _keyed_integrity(ctx: _Context, files: scope.Scope,
                     sops_files: list[FileResult]) -> Iterator[Finding]:
    ids = ctx.options.identities
    if ids is None or not (ids.age or ids.gnupghome):
        if sops_files:
            ctx.notes.append("MAC not checked: no identity available (key-less checks only)")
        return
    unchecked = 0
    for r in sops_files:
        checked, found = integrity.with_key(r.path, _read(files, r.path), ids)
        unchecked += not checked
        yield from found
    if unchecked:
        ctx.notes.append(f"MAC not checked for {unchecked} sops file(s): no identity opens them")


def _rotation(ctx: _Context, paths: list[str]) -> list[Finding]:
    if not paths:
        return []
    ages = datakey.key_ages(ctx.options.repo, paths, ctx.options.identities)
    cut = rotation.lower_bounds(ages, max_days=ctx.options.max_data_key_age, now=ctx.now)
    ctx.notes.extend([cut] if cut else [])
    return list(rotation.stale(ages, max_days=ctx.options.max_data_key_age, now=ctx.now))


def _repo_checks(ctx: _Context) -> list[Finding]:
    if ctx.registry is None or ctx.registry_rel is None:
        return []
    out = config_drift.drift(ctx.options.repo, ctx.registry, today=ctx.today)
    for key in ctx.registry.keys.values():
        if key.status != "active":
            continue
        out += _key_expiry(ctx, key.name, key.expires, key.line, "registry")
        if key.public_key is not None and key.public_key.is_file():
            out += _key_expiry(ctx, key.name, _pgp_expiry(key.public_key), key.line, "PGP key")
    return out


def _delivery(ctx: _Context, results: list[FileResult]) -> list[Finding]:
    """The `delivery` category: `sopskit flux check` of the working tree (issue 11); the
    files the scan read are not read again to find Flux objects."""
    from sopskit.flux.check import CheckOptions, flux_check

    if ctx.options.paths:
        return []  # a narrowed audit speaks for its paths only; delivery is repository-wide
    known = {r.path: r.flux_discovery for r in results if r.flux_discovery is not None}
    try:
        report = flux_check(CheckOptions(ctx.options.repo, registry=ctx.registry, known=known))
    except SopskitError as exc:
        ctx.notes.append(f"delivery not checked: {exc}")
        return []
    return [f.finding() for f in report.findings]


def _pgp_expiry(path: Path) -> date | None:
    try:
        return key_expiry(path)
    except SopskitError:
        return None  # gpg missing: the registry date still applies


def _key_expiry(ctx: _Context, name: str, expires: date | None, line: int | None,
                source: str) -> list[Finding]:
    if expires is None or ctx.registry_rel is None:
        return []
    found = rotation.expiry(name, expires, path=ctx.registry_rel, line=line, today=ctx.today,
                            warning_days=ctx.options.expiry_warning, source=source)
    return [found] if found else []
