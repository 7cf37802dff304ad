"""The stable rule ids of the audit: category, default severity and a one-line description.

Ids never change meaning once released; docs/rules.md documents each with an example.
Inline suppressions (`sopskit: allow RULE-ID`) and baselines refer to these ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sopskit.audit.finding import Category, Severity


@dataclass(frozen=True)
class Rule:
    id: str
    category: Category
    severity: Severity
    title: str

    def message(self, detail: str) -> str:
        """`title: detail`, saying each thing once: a leading clause of `detail` that only
        restates the title (same words, any order) is dropped."""
        head, sep, rest = detail.partition(": ")
        if _words(head) <= _words(self.title):
            detail = rest if sep else ""
        return f"{self.title}: {detail}" if detail else self.title


_FILLER = frozenset({"a", "an", "the", "of", "it", "its", "this", "that", "is", "are", "in"})


def _words(text: str) -> frozenset[str]:
    """The words that carry meaning (fillers such as "it" or "of" do not make a clause
    that restates the title say something new)."""
    return frozenset(re.findall(r"[a-z0-9.']+", text.lower())) - _FILLER


C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW

_TABLE: tuple[tuple[str, Category, Severity, str], ...] = (
    ("k8s-secret-plaintext", "plaintext", H, "Kubernetes Secret with an unencrypted value"),
    ("flux-age-key", "plaintext", C, "Flux sops-age Secret holding a plaintext age key"),
    ("sops-plaintext-value", "plaintext", C, "plaintext value at an encrypted path of a sops file"),
    ("unencrypted-file", "plaintext", H, "file meant to be sops-encrypted has no sops metadata"),
    ("private-key", "plaintext", C, "private key (PEM / OpenSSH / PKCS#8)"),
    ("pgp-private-key", "plaintext", C, "PGP secret key block"),
    ("putty-private-key", "plaintext", C, "PuTTY private key file"),
    ("age-secret-key", "plaintext", C, "age identity (AGE-SECRET-KEY-1...)"),
    ("aws-access-key-id", "plaintext", H, "AWS access key id"),
    ("aws-secret-access-key", "plaintext", C, "AWS secret access key"),
    ("gcp-service-account", "plaintext", C, "GCP service-account key (JSON)"),
    ("gcp-api-key", "plaintext", H, "Google API key"),
    ("azure-storage-key", "plaintext", C, "Azure storage account key"),
    ("azure-connection-string", "plaintext", H, "Azure connection string with a shared key"),
    ("github-token", "plaintext", H, "GitHub token"),
    ("gitlab-token", "plaintext", H, "GitLab token"),
    ("slack-token", "plaintext", H, "Slack token"),
    ("slack-webhook", "plaintext", H, "Slack incoming webhook URL"),
    ("stripe-key", "plaintext", H, "Stripe secret or restricted key"),
    ("npm-token", "plaintext", H, "npm access token"),
    ("pypi-token", "plaintext", H, "PyPI upload token"),
    ("vault-token", "plaintext", H, "HashiCorp Vault token"),
    ("jwt", "plaintext", H, "signed JSON Web Token"),
    ("docker-config-auth", "plaintext", H, "registry credentials in a Docker config"),
    ("kubeconfig-credential", "plaintext", H, "token or client key in a kubeconfig"),
    ("url-credentials", "plaintext", H, "password embedded in a URL"),
    ("generic-secret", "plaintext", H, "literal value assigned to a secret-like key"),
    ("plaintext-still-in-use", "plaintext", C,
     "a value once committed in plaintext is today's value of an encrypted secret"),
    ("recipient-missing", "recipients", H,
     "a recipient the registry or .sops.yaml requires is missing"),
    ("recipient-unauthorised", "recipients", H,
     "a recipient the registry or .sops.yaml does not list"),
    ("key-groups-drift", "recipients", H,
     "key groups or Shamir threshold differ from the creation rule"),
    ("recipient-retired", "recipients", M, "a retired (or expired) key is still a recipient"),
    ("recipient-revoked", "recipients", C, "a revoked key is still a recipient"),
    ("data-key-stale", "rotation", M, "data key older than --max-data-key-age"),
    ("key-expiring", "rotation", M, "registry key expires within --expiry-warning days"),
    ("key-expired", "rotation", H, "registry key has expired"),
    ("sops-parse-error", "integrity", H, "a sops file cannot be parsed"),
    ("sops-metadata-invalid", "integrity", H, "malformed or incomplete sops metadata"),
    ("sops-mac-missing", "integrity", H, "sops file without a MAC"),
    ("sops-metadata-missing", "integrity", H,
     "ENC[...] values in a file without sops metadata (nobody can decrypt it)"),
    ("sops-value-malformed", "integrity", H, "malformed ENC[...] value"),
    ("sops-ciphertext-at-plaintext-path", "integrity", M,
     "ENC[...] value at a path the crypt rule leaves in plaintext"),
    ("sops-no-encrypted-values", "plaintext", C,
     "a sops file whose crypt rule leaves every value in plaintext"),
    ("sops-mac-mismatch", "integrity", C, "MAC does not match the content"),
    ("sops-decrypt-failed", "integrity", H, "a value does not decrypt with the file's data key"),
    ("sops-recipient-unopenable", "integrity", H,
     "a key of yours is a recipient but cannot recover the data key"),
    ("registry-invalid", "config", H, "the key registry is invalid"),
    ("config-drift", "config", M, ".sops.yaml differs from the registry's rendering"),
    ("no-rule", "config", M, "a sops file matches no registry or .sops.yaml creation rule"),
    ("crypt-rule-drift", "config", M,
     "a sops file's crypt rule differs from its creation rule's"),
    ("mac-only-encrypted-drift", "config", M,
     "a sops file's mac_only_encrypted differs from its creation rule's"),
    ("sops-config-invalid", "config", H, ".sops.yaml is one sops cannot use"),
    ("flux-decryption-missing", "delivery", H,
     "a Flux Kustomization applies a sops Secret or secretGenerator source without "
     "spec.decryption (provider sops)"),
    ("flux-key-missing", "delivery", C,
     "a sops file a cluster applies cannot be decrypted by that cluster's keys"),
    ("flux-recipient-outlier", "delivery", M,
     "a sops file lacks a recipient every other sops file of its cluster has"),
    ("flux-secret-ref-mismatch", "delivery", H,
     "decryption.secretRef names another Secret than the cluster's decryption Secret"),
    ("flux-age-key-name", "delivery", H,
     "a decryption Secret entry kustomize-controller ignores (age keys end in .agekey)"),
    ("flux-sops-not-secret", "delivery", M,
     "a sops-encrypted manifest applied by Flux that is not a Secret"),
    ("flux-path-missing", "delivery", H,
     "a Flux Kustomization path or kustomize reference that does not exist"),
)

RULES: dict[str, Rule] = {r[0]: Rule(*r) for r in _TABLE}


def rule(rule_id: str) -> Rule:
    """The rule with this id (a KeyError is a bug in a detector)."""
    return RULES[rule_id]
