"""`sopskit git setup` and the merge / diff drivers under a real `git merge` / `git diff`,
on files the real sops wrote: non-overlapping edits merge clean and verify; overlapping ones
conflict, leave ours and never put plaintext in the work tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sopskit.review.resolve import stages
from tests.helpers import AgeKey, age_key, clean_env, run_cli, run_sops
from tests.review.test_diff import SECRET

VALUES = ("admin-user-1", "first-pass-1", "ours-pass-2", "theirs-pass-3", "theirs-token-4")


def git(repo: Path, *args: str, key: AgeKey | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**clean_env(), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    if key is not None:
        env["SOPS_AGE_KEY"] = key.secret
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def sopskit_set(repo: Path, key: AgeKey, path: str, value: str) -> None:
    done = run_cli("set", "db.yaml", path, "--value-stdin", input=value, cwd=repo,
                   env=clean_env({"SOPS_AGE_KEY": key.secret}))
    assert done.code == 0, done.stderr


def decrypted(repo: Path, key: AgeKey) -> str:
    done = run_sops("decrypt", repo / "db.yaml", env={"SOPS_AGE_KEY": key.secret})
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def no_plaintext_on_disk(repo: Path) -> None:
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(errors="replace")
            assert not any(v in text for v in VALUES), path


@pytest.fixture
def repo(tmp_path: Path, age: AgeKey) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "db.yaml").write_text(SECRET)
    done = run_sops("encrypt", "-i", "--age", age.recipient, "--encrypted-regex",
                    "^(data|stringData)$", repo / "db.yaml", env={})
    assert done.returncode == 0, done.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    setup = run_cli("git", "setup", cwd=repo, env=clean_env())
    assert setup.code == 0, setup.stderr
    assert "db.yaml diff=sopskit merge=sopskit" in (repo / ".gitattributes").read_text()
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-qm", "attributes")
    return repo


def branches(repo: Path, key: AgeKey, ours: tuple[str, str], theirs: tuple[str, str]) -> None:
    git(repo, "checkout", "-qb", "theirs")
    sopskit_set(repo, key, *theirs)
    git(repo, "commit", "-qam", "theirs")
    git(repo, "checkout", "-q", "main")
    sopskit_set(repo, key, *ours)
    git(repo, "commit", "-qam", "ours")


def test_non_overlapping_edits_merge_clean(repo: Path, age: AgeKey) -> None:
    branches(repo, age, ('["stringData"]["PASSWORD"]', "ours-pass-2"),
             ('["stringData"]["TOKEN"]', "theirs-token-4"))
    done = git(repo, "merge", "--no-edit", "theirs", key=age)
    assert "merged per key path" in done.stderr
    plain = decrypted(repo, age)
    assert "PASSWORD: ours-pass-2" in plain and "TOKEN: theirs-token-4" in plain
    verify = run_cli("verify", "--require-mac", "db.yaml", cwd=repo,
                     env=clean_env({"SOPS_AGE_KEY": age.secret}))
    assert verify.code == 0, verify.stdout + verify.stderr
    no_plaintext_on_disk(repo)


def test_overlapping_edits_conflict_and_keep_ours(repo: Path, age: AgeKey) -> None:
    branches(repo, age, ('["stringData"]["PASSWORD"]', "ours-pass-2"),
             ('["stringData"]["PASSWORD"]', "theirs-pass-3"))
    ours = (repo / "db.yaml").read_bytes()
    done = git(repo, "merge", "--no-edit", "theirs", key=age, check=False)
    assert done.returncode != 0
    assert "conflict in stringData.PASSWORD" in done.stderr
    assert (repo / "db.yaml").read_bytes() == ours
    assert "db.yaml" in git(repo, "diff", "--name-only", "--diff-filter=U").stdout
    no_plaintext_on_disk(repo)


def test_without_a_key_git_conflicts_as_usual(repo: Path, age: AgeKey) -> None:
    branches(repo, age, ('["stringData"]["PASSWORD"]', "ours-pass-2"),
             ('["stringData"]["TOKEN"]', "theirs-token-4"))
    done = git(repo, "merge", "--no-edit", "theirs", check=False)
    assert done.returncode != 0 and "no key of yours" in done.stderr
    assert "<<<<<<< ours" in (repo / "db.yaml").read_text()
    no_plaintext_on_disk(repo)


def test_rotation_on_their_side_survives(repo: Path, age: AgeKey) -> None:
    other = age_key()
    git(repo, "checkout", "-qb", "theirs")
    done = run_sops("rotate", "-i", "--add-age", other.recipient, repo / "db.yaml",
                    env={"SOPS_AGE_KEY": age.secret})
    assert done.returncode == 0, done.stderr
    git(repo, "commit", "-qam", "rotate")
    git(repo, "checkout", "-q", "main")
    sopskit_set(repo, age, '["stringData"]["PASSWORD"]', "ours-pass-2")
    git(repo, "commit", "-qam", "ours")
    git(repo, "merge", "--no-edit", "theirs", key=age)
    assert other.recipient in (repo / "db.yaml").read_text()
    assert "PASSWORD: ours-pass-2" in decrypted(repo, other)


def test_git_diff_shows_key_paths_not_values(repo: Path, age: AgeKey) -> None:
    sopskit_set(repo, age, '["stringData"]["PASSWORD"]', "ours-pass-2")
    keyless = git(repo, "diff").stdout
    assert "-stringData.PASSWORD: <encrypted" in keyless
    assert "+stringData.PASSWORD: <encrypted" in keyless
    with_key = git(repo, "diff", key=age).stdout
    assert "+stringData.PASSWORD: [" in with_key and " stringData.USER: [" in with_key
    assert not any(v in keyless + with_key for v in VALUES)
    assert os.path.exists(repo / "db.yaml")


def test_git_diff_of_a_damaged_value_still_shows(repo: Path, age: AgeKey) -> None:
    """A tampered value must not make the textconv fail: git would abort the whole diff
    ("unable to read files to diff"), hiding the very change a reviewer must see."""
    text = (repo / "db.yaml").read_text()
    start = text.index("PASSWORD: ENC[AES256_GCM,data:") + len("PASSWORD: ENC[AES256_GCM,data:")
    flipped = "B" if text[start] == "A" else "A"
    (repo / "db.yaml").write_text(text[:start] + flipped + text[start + 1:])
    done = git(repo, "diff", key=age)
    assert "DAMAGED: stringData.PASSWORD" in done.stdout
    assert "+stringData.PASSWORD: <encrypted" in done.stdout
    assert not any(v in done.stdout + done.stderr for v in VALUES)


EDITOR = """\
import pathlib, sys
path = pathlib.Path(sys.argv[2])
pathlib.Path(sys.argv[1]).write_text(str(path) + "\\n" + path.read_text())
path.write_text(path.read_text().replace("PASSWORD: ours-pass-2", "PASSWORD: theirs-pass-3"))
"""


def test_edit_resolve_shows_both_sides_in_memory(repo: Path, age: AgeKey,
                                                 tmp_path: Path) -> None:
    branches(repo, age, ('["stringData"]["PASSWORD"]', "ours-pass-2"),
             ('["stringData"]["PASSWORD"]', "theirs-pass-3"))
    user_before = [ln for ln in (repo / "db.yaml").read_text().splitlines() if "USER" in ln]
    git(repo, "merge", "--no-edit", "theirs", key=age, check=False)
    editor, seen = tmp_path / "editor.py", tmp_path / "seen.txt"
    editor.write_text(EDITOR)
    done = run_cli("edit", "--resolve", "db.yaml", cwd=repo, env=clean_env({
        "SOPS_AGE_KEY": age.secret, "EDITOR": f"{sys.executable} {editor} {seen}"}))
    assert done.code == 0, done.stderr
    assert "stringData.PASSWORD" in done.stderr
    shown_path, text = seen.read_text().split("\n", 1)
    assert not Path(shown_path).exists() and repo not in Path(shown_path).parents
    assert 'stringData.PASSWORD: ours = "ours-pass-2" | theirs = "theirs-pass-3"' in text
    plain = decrypted(repo, age)
    assert "PASSWORD: theirs-pass-3" in plain and "sopskit" not in plain
    assert [ln for ln in (repo / "db.yaml").read_text().splitlines() if "USER" in ln] \
        == user_before
    no_plaintext_on_disk(repo)


def test_textconv_show_values_needs_a_terminal(repo: Path, age: AgeKey) -> None:
    done = run_cli("git", "textconv", "--show-values", "db.yaml", cwd=repo,
                   env=clean_env({"SOPS_AGE_KEY": age.secret}))
    assert done.code == 2 and "terminal" in done.stderr
    assert not any(v in done.stdout for v in VALUES)
    plain = run_cli("git", "textconv", "README.md", cwd=repo, env=clean_env())
    assert plain.code == 3 and "README.md" in plain.stderr  # no such file: one line
    assert "Traceback" not in plain.stderr


def test_setup_covers_odd_file_names_exactly(repo: Path) -> None:
    """Names with a newline, `$(...)`, wildcards or a leading `!` each get their own
    attribute line, which git reads without a warning and which matches that file only."""
    odd = ["we ird $(touch x) \nname.yaml", "a[1].yaml", "!bang.yaml", "st*r.yaml"]
    for name in odd:
        (repo / name).write_bytes((repo / "db.yaml").read_bytes())
    (repo / "sub").mkdir()
    (repo / "sub" / "db.yaml").write_text("plain: file\n")
    (repo / "a1.yaml").write_text("plain: file\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "odd names")
    assert run_cli("git", "setup", cwd=repo, env=clean_env()).code == 0
    names = [*odd, "db.yaml", "sub/db.yaml", "a1.yaml"]
    done = git(repo, "check-attr", "-z", "diff", "--", *names)
    assert done.stderr == ""
    fields = done.stdout.split("\0")
    got = dict(zip(fields[0::3], fields[2::3], strict=False))
    assert got == {**dict.fromkeys([*odd, "db.yaml"], "sopskit"),
                   "sub/db.yaml": "unspecified", "a1.yaml": "unspecified"}


def test_resolve_reads_only_its_own_stages(tmp_path: Path) -> None:
    """A conflicted `a[z].txt` is not a glob: `az.txt`'s stages stay out of its merge."""
    repo = tmp_path / "globs"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")

    def commit(side: str) -> None:
        for name in ("a[z].txt", "az.txt"):
            (repo / name).write_text(f"{name} {side}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", side)

    commit("base")
    git(repo, "checkout", "-qb", "theirs")
    commit("theirs")
    git(repo, "checkout", "-q", "main")
    commit("ours")
    assert git(repo, "merge", "theirs", check=False).returncode != 0
    assert stages(repo, "a[z].txt") == {1: b"a[z].txt base\n", 2: b"a[z].txt ours\n",
                                         3: b"a[z].txt theirs\n"}


def test_resolve_refuses_an_emptied_file(repo: Path, age: AgeKey, tmp_path: Path) -> None:
    """Saving an empty buffer (or only comments) is not "delete every value", and a
    second document is not silently dropped."""
    branches(repo, age, ('["stringData"]["PASSWORD"]', "ours-pass-2"),
             ('["stringData"]["PASSWORD"]', "theirs-pass-3"))
    git(repo, "merge", "--no-edit", "theirs", key=age, check=False)
    before = (repo / "db.yaml").read_bytes()
    for saved in ("# bye\\n", "a: 1\\n---\\nb: 2\\n"):  # emptied; a document added
        editor = tmp_path / "editor.py"
        editor.write_text(f"import pathlib, sys\npathlib.Path(sys.argv[1]).write_text('{saved}')\n")
        done = run_cli("edit", "--resolve", "db.yaml", cwd=repo, env=clean_env({
            "SOPS_AGE_KEY": age.secret, "EDITOR": f"{sys.executable} {editor}"}))
        assert done.code == 2 and "nothing was changed" in done.stderr, done.stderr
        assert (repo / "db.yaml").read_bytes() == before


def test_conflict_hint_runs_as_printed(repo: Path, age: AgeKey, tmp_path: Path) -> None:
    """The driver's `sopskit edit --resolve NAME` hint is shell-quoted: pasted as printed,
    a name with `$(...)` is a name, not a command."""
    sides = []
    for value in ("ours-pass-2", "theirs-pass-3"):
        side = tmp_path / f"{value}.yaml"
        side.write_bytes((repo / "db.yaml").read_bytes())
        done = run_cli("set", side, '["stringData"]["PASSWORD"]', "--value", value, cwd=repo,
                       env=clean_env({"SOPS_AGE_KEY": age.secret}))
        assert done.code == 0, done.stderr
        sides.append(side)
    name = "my $(touch pwned) db.yaml"
    done = run_cli("git", "merge", repo / "db.yaml", *sides, name, cwd=repo,
                   env=clean_env({"SOPS_AGE_KEY": age.secret}))
    assert done.code == 1 and "conflict in stringData.PASSWORD" in done.stderr
    hint = done.stderr.split("Resolve with `")[1].split("`")[0]
    assert hint == "sopskit edit --resolve 'my $(touch pwned) db.yaml'"


def test_textconv_is_one_line_per_value(tmp_path: Path, age: AgeKey) -> None:
    """A newline in a key or a plaintext-stored value is escaped: it cannot forge lines."""
    path = tmp_path / "x.json"
    path.write_text('{"a\\nb": "v", "c_unencrypted": "l1\\n+d: forged"}')
    assert run_sops("encrypt", "-i", "--age", age.recipient, path, env={}).returncode == 0
    done = run_cli("git", "textconv", path, cwd=tmp_path,
                   env=clean_env({"SOPS_AGE_KEY": age.secret}))
    body = [ln for ln in done.stdout.splitlines() if not ln.startswith("#")]
    assert len(body) == 2 and body[0].startswith("a\\nb: [")
    assert body[1] == "c_unencrypted: l1\\n+d: forged"
