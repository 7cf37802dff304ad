"""`sopskit decrypt`: natively when an identity can recover the data key, else via sops.

The native path checks the MAC before it returns anything, like `sops decrypt`
(`common.go: DecryptTree`, exit 51 on mismatch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sopskit.engine import paths, write_check
from sopskit.errors import NoIdentityError, SopskitError, UsageError
from sopskit.fsio import commit, is_stream, temp_beside, write_synced, write_to_stream
from sopskit.identity.model import Identities
from sopskit.sops.runner import Sops
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.document import detect_format, parse
from sopskit.sopsfile.model import Format

Engine = Literal["native", "sops"]


@dataclass(frozen=True)
class Decrypted:
    plaintext: bytes
    engine: Engine


def decrypt_file(source: Path, *, repo: Path, identities: Identities,
                 engine: Engine | None = None,
                 sops: Callable[[], Sops] | None = None,
                 input_type: Format | None = None) -> Decrypted:
    """The plaintext of `source` (MAC checked). `engine=None`: native, falling back to sops
    only when no identity sopskit can use natively recovers the data key. `input_type`
    overrides the format the extension implies, as sops' --input-type does."""
    shown = paths.display(repo, source)
    data = paths.read_input(source, shown=shown)
    native_error: NoIdentityError | None = None
    if engine != "sops":
        try:
            fmt = detect_format(str(source), input_type)
            return Decrypted(_native(data, shown, fmt, identities), "native")
        except NoIdentityError as exc:
            if engine == "native" or sops is None:
                raise
            native_error = exc
    assert sops is not None
    try:
        return Decrypted(sops().decrypt(data, filename=str(source), path=shown,
                                        input_type=input_type), "sops")
    except NoIdentityError as exc:
        # sops only says "no key"; the native reading knows the recipients and what we held
        raise (native_error or _explained(data, shown, source, input_type, identities)
               or exc) from None


def _explained(data: bytes, shown: str, source: Path, input_type: Format | None,
               identities: Identities) -> NoIdentityError | None:
    """The native "no key" error (file recipients, what each identity source held), when
    the file parses; None when it does not or a key of ours does open it natively."""
    try:
        doc = parse(data, path=shown, fmt=detect_format(str(source), input_type))
        recover_data_key(doc.metadata, identities, path=shown)
    except NoIdentityError as exc:
        return exc
    except SopskitError:
        return None
    return None


def _native(data: bytes, shown: str, fmt: Format, identities: Identities) -> bytes:
    done = write_check.check_bytes(data, path=shown, fmt=fmt, identities=identities,
                             expect=write_check.Expect(require_key=True))
    assert done.data_key is not None
    return write_check.decrypt(done.document, done.data_key)


def check_plaintext_destination(repo: Path, output: Path, *, force: bool) -> None:
    """Refuse to write plaintext inside a git work tree (this repository's or any other)
    unless `force`: there it is one `git add` away from being committed (the file is 0600,
    but git does not care)."""
    if force or is_stream(output):
        return  # git never adds a FIFO or a device
    resolved = output.resolve()
    tree = next((d for d in resolved.parents if (d / ".git").exists()), None)
    if tree is None:
        return
    where = ("the repository" if tree == repo.resolve()
             else f"the git work tree {tree}")
    raise UsageError(f"refusing to write plaintext inside {where}, where one `git add` "
                     "commits it; write it outside (e.g. under /dev/shm), to stdout, or pass "
                     "--force", path=output)


def deliver_plaintext(repo: Path, output: Path, plaintext: bytes, *, force: bool) -> None:
    """`decrypt -o OUTPUT`: a FIFO or device (`/dev/stdout`, a named pipe) is written as
    given (resolving `/dev/stdout` gives a `pipe:[…]` name that is no path); anything
    else is checked like any target in the repository, then written by `write_plaintext`.
    The destination is checked again here: a FIFO that passed `check_plaintext_destination`
    before the decryption may be gone (or replaced) by now, and a plaintext file must not
    take its place inside a work tree."""
    if not write_to_stream(output.absolute(), plaintext):
        check_plaintext_destination(repo, output, force=force)
        write_plaintext(paths.target(repo, output), plaintext)


def write_plaintext(output: Path, plaintext: bytes) -> None:
    """Write decrypted output where the user asked: streamed into a FIFO or character
    device, else atomically and 0600 even when it replaces a file that others could read
    (plaintext never inherits a wider mode). Anything else (a socket, a directory, a block
    device) is refused: it is never replaced by a plaintext file."""
    if write_to_stream(output, plaintext):
        return
    if output.exists() and not output.is_file():
        raise UsageError("not a regular file, FIFO or character device: refusing to replace "
                         "it with plaintext", path=output)
    with temp_beside(output) as temp:
        write_synced(temp, plaintext)
        commit(temp, output, keep_mode=False)
