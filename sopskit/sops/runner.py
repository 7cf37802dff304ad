"""Every call of the real sops binary: explicit environment, timeout, typed errors.

sops' exit codes decide what happened (sops-format.md 3.10, `cmd/sops/codes/codes.go`);
its stderr is only relayed, sanitised, as a detail. Plaintext travels through stdin and
stdout, never through a file we write.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from sopskit import process, scratch
from sopskit.errors import (
    BinaryError,
    InputError,
    InternalError,
    NoIdentityError,
    SopsError,
    SopskitError,
    UsageError,
    VerificationError,
)
from sopskit.identity.model import Identities
from sopskit.recipient import Recipient
from sopskit.sops.binary import SopsBinary
from sopskit.sops.config import CreationRule, TempConfig
from sopskit.sops.environment import child_env, private_home
from sopskit.sops.stderr import sanitise

DEFAULT_TIMEOUT = 120.0
TIMEOUT_ENV = "SOPSKIT_SOPS_TIMEOUT"  # seconds; raise it for PGP smartcards or slow KMS
EDIT_UNCHANGED = 200  # codes.FileHasNotBeenModified: `edit` saved nothing new


# sops exit code -> (error class, message, check for VerificationError); sops-format.md 3.10
_EXIT: dict[int, tuple[type[SopskitError], str, str]] = {
    51: (VerificationError, "MAC check failed in sops", "mac"),
    25: (VerificationError, "a value failed to decrypt (tampered or wrong key)", "value"),
    128: (NoIdentityError, "none of the available keys can decrypt this file's data key", ""),
    203: (UsageError, "file is already encrypted with sops", ""),
    92: (InputError, "file is empty: sops needs at least one document", ""),
    100: (InputError, "file does not exist", ""),
    2: (InputError, "sops could not read or parse the input", ""),
    201: (BinaryError, "the editor could not be run or failed (set $SOPS_EDITOR or $EDITOR)",
          ""),
    8: (InternalError, "sopskit passed conflicting options to sops", ""),
}
_WITH_DETAIL = (51, 25, 2, 8)  # sops' own (sanitised) words help here; elsewhere they repeat


def _error_for(code: int, detail: str, path: str) -> SopskitError:
    """The typed error for a sops exit code (never decided from stderr text)."""
    suffix = f" ({detail})" if detail else ""
    if code not in _EXIT:
        return SopsError(f"sops failed with exit code {code}{suffix}", sops_exit=code, path=path)
    cls, message, check = _EXIT[code]
    message += suffix if code in _WITH_DETAIL else ""
    if cls is VerificationError:
        return VerificationError(message, check=check, path=path)
    return cls(message, path=path)


def timeout_from(env: Mapping[str, str]) -> float:
    """The per-call sops timeout: `SOPSKIT_SOPS_TIMEOUT` seconds, else 120."""
    raw = env.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise UsageError(f"{TIMEOUT_ENV} must be a positive number of seconds, not {raw!r}")
    return value


@functools.lru_cache(maxsize=1)
def neutral_config() -> Path:
    """An empty sops config, so that sops never picks up a `.sops.yaml` from the cwd."""
    path = private_home() / "empty.sops.yaml"
    path.write_text("{}\n", encoding="utf-8")
    return path


class Sops:
    """The sops binary bound to one set of identities."""

    def __init__(self, binary: SopsBinary, identities: Identities, *,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.binary = binary
        self.identities = identities
        self.timeout = timeout

    def run(self, args: Sequence[str | Path], *, path: str, config: Path | None = None,
            input: bytes | None = None, plaintexts: Iterable[bytes] = (),
            ok: Iterable[int] = (0,)) -> process.Completed:
        """Run sops with `args`; raise the typed error for any exit code not in `ok`."""
        cfg = config or neutral_config()
        env = child_env(self.identities, config=cfg)
        done = process.run([self.binary.path, "--config", cfg, *args], env=env, input=input,
                           timeout=self.timeout, cwd=private_home())
        if done.returncode not in tuple(ok):
            detail = sanitise(done.stderr, plaintexts=[*plaintexts, *( [input] if input else [])])
            raise _error_for(done.returncode, detail, path)
        return done

    def encrypt(self, plaintext: bytes, *, filename: str, rule: CreationRule | None = None,
                config: Path | None = None, path: str | None = None) -> bytes:
        """Encrypt `plaintext` (stdin) as `filename`; the ciphertext is returned.

        Recipients and crypt rule come from `rule` (rendered into a private one-rule config)
        or else from `config`, matched by sops against `filename`.
        """
        args = ["encrypt", "--filename-override", filename]
        if rule is not None:
            with TempConfig(rule) as cfg:
                return self.run(args, path=path or filename, config=cfg, input=plaintext).stdout
        return self.run(args, path=path or filename, config=config, input=plaintext).stdout

    def decrypt(self, data: bytes, *, filename: str, path: str | None = None,
                input_type: str | None = None) -> bytes:
        """Plaintext of the sops document `data` (read as `filename`, or as `input_type`,
        printed in the same format), MAC checked by sops."""
        args = ["decrypt", "--filename-override", filename]
        if input_type is not None:
            args += ["--input-type", input_type, "--output-type", input_type]
        return self.run(args, path=path or filename, input=data).stdout

    def updatekeys(self, path: Path, *, rule: CreationRule, shown: str | None = None) -> None:
        """`sops updatekeys -y` on `path` in place (a temp copy: see engine.keys); errors
        name `shown` (the file the user knows) when given."""
        with TempConfig(rule) as cfg:
            self.run(["updatekeys", "--yes", path], path=shown or str(path), config=cfg)

    def rotate(self, path: Path, *, add: Iterable[Recipient] = (),
               remove: Iterable[Recipient] = (), shown: str | None = None) -> bytes:
        """`sops rotate` of `path` to stdout: a new data key, optionally changing recipients.

        `--add-*` adds to key group 0 and `--rm-*` removes from every group
        (`cmd/sops/rotate.go`), so changing recipients here costs one unwrap, not two.
        """
        args: list[str | Path] = ["rotate"]
        args += _key_flags("--add", add) + _key_flags("--rm", remove)
        return self.run([*args, path], path=shown or str(path)).stdout

    def edit(self, path: Path, *, editor_env: dict[str, str], shown: str | None = None) -> bool:
        """`sops edit` on `path` with the user's editor; False when nothing changed.

        sops writes the plaintext for the editor into a temp dir under $TMPDIR and removes
        it only on a clean exit (`cmd/sops/edit.go`); TMPDIR is a private directory we
        delete afterwards, in memory (/dev/shm) when available, so a killed sops or editor
        leaves no plaintext behind; SIGTERM/SIGHUP to sopskit itself also run that clean-up,
        and the next run removes what a `kill -9` of all of them left (`scratch`).
        """
        with process.terminations_interrupt(), scratch.private("edit") as scratch_dir:
            tmp = str(scratch_dir)
            env = child_env(self.identities, config=neutral_config(),
                            extra={**editor_env, "TMPDIR": tmp})
            args: list[str | Path] = [self.binary.path, "--config", neutral_config(), "edit",
                                      path]
            # sops' stderr is captured, as for every other sops call: on SIGHUP the editor
            # may die before sops does, and its "Could not run editor" must not follow
            # our one line (the editor itself still has the terminal: stdin and stdout)
            done = process.run_attached(args, env=env, cwd=private_home())
        if done.returncode == EDIT_UNCHANGED:
            return False
        if done.returncode != 0:
            raise _error_for(done.returncode, sanitise(done.stderr), shown or str(path))
        return True


def _key_flags(prefix: str, recipients: Iterable[Recipient]) -> list[str | Path]:
    by_type: dict[str, list[str]] = {}
    for r in sorted(recipients):
        if r.type not in ("age", "pgp"):
            raise UsageError(f"sopskit can only add or remove age and PGP keys, not {r}")
        by_type.setdefault(r.type, []).append(r.id)
    out: list[str | Path] = []
    for kind, ids in by_type.items():
        out += [f"{prefix}-{kind}", ",".join(ids)]
    return out


def editor_env() -> dict[str, str]:
    """The user's editor choice, passed on to sops' child environment."""
    return {k: os.environ[k] for k in ("SOPS_EDITOR", "EDITOR", "VISUAL", "TERM")
            if k in os.environ}
