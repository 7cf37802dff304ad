"""The delivery checks: can every cluster decrypt exactly what its Flux Kustomizations
apply? Findings of category `delivery` (docs/rules.md), each naming the cluster, the
Kustomization (namespace/name and the file defining it) and the path, and the fix.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from sopskit.audit.finding import Finding
from sopskit.audit.rules import rule
from sopskit.errors import SopskitError
from sopskit.flux.committed_secrets import AGE_SUFFIX, DecryptionSecret
from sopskit.flux.loader import Loader
from sopskit.flux.model import Cluster, Node
from sopskit.recipient import Recipient
from sopskit.registry.model import Key
from sopskit.sopsfile.document import detect_format, parse


@dataclass(frozen=True)
class FluxFinding:
    rule: str
    cluster: str | None
    kustomization: str | None  # namespace/name
    path: str
    line: int | None
    message: str
    defined_in: str | None = None  # the file defining the Kustomization
    # what in `path` is wrong, when one file can hold several (a kustomization file's
    # references, a Secret's entries): part of the fingerprint, so accepting one in the
    # baseline does not accept the next mistake in the same file
    subject: str = ""

    @property
    def full_message(self) -> str:
        """The message, naming the Kustomization's file when the finding is elsewhere."""
        if self.defined_in and self.defined_in != self.path and self.kustomization:
            return f"{self.message} (Kustomization {self.kustomization}: {self.defined_in})"
        return self.message

    def finding(self) -> Finding:
        """As an audit finding (the audit's reports, baseline and SARIF read these)."""
        r = rule(self.rule)
        where = f"cluster {self.cluster}" if self.cluster else "repository"
        if self.kustomization:
            where += f", Kustomization {self.kustomization}"
        parts = (self.rule, self.cluster or "", self.kustomization or "", self.path)
        digest = hashlib.sha256("\0".join(parts + ((self.subject,) if self.subject else ()))
                                .encode()).hexdigest()[:16]
        return Finding(self.path, self.line, self.rule, r.category, r.severity,
                       f"{where}: {self.full_message}", f"delivery:{digest}")

    def as_dict(self) -> dict[str, object]:
        r = rule(self.rule)
        return {"rule": self.rule, "category": r.category, "severity": r.severity.label,
                "cluster": self.cluster, "kustomization": self.kustomization,
                "path": self.path, "line": self.line, "message": self.full_message}


def _shown(paths: list[str], limit: int = 3) -> str:
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


def paths(cluster: Cluster) -> Iterator[FluxFinding]:
    """flux-path-missing: a Kustomization path or a kustomize reference that is not there."""
    reported: set[tuple[str, int, str, str]] = set()
    for node in cluster.nodes:
        if node.local and node.path is None and not node.unresolved:
            yield FluxFinding("flux-path-missing", cluster.name, node.label, node.file,
                              node.line, f"spec.path {node.raw_path!r} leaves the repository")
        if node.build is None:
            continue
        for ref, why in node.build.missing:
            key = (ref.file, ref.line, ref.field, ref.value)
            if key in reported:
                continue
            reported.add(key)
            what = "spec.path" if ref.field == "spec.path" else f"{ref.field} entry"
            yield FluxFinding("flux-path-missing", cluster.name, node.label, ref.file,
                              ref.line, f"{what} {ref.value!r}: {why}; fix the path or "
                              "commit what it names (Flux fails the whole Kustomization)",
                              subject=f"{ref.field}={ref.value}")


def _decryptable(loader: Loader, node: Node) -> list[str]:
    """The sops files of `node` kustomize-controller would decrypt with `decryption` set:
    the v1 Secrets it applies (decryptor.IsEncryptedSecret) and its secretGenerator
    sources. A sops ConfigMap is applied encrypted either way (flux-sops-not-secret)."""
    if node.build is None:
        return []
    generated = {ref.value for ref in node.build.secret_sources}
    return [rel for rel in node.sops_files if rel in generated or (
        rel in node.build.patches and any(
            d.is_sops and d.kind == "Secret" and d.get("apiVersion") == "v1"
            for d in loader.docs(rel)))]


def decryption(loader: Loader, cluster: Cluster) -> Iterator[FluxFinding]:
    """flux-decryption-missing: sops Secrets or secretGenerator sources applied without
    `decryption.provider: sops`."""
    names = Counter(n.decryption.secret for n in cluster.nodes
                    if n.decryption is not None and n.decryption.secret)
    secret = names.most_common(1)[0][0] if names else "<the cluster's decryption Secret>"
    for node in cluster.nodes:
        if node.decryption is not None and node.decryption.provider == "sops":
            continue
        if files := _decryptable(loader, node):
            yield FluxFinding(
                "flux-decryption-missing", cluster.name, node.label, node.file, node.line,
                f"applies {len(files)} sops file(s) ({_shown(files)}) "
                "without decryption; add `spec.decryption: {provider: sops, secretRef: "
                f"{{name: {secret}}}}}` (kustomize-controller refuses SOPS-encrypted "
                "Secrets without it)")


def not_secret(loader: Loader, cluster: Cluster) -> Iterator[FluxFinding]:
    """flux-sops-not-secret: kustomize-controller decrypts only v1 Secrets and
    secretGenerator sources; any other sops manifest is applied encrypted."""
    seen: set[tuple[str, int]] = set()
    for node in cluster.nodes:
        if node.build is None:
            continue
        for rel in node.sops_files:
            for doc in loader.docs(rel) if rel in node.build.patches else ():
                if not doc.is_sops or (doc.kind == "Secret" and doc.get("apiVersion") == "v1"):
                    continue
                if (rel, doc.line) not in seen:
                    seen.add((rel, doc.line))
                    yield FluxFinding("flux-sops-not-secret", cluster.name, node.label, rel,
                                      doc.line, f"a sops-encrypted {doc.kind or 'document'} "
                                      "is applied with its ENC[...] values: Flux decrypts "
                                      "only Secrets; make it a Secret or a secretGenerator "
                                      "source", subject=f"document at line {doc.line}")
        for ref in node.build.configmap_sources:
            if ref.value in node.sops_files and (ref.value, 0) not in seen:
                seen.add((ref.value, 0))
                yield FluxFinding("flux-sops-not-secret", cluster.name, node.label, ref.value,
                                  None, f"a sops file is a configMapGenerator source ({ref.file})"
                                  ": Flux decrypts secretGenerator sources only; move it to "
                                  "a secretGenerator")


def recipients_of(loader: Loader, rel: str) -> frozenset[Recipient] | None:
    """Every recipient of the sops file `rel` (age, PGP, cloud KMS, Vault), as the sops
    metadata parser reads them; None when it is no readable sops file."""
    data = loader.tree.read(rel)
    if data is None:
        return None
    try:
        return parse(data, path=rel, fmt=detect_format(rel)).metadata.recipients
    except SopskitError:  # a broken sops file is the integrity rules' finding
        return None


def _decrypted_files(loader: Loader, cluster: Cluster) -> dict[str, Node]:
    """The sops files the cluster's kustomize-controller decrypts (a sops ConfigMap is
    applied as it is, so no key of the cluster needs to open it)."""
    out: dict[str, Node] = {}
    for node in cluster.nodes:
        if node.decryption is not None and node.decryption.provider == "sops":
            for rel in _decryptable(loader, node):
                out.setdefault(rel, node)
    return out


def keys(loader: Loader, cluster: Cluster, cluster_keys: list[Key]) -> Iterator[FluxFinding]:
    """flux-key-missing: no recipient of the file is one of the cluster's keys."""
    names = ", ".join(k.name for k in cluster_keys) or "none"
    for rel, node in sorted(_decrypted_files(loader, cluster).items()):
        found = recipients_of(loader, rel)
        if found is None or any(k.is_recipient(r) for k in cluster_keys for r in found):
            continue
        yield FluxFinding("flux-key-missing", cluster.name, node.label, rel, None,
                          f"none of {cluster.name}'s keys ({names}) is a recipient: "
                          "kustomize-controller cannot decrypt it; add the path to a "
                          f"registry rule for {cluster.name} and run `sopskit rekey --apply`")


def outliers(loader: Loader, cluster: Cluster) -> Iterator[FluxFinding]:
    """flux-recipient-outlier (no registry): a file lacking a recipient that every other
    sops file of the cluster has (needs three files: two others to agree)."""
    files = _decrypted_files(loader, cluster)
    found = _same_spelling({rel: r for rel in files
                            if (r := recipients_of(loader, rel)) is not None})
    if len(found) < 3:
        return
    counts = Counter(r for rs in found.values() for r in rs)
    for rel, rs in sorted(found.items()):
        lacking = sorted(str(r) for r, n in counts.items() if n == len(found) - 1
                         and r not in rs)
        if lacking:
            yield FluxFinding("flux-recipient-outlier", cluster.name, files[rel].label, rel,
                              None, f"lacks {', '.join(lacking)}, a recipient of every "
                              f"other sops file {cluster.name} applies; re-encrypt it for "
                              "the cluster's key (`sops updatekeys`)")


def _same_spelling(found: dict[str, frozenset[Recipient]]) -> dict[str, frozenset[Recipient]]:
    """One spelling per PGP key: sops stores a PGP recipient as it was typed, so one file may
    name a key by its 16-hex long key id and another by the full fingerprint. A long id
    becomes the one fingerprint of the cluster's files that ends with it."""
    full = {r.id for rs in found.values() for r in rs if r.type == "pgp" and len(r.id) == 40}

    def spelled(r: Recipient) -> Recipient:
        if r.type != "pgp" or len(r.id) != 16:
            return r
        matches = [fp for fp in full if fp.endswith(r.id.upper())]
        return Recipient("pgp", matches[0]) if len(matches) == 1 else r

    return {rel: frozenset(spelled(r) for r in rs) for rel, rs in found.items()}


def secret_refs(cluster: Cluster, provided: list[DecryptionSecret]) -> Iterator[FluxFinding]:
    """flux-secret-ref-mismatch: secretRef names a Secret the repository does not provide
    for this cluster, while it commits one under another name."""
    names = {s.name for s in provided}
    if not names:
        return
    for node in cluster.nodes:
        secret = node.decryption.secret if node.decryption else None
        if secret is not None and secret not in names:
            yield FluxFinding("flux-secret-ref-mismatch", cluster.name, node.label, node.file,
                              node.line, f"decryption.secretRef is {secret!r}, but the "
                              f"decryption Secret for {cluster.name} is "
                              f"{' / '.join(sorted(names))} ({provided[0].file}); "
                              "reference that one")


def entry_names(cluster: str | None, secret: DecryptionSecret) -> Iterator[FluxFinding]:
    """flux-age-key-name: an entry kustomize-controller ignores."""
    for entry in secret.ignored_entries():
        yield FluxFinding("flux-age-key-name", cluster, None, secret.file, secret.line,
                          f"entry {entry!r} of decryption Secret {secret.name!r} is ignored "
                          f"by kustomize-controller (age keys are read from *{AGE_SUFFIX} "
                          f"entries, PGP keys from *.asc); rename it to "
                          f"{entry.rsplit('.', 1)[0]}{AGE_SUFFIX}", subject=entry)
