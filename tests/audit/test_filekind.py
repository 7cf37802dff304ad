"""File classification before the generic rules run (issue 10 §1)."""

from __future__ import annotations

import pytest

from sopskit.audit.filekind import classify, is_template_name

CASES = [
    ("README.md", "", "docs"),
    ("docs/guide.rst", "", "docs"),
    ("scripts/lib/Talos.class.mjs", "let a = 1\n", "source"),
    ("app/main.go", "package main\n", "source"),
    ("dist/app.min.js", "var a=1;", "minified"),
    ("dist/bundle.js", "var a=1;" * 400, "minified"),
    ("templates/config/secret.sops.yaml.j2", "", "template"),
    ("kubernetes/app/secret.sops.yaml.tmpl", "", "template"),
    ("config.sample.yaml", "", "template"),
    ("docs/sops-secret-template.sops.tmp", "", "template"),
    (".github/workflows/release.yml", "", "workflow"),
    (".gitlab-ci.yml", "", "workflow"),
    ("Taskfile.yaml", "", "taskfile"),
    (".taskfiles/flux/Taskfile.yaml", "", "taskfile"),
    ("Makefile", "", "taskfile"),
    ("kubernetes/apps/db/helm-release.yaml", "", "config"),
    ("apps/db/secret.sops.yaml", "", "config"),
    (".env", "", "config"),
]


@pytest.mark.parametrize(("path", "text", "kind"), CASES, ids=[c[0] for c in CASES])
def test_classify(path: str, text: str, kind: str) -> None:
    assert classify(path, text) == kind


def test_templates_of_sops_files_are_not_sops_files() -> None:
    assert is_template_name("a/secret.sops.yaml.j2")
    assert not is_template_name("a/secret.sops.yaml")
