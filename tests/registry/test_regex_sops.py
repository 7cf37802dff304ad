"""The path regexes of tricky globs mean the same to sops (Go RE2) as to Python `re`: a
sample of (glob, path) pairs, each run through the real `sops encrypt` with a one-rule config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sopskit.registry.glob import Glob
from sopskit.registry.sops_config import structured_regex
from tests.helpers import age_key, run_sops

SAMPLES = [
    ("a[!b-d]c/*.yaml", "axc/f.yaml"), ("a[!b-d]c/*.yaml", "acc/f.yaml"),
    ("a[!b-d]c/*.yaml", "a/c/f.yaml"),
    (r"x[\]\-^]y.env", "x]y.env"), (r"x[\]\-^]y.env", "x-y.env"), (r"x[\]\-^]y.env", "x^y.env"),
    (r"x[\]\-^]y.env", "xzy.env"),
    ("p+q(r)$^/{a,{b,c}d}.json", "p+q(r)$^/cd.json"),
    ("p+q(r)$^/{a,{b,c}d}.json", "p+q(r)$^/c.json"),
    ("my dir/a b#c~d&e|f.txt", "my dir/a b#c~d&e|f.txt"),
    ("**/?.ini", "x/y/z.ini"), ("**/?.ini", "zz.ini"), ("**/?.ini", "z.ini"),
    ("{a/**,b}/c.env", "a/c.env"), ("{a/**,b}/c.env", "a/1/2/c.env"),
    ("{a/**,b}/c.env", "x/b/c.env"),
    ("clusters/**", "clusters/x.yaml"), ("clusters/**", "clusters"),
    ("ü/*.yaml", "ü/ä.yaml"),
]


@pytest.fixture(scope="module")
def recipient() -> str:
    return age_key().recipient


@pytest.mark.parametrize(("pattern", "path"), SAMPLES)
def test_sops_and_python_agree(pattern: str, path: str, recipient: str, tmp_path: Path) -> None:
    glob = Glob.compile(pattern)
    config = tmp_path / ".sops.yaml"
    regexes = [glob.regex] + ([r] if (r := structured_regex(glob)) else [])
    for regex in regexes:
        quoted = "'" + regex.replace("'", "''") + "'"
        config.write_text(f"creation_rules:\n  - path_regex: {quoted}\n    age: [{recipient}]\n")
        done = run_sops("--config", config, "encrypt", "--input-type", "binary",
                        "--output-type", "binary", "--filename-override", tmp_path / path,
                        env={}, cwd=tmp_path, input=b"x")
        python = re.fullmatch(regex, path) is not None
        assert (done.returncode == 0) is python, (regex, path, done.stderr)
        if not python:
            assert b"no matching creation rules found" in done.stderr
