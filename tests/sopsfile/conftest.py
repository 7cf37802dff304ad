"""Fixtures: sops files made on the spot by the real sops binary with fresh keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sopskit.identity.model import AgeIdentity, Identities
from tests.helpers import AgeKey, age_key, run_sops


@pytest.fixture(scope="session")
def age_pair() -> AgeKey:
    return age_key()


@pytest.fixture(scope="session")
def age_ids(age_pair: AgeKey) -> Identities:
    return Identities(age=(AgeIdentity(age_pair.secret, age_pair.recipient, "test"),))


SopsMaker = Callable[..., Path]


@pytest.fixture(scope="session")
def make_sops(tmp_path_factory: pytest.TempPathFactory, age_pair: AgeKey) -> SopsMaker:
    """Write `plaintext` to NAME and encrypt it in place with the real sops (age)."""
    root = tmp_path_factory.mktemp("made")

    def make(name: str, plaintext: str | bytes, *flags: str, env: dict[str, str] | None = None,
             cwd: Path | None = None) -> Path:
        where = cwd or root
        target = where / name
        target.write_bytes(plaintext.encode() if isinstance(plaintext, str) else plaintext)
        keys = [] if cwd else ["--age", age_pair.recipient]
        done = run_sops("--encrypt", *keys, *flags, "--in-place", target.name,
                        env={"SOPS_AGE_KEY": age_pair.secret, **(env or {})}, cwd=where)
        assert done.returncode == 0, done.stderr.decode()
        return target

    return make


def sops_decrypt(path: Path, env: dict[str, str], *extra: str) -> bytes:
    done = run_sops("--decrypt", *extra, path.name, env=env, cwd=path.parent)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout
