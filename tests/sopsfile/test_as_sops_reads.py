"""Metadata, values and file discovery as sops reads them (each verdict checked against sops).

- a metadata field sops ignores (`attention`, written by sops 1.x) is a note, not a failure;
- a value of type `bytes` makes `sops decrypt` panic in every store: verify fails on it;
- `verify DIR` takes a file for a sops file only when it has top-level sops metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import AgeKey, clean_env, run_cli, run_sops

PLAIN = {
    "yaml": ("s.yaml", "a: hello\nb: 1\n"),
    "json": ("s.json", '{"a": "hello", "b": 1}'),
    "dotenv": ("s.env", "a=hello\nb=1\n"),
    "ini": ("s.ini", "[s]\na=hello\nb=1\n"),
    "binary": ("s.bin", "hello"),
}


def _made(tmp_path: Path, age: AgeKey, store: str) -> Path:
    name, text = PLAIN[store]
    target = tmp_path / name
    target.write_text(text, encoding="utf-8")
    done = run_sops("encrypt", "--age", age.recipient, "-i", name, env={}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    return target


@pytest.mark.parametrize("store", sorted(PLAIN))
def test_bytes_typed_value_fails_verify_as_it_crashes_sops(store: str, tmp_path: Path,
                                                           age: AgeKey) -> None:
    target = _made(tmp_path, age, store)
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("type:str]", "type:bytes]", 1), encoding="utf-8")
    env = {"SOPS_AGE_KEY": age.secret}
    sops = run_sops("decrypt", target.name, env=env, cwd=tmp_path)
    assert sops.returncode != 0 and b"panic" in sops.stderr  # what Flux would hit
    for extra in ({}, env):  # key-less and with the key (the MAC alone still matches)
        done = run_cli("verify", target, env=clean_env(extra), cwd=tmp_path)
        assert done.code == 1, done.stdout
        assert "[malformed-value]" in done.stdout and "type bytes" in done.stdout


def test_field_sops_ignores_is_a_note(tmp_path: Path, age: AgeKey) -> None:
    target = _made(tmp_path, age, "yaml")
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("\nsops:\n", "\nsops:\n    attention: This section "
                                   "contains key material that should only be modified with "
                                   "extra care. See `sops -h`.\n", 1), encoding="utf-8")
    env = {"SOPS_AGE_KEY": age.secret}
    assert run_sops("decrypt", target.name, env=env, cwd=tmp_path).returncode == 0
    for extra in ({}, env):
        done = run_cli("verify", target, env=clean_env(extra), cwd=tmp_path)
        assert done.code == 0, done.stdout
    loud = run_cli("-v", "verify", target, cwd=tmp_path)
    assert "sops.attention: metadata field sops ignores" in loud.stdout
    report = json.loads(run_cli("verify", "--format", "json", target, cwd=tmp_path).stdout)
    assert report["files"][0]["notes"] == ["sops.attention: metadata field sops ignores"]


NOT_SOPS = {
    # a Go source mentioning sops' field names (read as the binary store: no extension match)
    "keysource.go": 'package x\nvar m = map[string]string{"sops": "x", "mac": "y"}\n',
    # JSON with a nested, not top-level, sops object
    "package.json": '{"deps": {"sops": {"mac": "1", "lastmodified": "x"}}}',
    # YAML where `sops` is not a top-level mapping
    "values.yaml": "tools:\n  sops:\n    mac: x\n    lastmodified: y\nsops: enabled\nmac: 1\n",
    # shell-ish text in a .env with the names inside a line
    "run.env": "CMD=echo sops_mac=1 sops_version=2\n",
    "notes.ini": "[main]\ntext = see [sops] section\n",
}


def test_verify_dir_finds_only_real_sops_files(tmp_path: Path, age: AgeKey) -> None:
    for store in PLAIN:
        _made(tmp_path, age, store)
    for name, text in NOT_SOPS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    # a damaged sops JSON file is still found (and failed), not skipped
    json_text = (tmp_path / "s.json").read_text(encoding="utf-8")
    (tmp_path / "cut.json").write_text(json_text[: len(json_text) - 40], encoding="utf-8")
    done = run_cli("verify", "--format", "json", tmp_path, cwd=tmp_path)
    found = {f["path"]: f["ok"] for f in json.loads(done.stdout)["files"]}
    assert found == {"s.yaml": True, "s.json": True, "s.env": True, "s.ini": True,
                     "s.bin": True, "cut.json": False}, done.stdout


@pytest.mark.parametrize(("edit", "sops_reads_it"), [
    # a nested duplicate key: older sops wrote such files and sops 3.11 still reads them
    (lambda t: t.replace("\n    c: ENC", "\n    a: ENC", 1), True),
    # at the top level sops decodes into a map and fails ("already defined")
    (lambda t: t.replace("\nz: ENC", "\nb: ENC", 1), False),
    # in the metadata block too (decoded into a struct)
    (lambda t: t.replace("\nsops:\n", "\nsops:\n    version: 3.0.0\n", 1), False),
], ids=["nested", "top-level", "metadata"])
def test_duplicate_keys_as_sops_reads_them(edit: object, sops_reads_it: bool, tmp_path: Path,
                                           age: AgeKey) -> None:
    target = tmp_path / "d.yaml"
    target.write_text("x:\n    a: 1\n    c: 2\nb: 3\nz: 4\n", encoding="utf-8")
    done = run_sops("encrypt", "--age", age.recipient, "-i", target.name, env={}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    text = edit(target.read_text(encoding="utf-8"))  # type: ignore[operator]
    target.write_text(text, encoding="utf-8")
    sops = run_sops("decrypt", target.name, env={"SOPS_AGE_KEY": age.secret}, cwd=tmp_path)
    assert (b"already defined" not in sops.stderr) is sops_reads_it, sops.stderr.decode()
    verified = run_cli("verify", target, cwd=tmp_path)  # key-less: structure only
    assert (verified.code == 0) is sops_reads_it, verified.stdout
