"""Re-encryption under another crypt rule, without a plaintext file anywhere.

`sops updatekeys` and `sops rotate` keep the file's stored crypt rule (sops-format.md 3.5,
3.6; issues #938, #1153), so changing which values are encrypted means decrypting and
encrypting again. The plaintext lives only in this process's memory and on sops' stdin
(`sops encrypt --filename-override`); the result is verified (recipients, crypt rule, MAC,
new data key, same content) before it replaces the file.
"""

from __future__ import annotations

from pathlib import Path

from sopskit.engine import write_check
from sopskit.fsio import replace_verified
from sopskit.identity.model import Identities
from sopskit.sops.config import CreationRule
from sopskit.sops.runner import Sops
from sopskit.sopsfile.document import SopsDocument


def reencrypt_file(source: Path, doc: SopsDocument, data_key: bytes, rule: CreationRule, *,
                   sops: Sops, identities: Identities) -> None:
    """Replace `source` (parsed as `doc`, whose data key is `data_key`) with its content
    encrypted under `rule`: a new data key, `rule`'s recipients and crypt rule."""
    plain = write_check.decrypt(doc, data_key)
    out = sops.encrypt(plain, filename=source.name, rule=rule, path=doc.path)
    expect = write_check.Expect(recipients=rule.recipients,
                          crypt=(rule.crypt_rule, rule.mac_only_encrypted), plaintext=plain,
                          key_changed_from=data_key, require_key=True)

    def verify(temp: Path) -> None:
        write_check.check_path(temp, path=doc.path, fmt=doc.format, identities=identities,
                         expect=expect)

    replace_verified(source, out, verify)
