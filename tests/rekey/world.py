"""A real GitOps-shaped repository for rekey tests: a registry with an admin key and one
Flux key per cluster (real age keys), and sops files of every store encrypted by the real
sops exactly as the registry says. Every plaintext carries MARKER, so a test can grep the
disk for leaked plaintext."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sopskit.engine.rekey.desired import load_desired
from sopskit.identity.model import AgeIdentity, Identities
from sopskit.sops.binary import locate
from sopskit.sops.runner import Sops
from tests.helpers import AgeKey, age_key, git, git_repo

MARKER = "PLAINTEXT-MARKER-7f3a"
STORES = ("yaml", "json", "env", "ini", "bin")


def content(store: str, n: int) -> str:
    secret = f"{MARKER}-{n}"
    if store == "yaml":
        return (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{n}\n"
                f"stringData:\n  password: {secret}\n  user: app{n}\n")
    if store == "json":
        return f'{{\n  "kind": "Secret",\n  "data": {{"token": "{secret}"}}\n}}\n'
    if store == "env":
        return f"PASSWORD={secret}\nUSER=app{n}\n"
    if store == "ini":
        return f"[db]\npassword = {secret}\nuser = app{n}\n"
    return f"binary blob {secret}\n"


def registry_text(keys: dict[str, tuple[str, str, str]], extra_rules: str = "") -> str:
    """keys: name -> (recipient or PGP fingerprint, clusters yaml, status)."""
    lines = ["version: 1", "defaults:", "  encrypted_regex: ^(data|stringData)$",
             "clusters:", '  sandbox: {description: "tracks main"}',
             '  production: {description: "tracks release tags"}', "keys:"]
    for name, (recipient, clusters, status) in keys.items():
        kind = ("    type: age", f"    recipient: {recipient}") if recipient.startswith(
            "age1") else ("    type: pgp", f"    fingerprint: {recipient}")
        lines += [f"  {name}:", *kind,
                  f"    clusters: {clusters}", f"    status: {status}"]
    lines += ["rules:", extra_rules.rstrip("\n"),
              "  - path: clusters/production/**", "    clusters: [production]",
              "  - path: clusters/sandbox/**", "    clusters: [sandbox]",
              '  - path: "**"', "    clusters: [sandbox, production]"]
    return "\n".join(line for line in lines if line) + "\n"


@dataclass
class World:
    root: Path
    keys: dict[str, AgeKey] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    clusters: dict[str, str] = field(default_factory=dict)
    extra_rules: str = ""
    pgp: dict[str, str] = field(default_factory=dict)  # name -> fingerprint
    gnupghome: Path | None = None

    def add_key(self, name: str, clusters: str, status: str = "active") -> AgeKey:
        self.keys[name] = age_key()
        self.clusters[name] = clusters
        self.status[name] = status
        self.write_registry()
        return self.keys[name]

    def add_pgp_key(self, name: str, fingerprint: str, clusters: str, gnupghome: Path) -> None:
        self.pgp[name] = fingerprint
        self.gnupghome = gnupghome
        self.clusters[name] = clusters
        self.status[name] = "active"
        self.write_registry()

    def write_registry(self) -> None:
        reg = {n: (k.recipient, self.clusters[n], self.status[n]) for n, k in self.keys.items()}
        reg |= {n: (fp, self.clusters[n], self.status[n]) for n, fp in self.pgp.items()}
        (self.root / "keys").mkdir(exist_ok=True)
        (self.root / "keys" / "registry.yaml").write_text(registry_text(reg, self.extra_rules))

    def set_status(self, name: str, status: str) -> None:
        self.status[name] = status
        self.write_registry()

    def identities(self, *names: str) -> Identities:
        chosen = names or tuple(self.keys)
        return Identities(tuple(AgeIdentity(self.keys[n].secret, self.keys[n].recipient, "test",
                                            name=n) for n in chosen if n in self.keys),
                          self.gnupghome)

    def env(self, *names: str) -> dict[str, str]:
        """A CLI environment holding exactly these private keys (default: all)."""
        chosen = names or tuple(self.keys)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS")}
        env["SOPS_AGE_KEY"] = "\n".join(self.keys[n].secret for n in chosen)
        env["CI"] = "true"
        if self.gnupghome is not None:
            env["GNUPGHOME"] = str(self.gnupghome)
        return env

    def encrypt(self, relpath: str, text: str) -> Path:
        """Encrypt `text` to `relpath` with the real sops, as the registry says now."""
        desired = load_desired(self.root)
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        from sopskit.sopsfile.document import detect_format

        rule = desired.rule(relpath, detect_format(relpath))
        sops = Sops(locate(None), self.identities())
        path.write_bytes(sops.encrypt(text.encode(), filename=path.name, rule=rule))
        return path

    def populate(self, count: int, prefix: str = "clusters/sandbox/apps") -> list[str]:
        """`count` small files cycling through every store; their relative paths."""
        out = []
        for n in range(count):
            store = STORES[n % len(STORES)]
            rel = f"{prefix}/f{n:03d}.{store}"
            self.encrypt(rel, content(store, n))
            out.append(rel)
        return out

    def commit(self, message: str = "secrets") -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)


def make_world(tmp_path: Path) -> World:
    world = World(git_repo(tmp_path / "repo"))
    world.add_key("ops-admin", '["*"]')
    world.add_key("flux-sandbox", "[sandbox]")
    world.add_key("flux-production", "[production]")
    return world
