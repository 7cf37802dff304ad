"""`make demo` / `sopskit demo`: the main job on an embedded example, in a temporary directory.

Throwaway age and PGP keys (PGP in a scratch GNUPGHOME whose agent is stopped afterwards),
an example Kubernetes Secret, a dotenv and a JSON file; each step is shown as the command a
user would type followed by its real output (the real CLI in a subprocess, with the temp
directory as --repo and a scratch environment: never the user's home or keys).

Later parts add their steps to `STEPS` (a step is data: a title, the argv or a Python
action, the expected exit code).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click
import pyrage

from sopskit import process

K8S_MANIFEST = """\
apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
  namespace: payments
type: Opaque
stringData:
  username: payments
  password: demo-Pa55w0rd-not-real
"""
DOTENV = "DATABASE_URL=postgres://payments:demo-Pa55w0rd-not-real@db:5432/payments\n" \
         "STRIPE_KEY=sk_test_demo_not_a_real_key\nLOG_LEVEL=info\n"
JSON = '{\n  "api_token": "demo-token-0123456789",\n  "replicas": 3,\n  "debug": false\n}\n'
FILES = {"apps/payments/db-secret.yaml": K8S_MANIFEST, "apps/payments/app.env": DOTENV,
         "apps/payments/config.json": JSON}
ENCRYPTED = list(FILES)


@dataclass
class Demo:
    """The scratch world a demo runs in."""

    root: Path
    env: dict[str, str]
    age_recipient: str = ""
    pgp_fp: str = ""
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    """One thing the user would do: a sopskit command (`argv`) or a shell-like `action`."""

    title: str
    argv: tuple[str, ...] = ()
    expect: int = 0
    shown: str = ""  # the command line shown for an `action` step
    action: Callable[[Demo], str] | None = None
    env: tuple[tuple[str, str], ...] = ()  # extra environment, shown as VAR=value prefixes


def _age_key(demo: Demo) -> None:
    ident = pyrage.x25519.Identity.generate()
    key_file = demo.root / ".demo-home" / "age-keys.txt"
    key_file.write_text(f"# throwaway demo key\n{ident}\n", encoding="utf-8")
    key_file.chmod(0o600)
    demo.age_recipient = str(ident.to_public())
    demo.env["SOPS_AGE_KEY_FILE"] = str(key_file)


def _pgp_key(demo: Demo) -> None:
    gpg = shutil.which("gpg")
    if gpg is None:
        return
    args = [gpg, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    process.run([*args, "--quick-gen-key", "sopskit demo <demo@sopskit.invalid>",
                 "future-default", "default", "never"], env=demo.env, timeout=120)
    out = process.run([gpg, "--with-colons", "--list-secret-keys"], env=demo.env).stdout
    fprs = [ln.split(":")[9] for ln in out.decode().splitlines() if ln.startswith("fpr:")]
    demo.pgp_fp = fprs[0]


def setup(root: Path) -> Demo:
    """Scratch HOME and GNUPGHOME, throwaway keys, the example files and a .sops.yaml."""
    home, gnupg = root / ".demo-home", Path(tempfile.mkdtemp(prefix="skdemo", dir="/tmp"))
    home.mkdir(mode=0o700)
    gnupg.chmod(0o700)
    env = process.base_env({"HOME": str(home), "GNUPGHOME": str(gnupg),
                            "XDG_CONFIG_HOME": str(home / ".config"),
                            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                            "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    demo = Demo(root, env)
    _age_key(demo)
    _pgp_key(demo)
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    keys = f"    age: {demo.age_recipient}\n" + (f"    pgp: {demo.pgp_fp}\n" if demo.pgp_fp
                                                  else "")
    (root / ".sops.yaml").write_text(
        "creation_rules:\n  - path_regex: \\.yaml$\n" + keys +
        "    encrypted_regex: ^(data|stringData)$\n  - path_regex: ''\n" + keys,
        encoding="utf-8")
    return demo


def teardown(demo: Demo) -> None:
    gnupg = demo.env["GNUPGHOME"]
    if shutil.which("gpgconf"):
        process.run(["gpgconf", "--kill", "all"], env=demo.env, timeout=30)
    shutil.rmtree(gnupg, ignore_errors=True)


def show(rel: str) -> Callable[[Demo], str]:
    return lambda demo: (demo.root / rel).read_text(encoding="utf-8")


def tamper(rel: str) -> Callable[[Demo], str]:
    """Flip one character inside the first encrypted value of `rel`."""
    def act(demo: Demo) -> str:
        path = demo.root / rel
        text = path.read_text(encoding="utf-8")
        at = text.index("ENC[AES256_GCM,data:") + len("ENC[AES256_GCM,data:")
        path.write_text(text[:at] + ("B" if text[at] == "A" else "A") + text[at + 1:],
                        encoding="utf-8")
        return ""
    return act


STEPS: list[Step] = [
    Step("The example: plaintext secrets and a .sops.yaml naming throwaway keys",
         shown="cat .sops.yaml", action=show(".sops.yaml")),
    Step("Which sops, gpg and keys sopskit will use", ("doctor",)),
    Step("Encrypt three files in place; each result is verified before it is written",
         ("encrypt", "-i", *ENCRYPTED)),
    Step("Only stringData is encrypted in the Kubernetes Secret",
         shown=f"cat {ENCRYPTED[0]}", action=show(ENCRYPTED[0])),
    Step("Verify them: structure, values, recipients and MAC",
         ("verify", "--require-mac", *ENCRYPTED)),
    Step("Decrypt one (natively; sops is not needed to read)", ("decrypt", ENCRYPTED[1])),
    Step("Edit it with your $EDITOR (here a sed one-liner); the result is verified first",
         ("edit", ENCRYPTED[1]), env=(("EDITOR", "sed -i s/LOG_LEVEL=info/LOG_LEVEL=debug/"),)),
    Step("The change is in, everything else as before", ("decrypt", ENCRYPTED[1])),
    Step("Someone edits a value by hand",
         shown=f"vi {ENCRYPTED[2]}   # flips one character of an encrypted value",
         action=tamper(ENCRYPTED[2])),
    Step("verify catches it (exit 1)", ("verify", ENCRYPTED[2]), expect=1),
    Step("The same as JSON, for CI", ("verify", "--format", "json", ENCRYPTED[2]), expect=1),
]


def run_step(demo: Demo, step: Step, echo: Callable[[str], None]) -> None:
    if step.action is not None:
        echo(f"$ {step.shown}")
        out = step.action(demo)
        if out:
            echo(out.rstrip("\n"))
        return
    prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in step.env)
    echo(f"$ {prefix}sopskit {' '.join(step.argv)}")
    done = process.run([sys.executable, "-m", "sopskit", "--repo", demo.root, *step.argv],
                       env={**demo.env, **dict(step.env)}, cwd=demo.root, timeout=120)
    text = (done.stdout + done.stderr).decode("utf-8", "replace").rstrip("\n")
    if text:
        echo(text)
    if done.returncode != step.expect:
        demo.failures.append(f"`sopskit {' '.join(step.argv)}` exited {done.returncode}, "
                             f"expected {step.expect}")
        echo(f"!! unexpected exit code {done.returncode} (expected {step.expect})")
    elif step.expect:
        echo(f"(exit {done.returncode}, as expected)")


def run_demo(echo: Callable[[str], None] = click.echo) -> int:
    """Run every step in a fresh temporary directory; 0 when each exited as expected."""
    with tempfile.TemporaryDirectory(prefix="sopskit-demo-") as tmp:
        demo = setup(Path(tmp))
        try:
            echo(f"# sopskit demo in {tmp} (throwaway keys; removed afterwards)\n")
            for number, step in enumerate(STEPS, 1):
                echo(click.style(f"## {number}. {step.title}", bold=True))
                run_step(demo, step, echo)
                echo("")
        finally:
            teardown(demo)
    for failure in demo.failures:
        echo(f"demo FAILED: {failure}")
    return 1 if demo.failures else 0


@click.command("demo")
def demo_cmd() -> None:
    """Run the end-to-end demo in a temporary directory (throwaway keys)."""
    raise click.exceptions.Exit(run_demo())


if __name__ == "__main__":
    os.environ.setdefault("SOPS_DISABLE_VERSION_CHECK", "1")
    sys.exit(run_demo())
