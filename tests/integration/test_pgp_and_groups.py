"""PGP recipients through a scratch GNUPGHOME, and Shamir key groups from .sops.yaml."""

from __future__ import annotations

from tests.helpers import GpgHome, age_key
from tests.integration.conftest import World


def test_pgp_round_trip(world: World, gpg_home: GpgHome) -> None:
    fp: str = gpg_home.fp  # type: ignore[attr-defined]
    env = {**world.env, "GNUPGHOME": str(gpg_home.path)}
    env.pop("SOPS_AGE_KEY_FILE")
    path = world.write("s.json", '{"token": "pgp-secret-1"}\n')
    result = world.cli("encrypt", "-i", "--pgp", fp, path, env=env)
    assert result.code == 0, result.stderr
    assert "MAC checked" in result.stderr
    assert fp in path.read_text() and "pgp-secret-1" not in path.read_text()
    assert world.cli("verify", "--require-mac", path, env=env).code == 0
    assert '"token": "pgp-secret-1"' in world.cli("decrypt", path, env=env).stdout
    for engine in ("native", "sops"):
        assert "pgp-secret-1" in world.cli("decrypt", "--engine", engine, path, env=env).stdout


def test_key_groups_from_sops_yaml(world: World) -> None:
    second, third = age_key(), age_key()
    world.write(".sops.yaml", f"""creation_rules:
  - shamir_threshold: 2
    key_groups:
      - age: ["{world.key.recipient}"]
      - age: ["{second.recipient}"]
      - age: ["{third.recipient}"]
""")
    path = world.write("s.yaml", "pw: shamir-secret\n")
    keys = world.repo.parent / "two-keys.txt"
    keys.write_text(f"{world.key.secret}\n{second.secret}\n")
    env = {**world.env, "SOPS_AGE_KEY_FILE": str(keys)}
    result = world.cli("encrypt", "-i", path, env=env)
    assert result.code == 0, result.stderr
    assert "key_groups" in path.read_text() and "shamir_threshold: 2" in path.read_text()
    assert world.cli("verify", "--require-mac", path, env=env).code == 0
    assert "shamir-secret" in world.cli("decrypt", path, env=env).stdout
    one = world.cli("decrypt", path)  # only one share: not enough
    assert one.code == 3
