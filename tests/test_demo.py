"""`make demo` runs the whole product end to end and exits 0; without a keyring its keys live
in 0600 files inside the temporary directory, which is gone afterwards."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers import clean_env


def run_demo(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "sopskit.cli.demo"], capture_output=True,
                          text=True, timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "demo finished: every step exited as expected" in done.stdout
    return done.stdout


def test_demo_without_keyring() -> None:
    out = run_demo(clean_env())
    assert "no usable OS keyring" in out and "identities go to 0600 files" in out
    assert "5 ok, 0 failed" in out  # verify --require-mac over the five files
    # tampering (text, json), the audit, flux check catching the dropped decryption, and
    # the exposure of the replaced sandbox key
    assert out.count("(exit 1, as expected)") == 5
    assert re.search(r"wrote \S+/access\.html: 5 files x 5 keys", out)
    assert "Exposure of flux-sandbox (age:" in out and "retired): 4 file(s)" in out
    assert "values: 8 unchanged, 0 changed, 0 removed, 0 unknown" in out
    assert "flux-decryption-missing" in out and "0 delivery findings in 2 cluster(s)" in out
    assert "generic-secret" in out and "recipient-retired" in out  # what the audit found
    assert out.count("updatekeys+rotate") >= 4 and "locked out" in out  # the rekey proof
    assert "0 findings" in out  # the audit after the rotation
    assert "AGE-SECRET-KEY" not in out  # private keys are never shown
    # the demo's story is exactly true: the command shown is the one that ran, the registry
    # passes the project's own checks without a warning, the Flux Secret stays out of every
    # Kustomization path, and the runbook it prints agrees with what rekey then does
    generated = [line for line in out.splitlines() if line.startswith("$ sopskit keys generate")]
    assert len(generated) == 4 and all("--private-out" in line and "--store" not in line
                                       for line in generated)
    assert "sopskit: warning" not in out and "never applies in this repository" not in out
    assert "flux secret sandbox --out keys/flux/sandbox-sops-age.sops.yaml" in out
    assert "clusters/sandbox/flux-system/sops-age" not in out
    assert "OS keyring: not usable" in out and "pgp: GnuPG home" in out
    tmp = re.search(r"# sopskit demo in (\S+)/repo", out)
    assert tmp is not None
    assert not __import__("os").path.exists(tmp.group(1))
