"""The layers of docs/architecture.md, enforced: every import in `sopskit/` (top-level or
inside a function, `import x` or `from x import y`) is read with `ast` and checked against the
rules below, so a violation fails `make test` and CI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sopskit"

# (modules the rule applies to, imported prefix they must not use, why)
FORBIDDEN: tuple[tuple[str, str, str], ...] = (
    ("sopskit", "sopskit.cli", "library code never imports the CLI"),
    ("sopskit.sopsfile", "sopskit.engine", "sopsfile is the file-format layer"),
    ("sopskit.sopsfile", "sopskit.audit", "sopsfile is the file-format layer"),
    ("sopskit.sopsfile", "sopskit.registry", "sopsfile is the file-format layer"),
    ("sopskit.registry", "sopskit.engine", "the registry sits below the engine"),
    ("sopskit.registry", "sopskit.audit", "the registry sits below the audit"),
    ("sopskit.engine", "sopskit.runbook", "runbooks are built on the engine, not in it"),
)
ENTRY_POINTS = ("sopskit.__main__",)  # `python -m sopskit` runs the CLI
# (imported module, the only modules allowed to import it)
ONLY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("click", ("sopskit.cli",)),
    ("subprocess", ("sopskit.process",)),
    ("keyring", ("sopskit.identity",)),
    ("gnupg", ("sopskit.gpg",)),  # the one gpg adapter
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call):
            found += [(node.lineno, name) for name in _dynamic(node)]
    return found


def _dynamic(call: ast.Call) -> list[str]:
    """What a call imports or runs that `import` would show: `importlib.import_module("x")`
    and `__import__("x")` with a literal name, and os's own ways to run a program, which
    count as `subprocess` (only process.py runs commands)."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""
    if name in ("import_module", "__import__") and call.args and isinstance(
            call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return [call.args[0].value]
    owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(
        func.value, ast.Name) else ""
    if owner == "os" and name.startswith(("system", "popen", "exec", "spawn", "posix_spawn")):
        return ["subprocess"]
    return []


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        mod = module_name(path)
        for line, name in imports(path):
            where = f"{path.relative_to(PACKAGE.parent)}:{line}: {mod} imports {name}"
            for scope, banned, why in FORBIDDEN:
                if under(mod, scope) and under(name, banned) and not under(mod, banned) \
                        and not (scope == "sopskit" and mod in ENTRY_POINTS):
                    out.append(f"{where} ({why})")
            for lib, allowed in ONLY:
                if under(name, lib) and not any(under(mod, a) for a in allowed):
                    out.append(f"{where} (only {', '.join(allowed)} may import {lib})")
    return sorted(set(out))


def test_the_layers_hold() -> None:
    assert violations() == []


@pytest.mark.parametrize(("source", "expected"), [
    ("from sopskit.cli.main import main\n", "library code never imports the CLI"),
    ("import subprocess\n", "only sopskit.process may import subprocess"),
    ("from .. import engine\n", "sopsfile is the file-format layer"),
    ("import importlib\nimportlib.import_module('sopskit.cli.main')\n",
     "library code never imports the CLI"),
    ("__import__('subprocess')\n", "only sopskit.process may import subprocess"),
    ("import os\nos.execvp('sops', ['sops'])\n", "only sopskit.process may import subprocess"),
    ("import os\nos.system('gpg')\n", "only sopskit.process may import subprocess"),
])
def test_the_check_sees_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    source: str, expected: str) -> None:
    """The checker itself works: a planted bad import in a copy of a module is reported."""
    fake = tmp_path / "sopskit"
    (fake / "sopsfile").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "sopsfile" / "__init__.py").write_text("")
    (fake / "sopsfile" / "bad.py").write_text(source)
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", fake)
    assert any(expected in v for v in violations()), violations()
