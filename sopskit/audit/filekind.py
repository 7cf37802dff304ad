"""What kind of file a path is, decided before the generic detectors run: documentation,
source code, a template, a CI workflow, a task runner file, minified code, or plain
configuration / manifests.

Key-name heuristics mean different things in each: `password: hunter2` in a README is
prose, `token = get()` in source is an expression, `secret.sops.yaml.j2` is plaintext by
design (it renders to a file that is then encrypted), and `run:` lines of a workflow are
shell where `$NAME` is an expansion. Specific detectors (private keys, provider tokens,
Kubernetes Secrets) run on every kind.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

FileKind = Literal["docs", "source", "template", "workflow", "taskfile", "minified", "config"]

DOCS = frozenset((".md", ".markdown", ".mdx", ".rst", ".adoc", ".asciidoc", ".txt", ".org"))
SOURCE = frozenset((".py", ".go", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx",
                    ".vue", ".svelte", ".java", ".rb", ".rs", ".c", ".h", ".cc", ".cpp", ".cs",
                    ".php", ".kt", ".swift", ".scala", ".tf", ".hcl", ".sh", ".bash", ".zsh",
                    ".fish", ".ps1", ".lua", ".pl", ".groovy", ".dart", ".ex", ".exs", ".erl",
                    ".clj", ".r", ".jl", ".nim", ".zig", ".cue", ".rego", ".star", ".bzl"))
# Names that render into something else: Jinja (`*.j2`, makejinja's `#{ }#`), Go templates
# (`*.tmpl`, `*.tpl`, `*.gotmpl`), and example / sample copies meant to be filled in.
_TEMPLATE = re.compile(r"\.(?:j2|jinja2?|tmpl|tpl|gotmpl|template|tmp|dist)$"
                       r"|(?:^|[./_-])(?:example|sample|template)s?(?:[./_-]|$)", re.I)
_WORKFLOW = re.compile(r"(?:^|/)\.(?:github|gitea|forgejo)/workflows/[^/]+\.ya?ml$"
                       r"|(?:^|/)\.gitlab-ci\.ya?ml$|(?:^|/)\.circleci/config\.ya?ml$"
                       r"|(?:^|/)azure-pipelines\.ya?ml$|(?:^|/)\.github/actions/.+\.ya?ml$"
                       r"|(?:^|/)action\.ya?ml$")
_TASKFILE = re.compile(r"(?:^|/)(?:Taskfile|taskfile)(?:\.dist)?\.ya?ml$|(?:^|/)\.taskfiles/"
                       r"|\.taskfile\.ya?ml$|(?:^|/)(?:Makefile|GNUmakefile|justfile|Justfile)$"
                       r"|\.mk$")
_MINIFIED_NAME = re.compile(r"\.min\.(?:js|mjs|css)$|\.(?:js|css)\.map$")
_MINIFIED_LINE = 500  # average characters per line of generated, minified code


def classify(path: str, text: str) -> FileKind:
    kind = _by_path(path)
    if kind != "source":
        return kind
    if len(text) > 4 * _MINIFIED_LINE and len(text) / (text.count("\n") + 1) > _MINIFIED_LINE:
        return "minified"
    return "source"


@lru_cache(maxsize=65536)
def _by_path(path: str) -> FileKind:
    """The kind the path alone says ("source" may still be minified code: `classify`).
    Remembered: a history holds many versions of each path."""
    name = path.rsplit("/", 1)[-1]
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    if _MINIFIED_NAME.search(name):
        return "minified"
    if _TEMPLATE.search(name):
        return "template"
    if suffix in DOCS:
        return "docs"
    if suffix in SOURCE:
        return "source"
    if _WORKFLOW.search(path):
        return "workflow"
    if _TASKFILE.search(path):
        return "taskfile"
    return "config"


@lru_cache(maxsize=65536)
def is_template_name(path: str) -> bool:
    """A file that renders into another (`secret.sops.yaml.j2`): plaintext by design."""
    return bool(_TEMPLATE.search(path.rsplit("/", 1)[-1]))
