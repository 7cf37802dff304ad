"""`Loader.known`: a caller that has read the working tree already (the audit's scan) says
which files may hold Flux objects; discovery reads only the files it does not cover."""

from __future__ import annotations

from pathlib import Path

from sopskit.flux.loader import Loader, holds_discovered
from sopskit.flux.tree import working_tree

KS = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
      "metadata: {name: apps, namespace: flux-system}\nspec: {path: ./apps}\n")
HR = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: x}\n"


def test_known_files_are_not_read_and_the_others_are(tmp_path: Path) -> None:
    for rel, text in {"a/ks.yaml": KS, "b/ks.yml": KS, "c/hr.yaml": HR,
                      "d/notes.txt": KS}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    tree = working_tree(tmp_path)
    plain = Loader(tree).flux_candidates()
    assert plain == ["a/ks.yaml", "b/ks.yml"]
    known = {rel: holds_discovered(rel, (tmp_path / rel).read_bytes())
             for rel in ("a/ks.yaml", "c/hr.yaml", "d/notes.txt")}
    assert known == {"a/ks.yaml": True, "c/hr.yaml": False, "d/notes.txt": False}
    fresh = working_tree(tmp_path)
    assert Loader(fresh, known=known).flux_candidates() == plain
    assert set(fresh._read) == {"b/ks.yml"}  # the one file the caller had not read
    # the caller's verdict is taken as read (it read the same working tree)
    assert Loader(working_tree(tmp_path), known={"a/ks.yaml": False}).flux_candidates() == \
        ["b/ks.yml"]
