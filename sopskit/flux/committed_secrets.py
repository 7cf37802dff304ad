"""The decryption Secrets a repository commits for its clusters (the `sops-age` Secret of
`sopskit flux secret`, or one written by hand), read without decrypting: the entry names
are plaintext even in a sops-encrypted Secret.

kustomize-controller (controllers/kustomization/decryptor.go) reads `*.agekey` entries as
age identities and `*.asc` as PGP keys, plus the fixed names below; every other entry is
ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from sopskit.flux.loader import YAML_SUFFIXES, Loader
from sopskit.flux.objects import Doc

AGE_SUFFIX = ".agekey"
PGP_SUFFIX = ".asc"
KNOWN_ENTRIES = frozenset({"sops.vault-token", "sops.aws-kms", "sops.azure-kv",
                           "sops.gcp-kms"})
_AGE_IDENTITY = "AGE-SECRET-KEY-1"


@dataclass(frozen=True)
class DecryptionSecret:
    file: str
    line: int
    name: str
    namespace: str
    entries: tuple[str, ...]
    age_values: tuple[str, ...]  # entries whose plaintext value is an age identity

    def ignored_entries(self) -> list[str]:
        """Entries kustomize-controller does not read."""
        return [e for e in self.entries if not e.endswith((AGE_SUFFIX, PGP_SUFFIX))
                and e not in KNOWN_ENTRIES]


def _entries(doc: Doc) -> tuple[list[str], list[str]]:
    names: list[str] = []
    age: list[str] = []
    for fld in ("data", "stringData"):
        values = doc.data.get(fld)
        if isinstance(values, dict):
            names += [str(k) for k in values if k != "sops"]
            age += [str(k) for k, v in values.items()
                    if isinstance(v, str) and v.lstrip().startswith(_AGE_IDENTITY)]
    return names, age


def find(loader: Loader, referenced: set[str]) -> list[DecryptionSecret]:
    """Secrets that are decryption Secrets: named by a `decryption.secretRef`, or holding
    an `.agekey` entry or a plaintext age identity."""
    needles = [AGE_SUFFIX.encode(), _AGE_IDENTITY.encode(), *(n.encode() for n in referenced)]
    out = []
    for rel in sorted(loader.tree.files):
        if not rel.endswith(YAML_SUFFIXES):
            continue
        data = loader.tree.read(rel)
        if not data or b"Secret" not in data or not any(n in data for n in needles):
            continue
        for doc in loader.docs(rel):
            if not isinstance(doc.data, dict) or doc.kind != "Secret":
                continue
            names, age = _entries(doc)
            if (doc.name in referenced or age
                    or any(n.endswith(AGE_SUFFIX) for n in names)):
                out.append(DecryptionSecret(rel, doc.line, doc.name, doc.namespace,
                                            tuple(names), tuple(age)))
    return out
