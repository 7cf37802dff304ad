"""Whether sops can load a plaintext in a store (stores/*: LoadPlainFile), without keys.

`sops edit` re-opens the editor for as long as the saved text does not load ("Could not
load tree, probably due to invalid syntax. Press a key to return to the editor"), reading
one byte of its stdin in between; with no terminal that read ends at once and the loop never
does. `sopskit edit` checks the saved text with this first (engine/edit.py).
"""

from __future__ import annotations

from sopskit.errors import InputError
from sopskit.sopsfile import dotenvstore, inistore, jsonstore, yamlstore
from sopskit.sopsfile.model import Format


def check_loadable(data: bytes, *, path: str, fmt: Format) -> None:
    """Raise InputError (naming the line, never a value) when sops could not load `data`
    as plaintext of store `fmt`. Binary files load whatever they hold."""
    if fmt == "binary":
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("not valid UTF-8 text", path=path,
                         line=data[: exc.start].count(b"\n") + 1) from None
    try:
        if fmt == "yaml":
            yamlstore.load(text, path=path)
        elif fmt == "json":
            jsonstore.load(text, path=path)
        elif fmt == "ini":
            inistore.parse_sections(text, path=path)
        else:
            dotenvstore.load(text, path=path)
    except RecursionError:
        raise InputError("nested too deeply", path=path) from None
