"""Real private key material for the audit tests, made with openssl, ssh-keygen, gpg and
pyrage in a temporary directory (never the user's)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyrage
import pytest

from tests.helpers import GpgHome


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=120)


def _openssl_keys(d: Path) -> dict[str, str]:
    _run("openssl", "genrsa", "-traditional", "-out", "rsa.pem", "2048", cwd=d)
    _run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.pem",
         cwd=d)
    _run("openssl", "dsaparam", "-genkey", "-noout", "-out", "dsa.pem", "1024", cwd=d)
    _run("openssl", "genpkey", "-algorithm", "ed25519", "-out", "pkcs8.pem", cwd=d)
    _run("openssl", "genpkey", "-algorithm", "ed25519", "-aes256", "-pass", "pass:x",
         "-out", "pkcs8-enc.pem", cwd=d)
    _run("openssl", "genrsa", "-traditional", "-aes256", "-passout", "pass:x", "-out",
         "rsa-enc.pem", "2048", cwd=d)
    _run("openssl", "req", "-x509", "-key", "pkcs8.pem", "-subj", "/CN=t", "-days", "1",
         "-out", "cert.pem", cwd=d)
    _run("openssl", "pkey", "-in", "pkcs8.pem", "-pubout", "-out", "pub.pem", cwd=d)
    names = ("rsa", "ec", "dsa", "pkcs8", "pkcs8-enc", "rsa-enc", "cert", "pub")
    return {n: (d / f"{n}.pem").read_text() for n in names}


def _ssh_keys(d: Path) -> dict[str, str]:
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "t", "-f", "id", cwd=d)
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "pass", "-C", "t", "-f", "id-enc", cwd=d)
    return {"openssh": (d / "id").read_text(), "openssh-enc": (d / "id-enc").read_text(),
            "ssh-pub": (d / "id.pub").read_text()}


@pytest.fixture(scope="session")
def real_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """name -> key text: private keys of every family and public decoys."""
    d = tmp_path_factory.mktemp("keys")
    keys = {**_openssl_keys(d), **_ssh_keys(d)}
    ident = pyrage.x25519.Identity.generate()
    keys["age"] = str(ident)
    keys["age-recipient"] = str(ident.to_public())
    home = GpgHome()
    try:
        fp = home.generate()
        keys["pgp-secret"] = home.gpg("--armor", "--export-secret-keys", fp).stdout.decode()
        keys["pgp-public"] = home.export_public(fp).decode()
        keys["pgp-fp"] = fp
    finally:
        home.close()
    yield keys
