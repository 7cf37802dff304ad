"""INI output exactly as sops prints it (stores/ini/store.go: encodeTree, written by
gopkg.in/ini.v1 with PrettyFormat: `=` aligned per section, a blank line between sections)."""

from __future__ import annotations

from sopskit.errors import InputError
from sopskit.sopsfile.gorender import to_text
from sopskit.sopsfile.inistore import DEFAULT_SECTION
from sopskit.sopsfile.tree import Branch, Comment, Item, Scalar


def _comment_lines(comment: str, *, trim: bool) -> list[str]:
    out = []
    for line in comment.split("\n"):
        if line[:1] not in ("#", ";"):
            out.append("; " + (line.strip() if trim else line))
        else:
            out.append(line[:1] + " " + line[1:].strip())
    return out


def _key_name(name: str) -> str:
    if '"' in name or "=" in name or ":" in name:
        return f"`{name}`"
    if "`" in name:
        return f'"""{name}"""'
    return name


def _value(val: str) -> str:
    if "\n" in val or "`" in val:
        return f'"""{val}"""'
    if "#" in val or ";" in val:
        return f"`{val}`"
    if val.strip() != val:
        return f'"{val}"'
    return val


def _section(name: str, items: Branch, first: bool, path: str) -> list[str] | None:
    comment = ""
    keys: list[tuple[str, str, str]] = []  # name, value, comment
    for pos, entry in enumerate(items):
        if isinstance(entry, Comment):
            if pos == 0:
                comment = entry.text
            elif keys:
                keys[-1] = (keys[-1][0], keys[-1][1], entry.text)
            continue
        if not isinstance(entry.value, Scalar):
            raise InputError("INI values cannot be nested", path=path, key_path=entry.key)
        keys.append((_key_name(entry.key), to_text(entry.value.value)
                     if not isinstance(entry.value.value, str) else entry.value.value, ""))
    lines = _comment_lines(comment, trim=False) if comment else []
    if not (first and name.upper() == DEFAULT_SECTION):
        lines.append(f"[{name}]")
    elif not keys:
        return None
    width = max((len(k.encode()) for k, _, _ in keys), default=0)
    for key, val, key_comment in keys:
        if key_comment:
            lines.extend(_comment_lines(key_comment, trim=True))
        lines.append(key + " " * (width - len(key.encode())) + " = " + _value(val))
    return lines


def emit(branch: Branch, *, path: str) -> bytes:
    blocks = []
    for index, item in enumerate(i for i in branch if isinstance(i, Item)):
        if not isinstance(item.value, Branch):
            raise InputError("INI top-level entries must be sections", path=path,
                             key_path=item.key)
        lines = _section(item.key, item.value, index == 0, path)
        if lines is not None:
            blocks.append("".join(line + "\n" for line in lines))
    return "\n".join(blocks).encode()
