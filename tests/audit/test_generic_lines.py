"""The generic detector looks at each line holding a keyword once (it searches again from
the end of that line): every candidate line is still judged, whatever precedes it on the
line or in the file, in every YAML document, and in non-ASCII text."""

from __future__ import annotations

from sopskit.audit.detectors import generic
from sopskit.audit.detectors.source import Source, document_kinds, kind_at
from tests.audit import fakes


def _generic(path: str, text: str) -> list[tuple[int | None, str]]:
    return [(h.line, h.secret) for h in generic.detect(Source(path, text))]


def test_every_keyword_line_is_judged_after_many_keyword_lines() -> None:
    noise = "".join(f"    secretKeyRef: {{name: token-{i}, key: password}}  # pass pwd\n"
                    for i in range(50))
    a, b, c = fakes.password(), fakes.password(), fakes.password()
    text = (f"config:\n{noise}  db_password: {a}\n  tokenHost: x  # token\n"
            f"  # api_token: {fakes.password()}\n  api_token: {b}\n"
            f"  host: app.${{SECRET_DOMAIN}}\n  secret_key: {c}")  # last line, no newline
    assert _generic("values.yaml", text) == [(52, a), (55, b), (57, c)]


def test_documents_split_by_dashes_decide_by_reference_kinds() -> None:
    pw = fakes.password()
    text = ("kind: ExternalSecret\nspec:\n  secretKey: password\n  password: "
            f"{fakes.password()}\n--- # next\nkind: ConfigMap\ndata:\n  password: {pw}\n")
    assert _generic("m.yaml", text) == [(8, pw)]
    kinds = document_kinds(Source("m.yaml", text))
    assert [k for _, k in kinds] == ["ExternalSecret", "ConfigMap"]
    assert kind_at(kinds, 0) == "ExternalSecret"
    assert kind_at(kinds, text.index("ConfigMap")) == "ConfigMap"
    assert document_kinds(Source("one.yaml", "kind: Secret\n")) == [(0, "Secret")]


def test_non_ascii_text_finds_keywords_case_insensitively() -> None:
    pw = fakes.password()
    text = f"# Konfiguration für Ärzte\nDB_PASSWORD={pw}\nnote=ü PASSWORD is above\n"
    assert _generic("app.env", text) == [(2, pw)]
