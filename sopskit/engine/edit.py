"""`sopskit edit`: `sops edit` on a temp copy, verified before it replaces the file.

sops decrypts to its own 0600 temp file for the editor and re-encrypts with the same data
key and the file's stored crypt rule (sops-format.md 3.7); it would rewrite the target in
place, so it edits a ciphertext copy beside the target (same extension, so the same store)
and we rename that copy over the target only after native verification, including that it
decrypts to exactly what the user saved (seen in memory through editcapture.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from sopskit import process
from sopskit.engine import paths, write_check
from sopskit.engine.editcapture import EditCapture
from sopskit.errors import InputError, SopskitError, UsageError, VerificationError
from sopskit.fsio import replace_file_verified, temp_beside, write_synced
from sopskit.identity.model import Identities
from sopskit.sops.runner import Sops, editor_env
from sopskit.sopsfile.document import detect_format
from sopskit.sopsfile.model import Format
from sopskit.sopsfile.plaintext import check_loadable


def edit_file(source: Path, *, repo: Path, sops: Sops, identities: Identities,
              editor: dict[str, str] | None = None) -> bool:
    """Edit `source` with the user's editor; True when the file changed."""
    shown = paths.display(repo, source)
    if not source.exists():
        raise UsageError("file does not exist; create it in plaintext and run "
                         "`sopskit encrypt -i` on it", path=shown)
    data = paths.read_input(source, shown=shown)
    fmt = detect_format(str(source))
    before = write_check.check_bytes(data, path=shown, fmt=fmt, identities=identities,
                               expect=write_check.Expect(require_key=True))
    with process.terminations_interrupt(), temp_beside(source) as temp, \
            EditCapture(_refuse_invalid(fmt, shown)) as capture:
        write_synced(temp, data)
        user = editor if editor is not None else editor_env()
        try:
            changed = sops.edit(temp, editor_env=capture.editor_env(user), shown=shown)
        except SopskitError:
            if capture.refused is not None:
                raise InputError(capture.refused, path=shown) from None
            raise
        if not changed:
            return False
        expect = _expect_after_edit(before, capture.last, shown)
        replace_file_verified(source, temp, lambda written: _verify(
            written, shown, fmt, identities, expect))
    return True


def _refuse_invalid(fmt: Format, shown: str) -> Callable[[bytes], str | None] | None:
    """With no terminal on stdin, saved content sops cannot load is the end of the edit:
    sops would ask for a key press to re-open the editor (cmd/sops/edit.go:
    runEditorUntilOk), read end-of-file at once, and re-open it for ever."""
    if sys.stdin is not None and sys.stdin.isatty():
        return None  # sops' own loop: the user presses a key or Ctrl-C

    def refuse(saved: bytes) -> str | None:
        try:
            check_loadable(saved, path=shown, fmt=fmt)
        except InputError as exc:
            where = f"line {exc.line}: " if exc.line else ""
            return (f"the editor left content sops cannot load as {fmt} ({where}"
                    f"{exc.message}); with no terminal to re-open the editor from, sopskit "
                    "stopped: the file is unchanged")
        return None

    return refuse


def _expect_after_edit(before: write_check.Checked, saved: bytes | None,
                       shown: str) -> write_check.Expect:
    """Same recipients and data key as before (sops edit keeps both), and exactly the
    content saved in the editor."""
    if saved is None:
        raise VerificationError("could not observe the content saved in the editor; "
                                "nothing was replaced", check="roundtrip", path=shown)
    return write_check.Expect(recipients=before.document.metadata.recipients,
                        key_same_as=before.data_key, plaintext=saved, require_key=True)


def _verify(written: Path, shown: str, fmt: Format, identities: Identities,
            expect: write_check.Expect) -> None:
    write_check.check_path(written, path=shown, fmt=fmt, identities=identities, expect=expect)
