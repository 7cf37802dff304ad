"""`sopskit access` on a real repository (registry, real sops files, a retired key, a key
added after the files, a recipient the registry does not know): the JSON contract exactly,
without a registry (.sops.yaml), at a revision, and the HTML page in a real browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.access import browser
from tests.audit.repos import sops_encrypt
from tests.helpers import age_key, run_cli
from tests.rekey.world import World, make_world

SANDBOX = "clusters/sandbox/apps"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    world = make_world(tmp_path_factory.mktemp("access"))
    world.populate(2)  # f000.yaml, f001.json: admin + flux-sandbox
    world.encrypt("clusters/production/db.sops.yaml", "stringData:\n  p: x\n")
    world.add_key("flux-old", "[sandbox]")
    world.encrypt("clusters/sandbox/old.sops.yaml", "stringData:\n  p: x\n")
    world.set_status("flux-old", "retired")
    world.commit("files")
    world.add_key("flux-sandbox-2", "[sandbox]")  # after the files: missing everywhere
    world.stranger = age_key()  # type: ignore[attr-defined]
    sops_encrypt(world.root, "clusters/sandbox/stray.sops.yaml", "stringData:\n  p: x\n",
                 age=[world.stranger.recipient], extra=("--encrypted-regex", "^stringData$"))  # type: ignore[attr-defined]
    return world


def matrix(world: World, *args: str) -> dict:
    r = run_cli("--repo", world.root, "access", "--format", "json", *args)
    assert r.code == 0, r.stderr
    return json.loads(r.stdout)


def test_json_contract_exactly(world: World) -> None:
    data = matrix(world)
    stranger = f"age:{world.stranger.recipient}"  # type: ignore[attr-defined]
    assert data["version"] == 1 and data["rev"] is None
    keys = {k["name"]: k for k in data["keys"]}
    assert keys["flux-old"] == {"name": "flux-old", "type": "age",
                                "recipient": f"age:{world.keys['flux-old'].recipient}",
                                "clusters": ["sandbox"], "status": "retired"}
    assert keys["ops-admin"]["clusters"] == ["sandbox", "production"]
    assert keys[stranger]["status"] == "unregistered" and keys[stranger]["clusters"] == []
    files = {f["path"]: f for f in data["files"]}
    assert set(files) == {f"{SANDBOX}/f000.yaml", f"{SANDBOX}/f001.json",
                          "clusters/production/db.sops.yaml", "clusters/sandbox/old.sops.yaml",
                          "clusters/sandbox/stray.sops.yaml"}
    assert files[f"{SANDBOX}/f000.yaml"] == {
        "path": f"{SANDBOX}/f000.yaml", "recipients": ["flux-sandbox", "ops-admin"],
        "expected": ["flux-sandbox", "flux-sandbox-2", "ops-admin"],
        "missing": ["flux-sandbox-2"], "unauthorised": []}
    assert files["clusters/sandbox/old.sops.yaml"]["unauthorised"] == ["flux-old"]
    assert files["clusters/production/db.sops.yaml"]["missing"] == []
    assert files["clusters/sandbox/stray.sops.yaml"] == {
        "path": "clusters/sandbox/stray.sops.yaml", "recipients": [stranger],
        "expected": ["flux-sandbox", "flux-sandbox-2", "ops-admin"],
        "missing": ["flux-sandbox", "flux-sandbox-2", "ops-admin"],
        "unauthorised": [stranger]}
    # PATH limits the rows; --rev reads the commit (stray.sops.yaml is not committed)
    assert [f["path"] for f in matrix(world, str(world.root / "clusters/production"))[
        "files"]] == ["clusters/production/db.sops.yaml"]
    at = matrix(world, "--rev", "HEAD")
    assert len(at["rev"]) == 40 and "clusters/sandbox/stray.sops.yaml" not in {
        f["path"] for f in at["files"]}


def test_without_a_registry_the_sops_yaml_decides(tmp_path: Path) -> None:
    a, b = age_key(), age_key()
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: prod/\n    age: {a.recipient},{b.recipient}\n")
    sops_encrypt(repo, "prod/s.sops.yaml", "k: v\n", age=[a.recipient])
    sops_encrypt(repo, "other/s.sops.yaml", "k: v\n", age=[a.recipient])
    data = json.loads(run_cli("--repo", repo, "access", "--format", "json").stdout)
    files = {f["path"]: f for f in data["files"]}
    assert files["prod/s.sops.yaml"]["missing"] == [f"age:{b.recipient}"]
    assert files["other/s.sops.yaml"]["expected"] is None
    text = run_cli("--repo", repo, "access").stdout
    assert "2 sops file(s) in the working tree, 2 key(s); expected readers from .sops.yaml" \
        in text and "prod/" in text


def _count(dom: str, ident: str) -> int:
    m = re.search(rf'id="{ident}">(\d+)<', dom)
    assert m, ident
    return int(m[1])


def _shown_rows(dom: str) -> list[str]:
    return re.findall(r'<tr class="file(?: problem)?" data-path="([^"]+)"', dom)


def test_html_page_in_a_real_browser(world: World, tmp_path: Path) -> None:
    page = tmp_path / "access.html"
    r = run_cli("--repo", world.root, "access", "--format", "html", "--out", page)
    assert r.code == 0 and "wrote" in r.stderr
    html = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)|url\(|@import""", html)
    data = matrix(world)
    problems = sum(len(f["missing"]) + len(f["unauthorised"]) for f in data["files"])
    problems += sum(1 for f in data["files"] for n in f["recipients"] if n not in f[
        "unauthorised"] and next(k for k in data["keys"] if k["name"] == n)["status"]
        in ("retired", "revoked", "expired"))

    dom = browser.dump_dom(page)
    assert _count(dom, "count-files") == _count(dom, "shown-files") == len(data["files"])
    assert _count(dom, "count-keys") == len(data["keys"])
    assert _count(dom, "count-problems") == _count(dom, "shown-problems") == problems
    assert sorted(_shown_rows(dom)) == sorted(f["path"] for f in data["files"])

    dom = browser.dump_dom(page, "path=production")
    assert _shown_rows(dom) == ["clusters/production/db.sops.yaml"]
    assert _count(dom, "shown-files") == 1

    dom = browser.dump_dom(page, "key=flux-old")
    assert _shown_rows(dom) == ["clusters/sandbox/old.sops.yaml"]
    assert _count(dom, "shown-keys") == 1

    dom = browser.dump_dom(page, "cluster=production&problems=1")
    cols = {k["name"] for k in data["keys"] if "production" in k["clusters"]}
    stale = {k["name"] for k in data["keys"] if k["status"] in ("retired", "revoked")}
    assert sorted(_shown_rows(dom)) == sorted(
        f["path"] for f in data["files"]
        if cols & {*f["missing"], *f["unauthorised"], *(stale & set(f["recipients"]))})
    assert _shown_rows(dom) == ["clusters/sandbox/stray.sops.yaml"]  # misses ops-admin

    shot = browser.screenshot(page, tmp_path / "page.png", dark=True)
    assert shot.stat().st_size > 10_000


def test_a_path_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    """A typo must not read as an empty, clean matrix."""
    repo = tmp_path / "r"
    repo.mkdir()
    for bad, said in ((repo / "no-such-dir", "no such file"),
                      (repo / ".." / "elsewhere", "not inside the repository")):
        r = run_cli("--repo", repo, "access", str(bad))
        assert r.code == 2 and r.stderr.count("\n") == 1 and said in r.stderr, r.stderr
    (repo / "sub").mkdir()
    (tmp_path / "link").symlink_to(repo)  # the repository named through a symlink
    assert run_cli("--repo", repo, "access", str(tmp_path / "link" / "sub")).code == 0
