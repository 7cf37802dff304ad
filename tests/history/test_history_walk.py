"""The history walk of `audit --history`: vendored trees left out the same way whether git
or sopskit filters them, no renames needed for the commit that introduced each blob, and
the same findings from one process or several."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit import gitio
from sopskit.audit.scan import VENDORED, ScanSettings
from sopskit.history import leaks, reader
from tests.audit import fakes
from tests.audit.repos import commit, new_repo, write
from tests.helpers import git


def _history(tmp_path: Path) -> Path:
    repo = new_repo(tmp_path / "h")
    write(repo, "apps/a/values.yaml", "db:\n  host: a\n")
    write(repo, "vendor/dep/config.env", f"GITHUB_TOKEN={fakes.github()}\n")
    write(repo, "lib/node_modules/x/index.js", "module.exports = 1\n")
    commit(repo, "base with vendored trees")
    write(repo, "vendor/dep/more.txt", "only vendored\n")
    commit(repo, "vendored only")
    git(repo, "commit", "-q", "--allow-empty", "-m", "empty")
    for folder in ("config", "apps/b"):
        (repo / folder).mkdir(parents=True)
    git(repo, "mv", "vendor/dep/config.env", "config/dep.env")  # out of vendor: an add
    git(repo, "mv", "apps/a/values.yaml", "apps/b/values.yaml")  # a plain rename
    commit(repo, "moves")
    git(repo, "checkout", "-q", "-b", "side")
    write(repo, "apps/b/values.yaml", f"db:\n  host: b\n  password: {fakes.password()}\n")
    write(repo, "vendor/dep/side.txt", "side\n")
    commit(repo, "side edit")
    git(repo, "checkout", "-q", "main")
    write(repo, "README.md", "main moves\n")
    commit(repo, "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    return repo


def _vendored(path: str) -> bool:
    return any(part in VENDORED for part in path.split("/")[:-1])


def test_vendored_trees_left_out_alike_by_git_or_by_us(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _history(tmp_path)
    ours = gitio.log_blobs(repo, all_refs=True, merges=True, skip_dirs=VENDORED)
    monkeypatch.setattr(gitio, "_SKIP_BY_GIT", -1)  # a pathspec for git, as for a large tree
    by_git = gitio.log_blobs(repo, all_refs=True, merges=True, skip_dirs=VENDORED)
    assert ours == by_git
    paths = {path for _, _, changes in ours for path, _ in changes}
    assert not any(_vendored(p) for p in paths)
    assert {"config/dep.env", "apps/a/values.yaml", "apps/b/values.yaml"} <= paths
    # the empty commit and the vendored-only one list nothing, as with a pathspec
    assert len(ours) == len(gitio.log_changes(repo, all_refs=True, merges=True)) - 2


def test_first_versions_need_no_renames(tmp_path: Path) -> None:
    """Without rename detection the commit and path that first wrote each blob are the
    ones the full walk (renames followed) gives: a moved blob keeps its id."""
    repo = _history(tmp_path)
    (repo / "apps/c").mkdir()
    git(repo, "mv", "apps/b/values.yaml", "apps/c/values.yaml")
    write(repo, "apps/c/values.yaml", "db:\n  host: c\n")  # renamed and changed
    commit(repo, "move and edit")
    walked = {b: (v.commit, v.path) for b, v in reader.walk(repo).blobs().items()}
    lean = {b: (v.commit, v.path) for b, v in reader.first_versions(repo).blobs.items()}
    assert lean == walked and len(lean) >= 7
    renamed = [v for v in reader.walk(repo).versions if v.renamed_from]
    assert renamed  # the full walk did see renames: the equality is not vacuous


def test_workers_find_what_one_process_finds(tmp_path: Path) -> None:
    from tests.audit.evasions import write_corpus

    repo = new_repo(tmp_path / "corpus")
    write_corpus(repo)
    commit(repo, "corpus")
    write(repo, "apps/extra.env", f"API_TOKEN={fakes.github()}\n")
    commit(repo, "one more")
    git(repo, "rm", "-rq", "apps")
    commit(repo, "some gone")
    one = leaks.scan_history(repo, ScanSettings(), jobs=1)
    many = leaks.scan_history(repo, ScanSettings(), jobs=2)
    assert one.findings == many.findings and len(one.findings) > 50
    assert (one.blobs_scanned, one.skipped) == (many.blobs_scanned, many.skipped)
    assert {f.in_tree for f in one.findings} == {True, False}


def test_first_versions_as_the_walk_gives_them(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The lean reader of `audit --history` leaving vendored trees out gives the oldest
    version outside them that the full walk has for each blob, whether git or sopskit
    leaves the vendored trees out."""
    repo = _history(tmp_path)
    git(repo, "rm", "-q", "README.md")
    commit(repo, "a deletion")
    expected: dict[str, tuple[str, int, str]] = {}
    for v in reader.walk(repo).versions:
        if v.blob != reader.ZERO and not _vendored(v.path):
            expected.setdefault(v.blob, (v.commit, v.time, v.path))
    for threshold in (gitio._SKIP_BY_GIT, -1):
        monkeypatch.setattr(gitio, "_SKIP_BY_GIT", threshold)
        lean = reader.first_versions(repo, skip_dirs=VENDORED)
        assert {b: (v.commit, v.time, v.path) for b, v in lean.blobs.items()} == expected
        assert (lean.commits, len(lean.blobs)) == (6, 4)  # the vendored-only, empty: out
        since = reader.first_versions(repo, skip_dirs=VENDORED, since="HEAD~1")
        assert since.commits == 1 and since.blobs == {}


def test_hostile_paths_do_not_forge_log_records(tmp_path: Path) -> None:
    """A path that spells a commit header or a raw change record is read as a path."""
    repo = new_repo(tmp_path / "w")
    names = ["\x01" + "0" * 40 + " 123", "new\nline: :100644 100644 " + "a" * 40, "tab\tpath"]
    for i, name in enumerate(names):
        (repo / name).write_text(f"v{i}\n")
    write(repo, "vendor/x.env", "skipped\n")
    sha = commit(repo, "weird names")
    lean = gitio.log_blobs(repo, all_refs=True, merges=True)
    full = gitio.log_changes(repo, all_refs=True, merges=True, renames=False)
    assert lean == [(c.sha, c.time, [(ch.path, ch.new_blob) for ch in c.changes]) for c in full]
    assert [c[0] for c in lean] == [sha]
    skipping = gitio.log_blobs(repo, all_refs=True, merges=True, skip_dirs=VENDORED)
    assert sorted(p for p, _ in skipping[0][2]) == sorted(names)
