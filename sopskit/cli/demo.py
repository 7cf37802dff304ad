"""`make demo` / `sopskit demo`: the whole product on an embedded example, in a temporary directory.

A scratch git repository shaped like a Flux repo (clusters/sandbox, clusters/production,
core/, apps/), throwaway age and PGP keys, and every step shown as the command a user would
type followed by its real output (the real CLI in a subprocess, with a scratch HOME and
GNUPGHOME: never the user's files or keys). The demo's age identities go to the OS keyring
when one is usable (and are removed at the end), else to 0600 files in the temp directory;
the demo says which.

The story: a registry, keys, `.sops.yaml`; encrypt, verify, decrypt, edit; tampering caught;
a plaintext secret and a retired key found by the audit; the sandbox key replaced with
`rekey`; the audit clean again; `flux check` passing on the repository's Flux layout and
catching a Kustomization that lost its `decryption`; the access matrix (text and an HTML
page) and what the replaced sandbox key could ever read (`exposure`); the Flux secret and the
rotation runbook.
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

from sopskit import gpg, process
from sopskit.cli.demo_data import DROP_DECRYPTION, FILES, PLANTED, REGISTRY_RULES
from sopskit.identity.keyring_store import KeyringStore, keyring_status

AGE_KEYS = ("ops-admin", "flux-sandbox", "flux-production")
SANDBOX = "clusters/sandbox/db-credentials.sops.yaml"
PRODUCTION = "clusters/production/db-credentials.sops.yaml"
BASE = "core/cert-manager/cloudflare-token.sops.yaml"
DOTENV = "apps/payments/app.env"
JSON = "apps/payments/config.json"
ENCRYPTED = [SANDBOX, PRODUCTION, BASE, DOTENV, JSON]


@dataclass
class Demo:
    """The scratch world a demo runs in."""

    repo: Path
    home: Path
    env: dict[str, str]
    keyring: bool  # identities in the OS keyring (else 0600 files under home)
    keyring_note: str
    stored: list[str] = field(default_factory=list)  # keyring entries to remove at the end
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


# --- the scratch world ----------------------------------------------------------------------

def _keyring_choice() -> tuple[bool, str]:
    """Use the OS keyring only when it answers now and holds none of the demo's names."""
    status = keyring_status()
    if not status.usable:
        return False, f"no usable OS keyring ({status.reason}): identities go to 0600 files"
    taken = sorted(set(status.entries) & {*AGE_KEYS, "flux-sandbox-2"})
    if taken:
        return False, (f"the keyring already holds {', '.join(taken)}: the demo leaves them "
                       "alone and keeps its identities in 0600 files")
    return True, f"OS keyring usable ({status.backend}): the demo's identities go there"


def setup(root: Path) -> Demo:
    """A git repository with the example files, a scratch HOME and GNUPGHOME."""
    repo, home = root / "repo", root / "home"
    home.mkdir(mode=0o700)
    (home / "keys").mkdir(mode=0o700)
    gnupg = Path(tempfile.mkdtemp(prefix="skdemo", dir="/tmp"))  # short: agent socket path
    gnupg.chmod(0o700)
    use_keyring, note = _keyring_choice()
    extra = {"HOME": str(home), "GNUPGHOME": str(gnupg), "XDG_CONFIG_HOME": str(home / ".cfg"),
             "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
             "SOPS_DISABLE_VERSION_CHECK": "1", "GIT_CONFIG_NOSYSTEM": "1",
             "GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.invalid",
             "GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@example.invalid"}
    if use_keyring:  # the Secret Service is reached over the user's session bus
        extra.update({k: v for k, v in os.environ.items()
                      if k in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")})
    else:
        extra["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        extra["SOPS_AGE_KEY_FILE"] = str(home / "age-keys.txt")
    demo = Demo(repo, home, process.base_env(extra), use_keyring, note)
    for rel, text in FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    (repo / ".gitignore").write_text("*.agekey\n", encoding="utf-8")
    _git(demo, "init", "-q", "-b", "main")
    return demo


def teardown(demo: Demo) -> None:
    """Remove the demo's keyring entries and stop its gpg-agent."""
    if demo.stored:
        store = KeyringStore()
        for name in demo.stored:
            store.delete(name)
    if shutil.which("gpgconf"):
        process.run(["gpgconf", "--kill", "all"], env=demo.env, timeout=30)
    shutil.rmtree(demo.env["GNUPGHOME"], ignore_errors=True)


def _git(demo: Demo, *args: str) -> str:
    done = process.run(["git", *args], env=demo.env, cwd=demo.repo, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed in the demo repository")
    return done.stdout.decode()


# --- actions (shown as the shell command a user would type) ---------------------------------

def show(rel: str, *, start: str = "") -> Callable[[Demo], str]:
    def act(demo: Demo) -> str:
        text = (demo.repo / rel).read_text(encoding="utf-8")
        return text[text.index(start):] if start else text
    return act


def write_rules(demo: Demo) -> str:
    path = demo.repo / "keys" / "registry.yaml"
    text = path.read_text(encoding="utf-8")
    head = text[:text.index("clusters:")]
    path.write_text(head + REGISTRY_RULES, encoding="utf-8")
    return REGISTRY_RULES


def pgp_key(demo: Demo) -> str:
    """A PGP key for the release bot in the scratch GNUPGHOME; its public part exported."""
    made = gpg.generate("release-bot <release-bot@example.invalid>",
                        home=Path(demo.env["GNUPGHOME"]))
    out = made.public_armor.encode("ascii")
    (demo.home / "release-bot.asc").write_bytes(out)
    return "(a new ed25519/cv25519 key in the scratch GNUPGHOME)"


def _generate_argv(demo: Demo, name: str, cluster: str) -> tuple[str, ...]:
    """The command that really runs: the keyring when the demo uses one, else a 0600 file."""
    where = (("--store", "keyring") if demo.keyring else
             ("--private-out", str(demo.home / "keys" / f"{name}.agekey")))
    return ("keys", "generate", name, "--type", "age", "--cluster", cluster,
            "--owner", "platform-team@example.com", *where)


def generate_age(demo: Demo, name: str, cluster: str) -> Step:
    return Step(f"Generate the age key {name} for {cluster}",
                action=lambda d: _generate_age(d, name, cluster),
                shown=shlex.join(("sopskit", *_generate_argv(demo, name, cluster))))


def _generate_age(demo: Demo, name: str, cluster: str) -> str:
    text = _sopskit(demo, _generate_argv(demo, name, cluster), 0)
    if demo.keyring:
        demo.stored.append(name)
    else:  # what SOPS_AGE_KEY_FILE points at: every demo identity, mode 0600
        keys = sorted((demo.home / "keys").glob("*.agekey"))
        target = demo.home / "age-keys.txt"
        target.write_text("".join(k.read_text(encoding="utf-8") for k in keys),
                          encoding="utf-8")
        target.chmod(0o600)
    return text


def commit(message: str) -> Step:
    def act(demo: Demo) -> str:
        _git(demo, "add", "-A")
        _git(demo, "commit", "-q", "-m", message)
        return _git(demo, "log", "--oneline", "-1").strip()
    return Step("Commit", shown=f"git add -A && git commit -m '{message}'", action=act)


def tamper(rel: str) -> Callable[[Demo], str]:
    """Flip one character inside the first encrypted value of `rel`."""
    def act(demo: Demo) -> str:
        path = demo.repo / rel
        text = path.read_text(encoding="utf-8")
        at = text.index("ENC[AES256_GCM,data:") + len("ENC[AES256_GCM,data:")
        path.write_text(text[:at] + ("B" if text[at] == "A" else "A") + text[at + 1:],
                        encoding="utf-8")
        return ""
    return act


def plant(demo: Demo) -> str:
    rel, text = PLANTED
    (demo.repo / rel).write_text(text, encoding="utf-8")
    return ""


def drop_decryption(demo: Demo) -> str:
    path = demo.repo / DROP_DECRYPTION[0]
    path.write_text(path.read_text(encoding="utf-8").replace(DROP_DECRYPTION[1], ""),
                    encoding="utf-8")
    return ""


def git_step(*args: str) -> Callable[[Demo], str]:
    return lambda demo: _git(demo, *args)


def unplant(demo: Demo) -> str:
    (demo.repo / PLANTED[0]).unlink()
    return ""


# --- the story --------------------------------------------------------------------------------

def steps(demo: Demo) -> list[Step]:
    return [
        Step("Where the demo keeps its private keys", shown="# the demo's choice",
             action=lambda d: d.keyring_note),
        Step("A registry for the two clusters", ("init", "--cluster", "sandbox",
                                                 "--cluster", "production")),
        Step("Describe the clusters and add rules for the bases and app settings",
             shown="$EDITOR keys/registry.yaml", action=write_rules),
        *(generate_age(demo, n, c) for n, c in zip(AGE_KEYS, ("*", "sandbox", "production"),
                                                   strict=True)),
        Step("A PGP key for the release bot (made with gpg)",
             shown="gpg --quick-gen-key release-bot ... && gpg --export -a > release-bot.asc",
             action=pgp_key),
        Step("Register its public part", ("keys", "add", "release-bot", "--pgp-file",
                                          str(demo.home / "release-bot.asc"),
                                          "--cluster", "production")),
        Step("The keys, their owners and status", ("keys", "list")),
        Step("Generate .sops.yaml from the registry", ("config", "render")),
        Step("The rules in matching order, with the secret files each one governs (a rule "
             "that could never apply is named here)", ("rules", "list")),
        Step("What sops will obey", shown="cat .sops.yaml", action=show(".sops.yaml")),
        Step("Which sops, gpg and keys sopskit will use", ("doctor",)),
        Step("Which private keys sopskit can use, per registry key", ("identity", "list")),
        Step("Who must read which file, and why", ("recipients", "--explain", SANDBOX, BASE)),
        Step("Encrypt five files in place; each result is verified before it replaces the file",
             ("encrypt", "-i", *ENCRYPTED)),
        Step("Only stringData is encrypted in the Kubernetes Secret",
             shown=f"cat {SANDBOX}", action=show(SANDBOX)),
        commit("encrypted secrets"),
        Step("Verify: structure, values, recipients and MAC", ("verify", "--require-mac",
                                                               *ENCRYPTED)),
        Step("Decrypt one (natively; sops is not needed to read)", ("decrypt", DOTENV)),
        Step("Edit it with your $EDITOR (here a sed one-liner); the result is verified first",
             ("edit", DOTENV), env=(("EDITOR", "sed -i s/LOG_LEVEL=info/LOG_LEVEL=debug/"),)),
        Step("The change is in, everything else as before", ("decrypt", DOTENV)),
        Step("Someone edits a value by hand", action=tamper(JSON),
             shown=f"vi {JSON}   # flips one character of an encrypted value"),
        Step("verify catches it (exit 1)", ("verify", JSON), expect=1),
        Step("The same as JSON, for CI", ("verify", "--format", "json", JSON), expect=1),
        Step("Undo the damage", shown=f"git checkout -- {JSON}",
             action=git_step("checkout", "--", JSON)),
        commit("edit LOG_LEVEL"),
        generate_age(demo, "flux-sandbox-2", "sandbox"),
        Step("Retire the old one", ("keys", "retire", "flux-sandbox")),
        Step("Regenerate .sops.yaml", ("config", "render")),
        Step("Meanwhile someone commits a password in plain text", action=plant,
             shown=f"cat > {PLANTED[0]}   # a Helm values file with a database password"),
        Step("The audit finds the plaintext secret and the sandbox file still readable by the "
             "retired key (exit 1)", ("audit",), expect=1),
        Step("The rotation plan (writes nothing)", ("rekey",)),
        Step("Apply it: re-key, rotate data keys, verify, prove", ("rekey", "--apply")),
        Step("Remove the planted secret (and rotate that password at its source)",
             shown=f"rm {PLANTED[0]}", action=unplant),
        commit("rotate the sandbox key"),
        Step("The audit is clean again (exit 0)", ("audit",)),
        Step("Who reads which file now, key by key (and who should)", ("access",)),
        Step("The same matrix as one page to share: filters, problems highlighted",
             ("access", "--format", "html", "--out", str(demo.home / "access.html"))),
        Step("What the replaced flux-sandbox could ever read in history, and whether each "
             "value is still live (exit 1: the values it read are unchanged; change them "
             "at the source)", ("exposure", "flux-sandbox"), expect=1),
        Step("What Flux reconciles and decrypts: every cluster can read what it applies",
             ("flux", "check")),
        Step("Someone drops `decryption:` from production's core Kustomization",
             shown=f"$EDITOR {DROP_DECRYPTION[0]}   # deletes the decryption block",
             action=drop_decryption),
        Step("flux check catches it before the push (exit 1)", ("flux", "check", "--cluster",
                                                                 "production"), expect=1),
        Step("Undo it", shown=f"git checkout -- {DROP_DECRYPTION[0]}",
             action=git_step("checkout", "--", DROP_DECRYPTION[0])),
        Step("The Flux decryption Secret for sandbox, encrypted to the admin keys",
             ("flux", "secret", "sandbox", "--out", "keys/flux/sandbox-sops-age.sops.yaml")),
        Step("The runbook for the next production key rotation",
             ("runbook", "rotate-key", "flux-production", "--to", "flux-production-2")),
    ]


# --- running ----------------------------------------------------------------------------------

def _sopskit(demo: Demo, argv: tuple[str, ...], expect: int,
             env: tuple[tuple[str, str], ...] = ()) -> str:
    done = process.run([sys.executable, "-m", "sopskit", "--repo", demo.repo, *argv],
                       env={**demo.env, **dict(env)}, cwd=demo.repo, timeout=300)
    text = (done.stdout + done.stderr).decode("utf-8", "replace").rstrip("\n")
    if done.returncode != expect:
        demo.failures.append(f"`sopskit {' '.join(argv)}` exited {done.returncode}, "
                             f"expected {expect}")
        text += f"\n!! unexpected exit code {done.returncode} (expected {expect})"
    elif expect:
        text += f"\n(exit {done.returncode}, as expected)"
    return text


def run_step(demo: Demo, step: Step, echo: Callable[[str], None]) -> None:
    if step.action is not None:
        echo(f"$ {step.shown}")
        out = step.action(demo)
    else:
        prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in step.env)
        echo(f"$ {prefix}sopskit {' '.join(shlex.quote(a) for a in step.argv)}")
        out = _sopskit(demo, step.argv, step.expect, step.env)
    if out:
        echo(out.rstrip("\n"))


def run_demo(echo: Callable[[str], None] = click.echo) -> int:
    """Run every step in a fresh temporary directory; 0 when each exited as expected."""
    with tempfile.TemporaryDirectory(prefix="sopskit-demo-") as tmp:
        demo = setup(Path(tmp))
        try:
            echo(f"# sopskit demo in {demo.repo} (throwaway keys; removed afterwards)\n")
            for number, step in enumerate(steps(demo), 1):
                echo(click.style(f"## {number}. {step.title}", bold=True))
                run_step(demo, step, echo)
                echo("")
        finally:
            teardown(demo)
    for failure in demo.failures:
        echo(f"demo FAILED: {failure}")
    echo("demo FAILED" if demo.failures else "demo finished: every step exited as expected")
    return 1 if demo.failures else 0


@click.command("demo")
def demo_cmd() -> None:
    """Run the end-to-end demo in a temporary directory (throwaway keys)."""
    raise click.exceptions.Exit(run_demo())


if __name__ == "__main__":
    sys.exit(run_demo())
