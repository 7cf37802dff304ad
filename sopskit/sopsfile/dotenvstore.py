"""Parse dotenv files (stores/dotenv/store.go: LoadPlainFile).

Split on `\\n`, drop empty lines, `#` starts a comment, otherwise split at the first `=`;
key and value verbatim (no trimming or quotes), `\\n` in a value is a newline.
"""

from __future__ import annotations

from sopskit.errors import InputError
from sopskit.sopsfile.tree import Branch, Comment, Item, Scalar


def load(text: str, *, path: str) -> Branch:
    branch = Branch()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        if line[0] == "#":
            branch.append(Comment(line[1:], number))
            continue
        key, eq, value = line.partition("=")
        if not eq:
            # sops prints the line; we must not (it may hold a value).
            raise InputError("invalid dotenv line: no '=' found", path=path, line=number)
        branch.append(Item(key, Scalar(value.replace("\\n", "\n"), number), number))
    return branch
