"""sops merges every identity it can find; sopskit's "key X" check uses X alone.

The fake HOME holds a default keys.txt and ~/.ssh/id_ed25519, as a developer's would.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sopskit import process
from sopskit.identity.discover import discover
from sopskit.sops.environment import child_env
from tests.helpers import AgeKey, age_key, run_sops, sops_binary

PLAIN = b"token: only-for-the-right-key\n"


def _encrypt_to(path: Path, recipient: str) -> Path:
    path.write_bytes(PLAIN)
    done = run_sops("--encrypt", "--age", recipient, "--in-place", path, env={})
    assert done.returncode == 0, done.stderr
    return path


def _fake_home(home: Path, default: AgeKey) -> str:
    keys = home / ".config" / "sops" / "age" / "keys.txt"
    keys.parent.mkdir(parents=True)
    keys.write_text(default.secret + "\n")
    ssh = home / ".ssh" / "id_ed25519"
    ssh.parent.mkdir(mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh)],
                   check=True, capture_output=True, timeout=60)
    return " ".join((home / ".ssh" / "id_ed25519.pub").read_text().split()[:2])


def _sops_decrypt(path: Path, env: dict[str, str]) -> process.Completed:
    return process.run([sops_binary(), "--decrypt", str(path)], env=env, timeout=120)


def test_check_naming_x_uses_x_alone(isolated_env: Path, tmp_path: Path) -> None:
    x, default = age_key(), age_key()
    ssh_recipient = _fake_home(isolated_env, default)
    for_x = _encrypt_to(tmp_path / "x.yaml", x.recipient)
    for_default = _encrypt_to(tmp_path / "default.yaml", default.recipient)
    for_ssh = _encrypt_to(tmp_path / "ssh.yaml", ssh_recipient)

    # plain sops with the developer's HOME merges keys.txt and ~/.ssh/id_ed25519
    merged = {"PATH": os.environ["PATH"], "HOME": str(isolated_env),
              "XDG_CONFIG_HOME": str(isolated_env / ".config"), "SOPS_AGE_KEY": x.secret}
    for path in (for_x, for_default, for_ssh):
        assert _sops_decrypt(path, merged).stdout == PLAIN

    # the real sops given only X in SOPS_AGE_KEY and an empty HOME
    empty = tmp_path / "empty-home"
    empty.mkdir()
    only_x = {"PATH": os.environ["PATH"], "HOME": str(empty),
              "XDG_CONFIG_HOME": str(empty / ".config"), "SOPS_AGE_KEY": x.secret}
    assert _sops_decrypt(for_x, only_x).stdout == PLAIN
    for path in (for_default, for_ssh):
        refused = _sops_decrypt(path, only_x)
        assert refused.returncode == 128 and refused.stdout == b""

    # the same through sopskit: discover everything, narrow to X, hand sops X alone
    ids = discover(env={**os.environ, "SOPS_AGE_KEY": x.secret},
                   registry_names={x.recipient: "ops-x"})
    assert ids.age_recipients() == {x.recipient, default.recipient}  # keys.txt found, ssh not
    narrowed = ids.only_age(frozenset({x.recipient}))
    assert narrowed.age_recipients() == {x.recipient}
    env = child_env(narrowed)
    assert _sops_decrypt(for_x, env).stdout == PLAIN
    for path in (for_default, for_ssh):
        assert _sops_decrypt(path, env).returncode == 128
