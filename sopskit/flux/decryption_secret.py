"""The Flux decryption Secret of a cluster, encrypted for the admins, ready to commit.

Flux's kustomize-controller reads age private keys from a Secret (`sops-age` in
`flux-system` by convention) whose entries end in `.agekey` (PGP ones in `.asc`). We
build it from the registry: one `<key name>.agekey` per active age key (`<key name>.asc`
per PGP key, exported from the GnuPG home) that names the cluster itself (keys serving
every cluster, `"*"`, are the admins': they never go into a cluster), for each of which
the identity store holds the private part. The manifest
exists only in memory and on sops' stdin; the file is encrypted to the admin keys with
`encrypted_regex: ^(data|stringData)$` and verified before anything is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sopskit import gpg
from sopskit.engine import write_check
from sopskit.errors import UsageError
from sopskit.fsio import replace_verified, write_error
from sopskit.identity.model import Identities
from sopskit.registry.model import ALL_CLUSTERS, Key, Registry
from sopskit.registry.resolve import today_utc
from sopskit.sops.config import CreationRule
from sopskit.sops.runner import Sops
from sopskit.sopsfile.model import CryptRule

SECRET_NAME = "sops-age"  # noqa: S105 - the Secret's name, Flux's convention
NAMESPACE = "flux-system"
K8S_REGEX = CryptRule("encrypted_regex", "^(data|stringData)$")


@dataclass(frozen=True)
class FluxSecret:
    cluster: str
    ciphertext: bytes = field(repr=False)
    included: tuple[str, ...]  # entry names (`<key>.agekey`, `<key>.asc`)
    skipped: tuple[str, ...]  # "name: why", for keys of the cluster left out
    admins: tuple[str, ...]  # key names the file is encrypted to
    name: str = SECRET_NAME
    namespace: str = NAMESPACE


def cluster_keys(registry: Registry, cluster: str, *, services: bool = False) -> list[Key]:
    """Active keys that name `cluster` itself (not the every-cluster admin keys): age and
    PGP keys, and with `services` the cloud KMS / Vault keys too (kustomize-controller
    decrypts with those through its own credentials; they have no private file)."""
    if cluster not in registry.clusters:
        known = ", ".join(registry.clusters) or "none"
        raise UsageError(f"no cluster {cluster!r} in the registry (clusters: {known})",
                         path=registry.path)
    return [k for k in registry.keys.values() if cluster in k.clusters
            and ALL_CLUSTERS not in k.clusters  # `["*", dev]` is still an admin key
            and k.status == "active" and not k.expired(today_utc()) and (k.managed or services)]


def admin_keys(registry: Registry) -> list[Key]:
    """Active keys serving every cluster: who may read a cluster's decryption secret."""
    return [k for k in registry.keys.values() if ALL_CLUSTERS in k.clusters
            and k.status == "active" and not k.expired(today_utc()) and k.managed]


def manifest(entries: dict[str, str], name: str = SECRET_NAME,
             namespace: str = NAMESPACE) -> bytes:
    """The Secret manifest (entry names and values JSON-quoted: valid YAML double-quoted;
    an armored PGP key keeps its newlines as `\\n` escapes)."""
    lines = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {json.dumps(name)}",
             f"  namespace: {json.dumps(namespace)}", "type: Opaque", "stringData:"]
    lines += [f"  {json.dumps(entry)}: {json.dumps(secret)}"
              for entry, secret in sorted(entries.items())]
    return ("\n".join(lines) + "\n").encode()


def export_pgp(fingerprint: str, gnupghome: Path) -> str | None:
    """The armored secret key from the GnuPG home (in memory), or None when gpg has none
    or wants a passphrase (--batch: never prompts)."""
    return gpg.export_secret(gnupghome, fingerprint)


def _secret_of(key: Key, identities: Identities) -> str | None:
    if key.type == "pgp":
        home = identities.gnupghome
        return export_pgp(key.recipient.id, home) if home is not None else None
    ident = identities.find(key.recipient.id)
    return ident.secret if ident is not None and ident.kind == "x25519" else None


def entry_name(name: str, kind: str) -> str:
    """A key's entry in the Secret: Flux reads `*.agekey` (age) and `*.asc` (PGP)."""
    return f"{name}.asc" if kind == "pgp" else f"{name}.agekey"


def _entries(keys: list[Key], identities: Identities) -> tuple[dict[str, str], list[str]]:
    """Flux's entry names (`<name>.agekey`, `<name>.asc`) -> private keys; what was left out."""
    entries: dict[str, str] = {}
    skipped: list[str] = []
    for key in keys:
        secret = _secret_of(key, identities)
        if secret is None:
            skipped.append(f"{key.name}: no private key for it in the identity store"
                           + (" (or gpg wants a passphrase)" if key.type == "pgp" else ""))
        else:
            entries[entry_name(key.name, key.type)] = secret
    return entries, skipped


def flux_secret(registry: Registry, cluster: str, identities: Identities,  # noqa: PLR0917
                sops: Sops, name: str = SECRET_NAME, namespace: str = NAMESPACE) -> FluxSecret:
    """The encrypted decryption Secret for `cluster` (named as the cluster's Kustomizations'
    `decryption.secretRef`, default `sops-age` in flux-system); UsageError when it would be
    empty or nobody could decrypt it."""
    admins = admin_keys(registry)
    if not admins:
        raise UsageError("no active key serves every cluster (clusters: [\"*\"]): nobody to "
                         "encrypt the decryption secret to", path=registry.path)
    entries, skipped = _entries(cluster_keys(registry, cluster), identities)
    if not entries:
        raise UsageError(f"no private key of cluster {cluster} is held here"
                         + (f" ({'; '.join(skipped)})" if skipped else ""))
    plain = manifest(entries, name, namespace)
    rule = CreationRule.single({k.recipient for k in admins}, crypt_rule=K8S_REGEX)
    out = sops.encrypt(plain, filename=f"{name}.yaml", rule=rule)
    write_check.check_bytes(out, path=f"{cluster} {name}", fmt="yaml", identities=identities,
                      expect=write_check.Expect(recipients=rule.recipients,
                                          crypt=(K8S_REGEX, False), plaintext=plain))
    return FluxSecret(cluster, out, tuple(sorted(entries)), tuple(skipped),
                      tuple(sorted(k.name for k in admins)), name, namespace)


def write(secret: FluxSecret, out: Path) -> None:
    """Write the encrypted manifest to `out` (temp, fsync, atomic rename)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a directory should be, no permission
        raise write_error(exc, out) from None
    replace_verified(out, secret.ciphertext, lambda _p: None)  # checked in flux_secret()
