"""What `git diff` shows for a sops file (the `textconv` of the diff driver).

One line per value, `key.path: shown`, in file order: a value the file stores in plaintext
as it is; an encrypted one as a short fingerprint of its plaintext when one of your keys
opens the file (the same fingerprint as `sopskit diff`), else as a short hash of its
ciphertext (a change is visible, the value is not). Header lines give the recipients, the
crypt rule and a hash of the data key (a rotation shows). Anything that is not a sops file
passes through unchanged. `show_values` prints the real plaintext instead.
"""

from __future__ import annotations

import contextlib
import hashlib

from sopskit.audit.fingerprint import secret_fingerprint
from sopskit.errors import NoIdentityError, SopskitError
from sopskit.identity.model import Identities
from sopskit.printable import printable
from sopskit.review.diff import FP_LENGTH, FP_RULE, leaf_paths
from sopskit.sopsfile.datakey import recover_data_key
from sopskit.sopsfile.decrypt import decrypt_document, plain_tree
from sopskit.sopsfile.document import SopsDocument, detect_format, parse
from sopskit.sopsfile.gorender import to_text
from sopskit.sopsfile.tree import ScalarValue


def textconv(data: bytes, name: str, identities: Identities, *,
             show_values: bool = False) -> bytes:
    try:
        doc = parse(data, path=name, fmt=detect_format(name))
    except SopskitError:
        return data
    try:
        key: bytes | None = recover_data_key(doc.metadata, identities, path=name)
    except NoIdentityError:
        key = None
    if show_values and key is not None:
        with contextlib.suppress(SopskitError):  # a damaged value: the key-less view below
            return decrypt_document(doc, key)
    return ("\n".join(_lines(doc, key)) + "\n").encode("utf-8", "surrogateescape")


def _lines(doc: SopsDocument, key: bytes | None) -> list[str]:
    meta = doc.metadata
    rule = meta.effective_crypt_rule
    out = [f"# sops recipients: {', '.join(sorted(map(str, meta.recipients)))}",
           f"# sops crypt rule: {rule.kind}={rule.value!r}"
           + (" mac_only_encrypted" if meta.mac_only_encrypted else "")]
    plain: dict[str, ScalarValue] = {}
    if key is not None:
        out.append(f"# sops data key: {hashlib.sha256(key).hexdigest()[:FP_LENGTH]}")
        try:
            opened = SopsDocument(doc.path, doc.format, doc.metadata, plain_tree(doc, key))
        except SopskitError as exc:
            # a tampered or damaged value: git would abort the whole `git diff` / `git log
            # -p` on a failing textconv, hiding exactly the change a reviewer must see
            where = f"{exc.key_path}: " if exc.key_path else ""
            out.append(f"# sops: DAMAGED: {where}{exc.message}; encrypted values are shown "
                       "as hashes of their ciphertext")
            key = None
        else:
            plain = {k: v for k, (v, _) in leaf_paths(opened).items()}
    else:
        out.append("# sops data key: ? (no key of yours opens this file; encrypted values "
                   "are shown as hashes of their ciphertext)")
    for path, (stored, encrypted) in leaf_paths(doc).items():
        shown = _shown(stored, encrypted, plain.get(path), key is not None)
        out.append(f"{printable(path)}: {printable(shown)}")  # one line per value
    return out


def _shown(stored: ScalarValue, encrypted: bool, plain: ScalarValue, opened: bool) -> str:
    if not encrypted or stored == "":
        return to_text(stored)
    if opened:
        return f"[{secret_fingerprint(FP_RULE, to_text(plain))[:FP_LENGTH]}]"
    digest = hashlib.sha256(str(stored).encode()).hexdigest()[:FP_LENGTH]
    return f"<encrypted {digest}>"
