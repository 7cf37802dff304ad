"""A seeded mutator over the sops vectors of tests/vectors/fuzz (all five stores).

Case `n` of a run with seed `s` is always the same bytes (`random.Random(f"{s}:{n}")`), so a
failing case is reproduced from the two numbers the harness prints. Mutations mix blind byte
edits with the hostile shapes of issue 9: alias bombs, deep nesting, huge keys and numbers,
lone surrogate escapes, invalid UTF-8, NUL, BOM, CRLF and flattened metadata of the wrong
shape, placed at random points of a real sops file so the parsers meet them mid-document.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "fuzz"
STORES = (("yaml", "seed.yaml"), ("json", "seed.json"), ("dotenv", "seed.env"),
          ("ini", "seed.ini"), ("binary", "seed.bin"))


@dataclass(frozen=True)
class Seed:
    fmt: str
    name: str
    data: bytes


def seeds() -> list[Seed]:
    return [Seed(fmt, name, (VECTORS / name).read_bytes()) for fmt, name in STORES]


def _bomb(rng: random.Random) -> bytes:
    width = rng.randint(2, 12)
    lines = [b"b0: &b0 [" + b",".join([b"x"] * width) + b"]\n"]
    for k in range(1, rng.randint(3, 12)):
        refs = b",".join([b"*b%d" % (k - 1)] * width)
        lines.append(b"b%d: &b%d [%s]\n" % (k, k, refs))
    return b"".join(lines)


def _flow_bomb(rng: random.Random) -> bytes:
    """The same bomb as one flow sequence, usable as any value."""
    width = rng.randint(2, 12)
    parts = [b"&f0 [" + b",".join([b"x"] * width) + b"]"]
    for k in range(1, rng.randint(3, 12)):
        parts.append(b"&f%d [%s]" % (k, b",".join([b"*f%d" % (k - 1)] * width)))
    return b"[" + b", ".join(parts) + b"]"


def _nest(rng: random.Random) -> bytes:
    depth = rng.choice((50, 99, 101, 600, 2000, 20000))
    kind = rng.randrange(4)
    if kind == 0:
        return b"[" * depth + b"]" * depth
    if kind == 1:
        return b'{"a":' * depth + b"1" + b"}" * depth
    if kind == 2:
        return b"".join(b" " * i + b"k:\n" for i in range(min(depth, 3000)))
    return b"- " * min(depth, 3000) + b"x\n"


TOKENS: tuple[bytes, ...] = (
    b"&a ", b"*a", b"<<: *a\n", b"!!binary ", b"!!int ", b"!custom ", b"? ", b"- ", b": ",
    b"\\ud800", b"\\udc00", b"\\u0000", b'"\\ud83d"', b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80",
    b"\x00", b"\xef\xbb\xbf", b"\r\n", b"\r", b"\t", b"\x1b", b"\x7f", b"\xe2\x80\xa8",
    b"1" * 5000, b"-" + b"9" * 4400, b"0x" + b"f" * 5000, b"1e99999", b"0o" + b"7" * 5000,
    b"9223372036854775808", b"-9223372036854775809", b"1_000", b"0b" + b"1" * 70,
    b"sops_age__list_0__list_5__list_0=\n", b"sops_age__list_99999999999999999999=x\n",
    b"sops_age__map_x__list_0=\n", b"sops_pgp=\n", b"sops_shamir_threshold=" + b"9" * 5000 + b"\n",
    b"sops_lastmodified=notatime\n", b"sops_version=\n", b"sops_mac=\n", b"sops_age__list_0__map_enc=\n",
    b"ENC[AES256_GCM,data:", b",iv:", b",tag:", b",type:int]", b",type:bytes]", b",type:comment]",
    b"ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAAAAAAAA==,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
    b"metadata: x\n", b"metadata:\n- a\n", b"metadata: [1, 2]\n", b"kind: Secret\n",
    b"sops:\n", b'"sops": 1', b"[sops]\n", b"mac: ", b"lastmodified: ", b"version: ",
    b"---\n", b"...\n", b"%YAML 1.1\n", b"%TAG ! tag:x,2000:\n", b"#", b"|\n", b">-\n",
    b"{", b"}", b"[", b"]", b'"', b"'", b"\\", b"=", b",", b":", b"\n", b" ",
)


def _pick_range(rng: random.Random, size: int) -> tuple[int, int]:
    start = rng.randrange(size + 1)
    return start, min(size, start + rng.choice((1, 2, 4, 16, 64, 512)))


def mutate(data: bytes, rng: random.Random, others: list[Seed]) -> bytes:
    """One to four edits of `data`."""
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 4))):
        op = rng.randrange(12)
        at = rng.randrange(len(buf) + 1)
        if op == 0:  # flip bits
            for _ in range(rng.randint(1, 8)):
                if buf:
                    buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        elif op == 1:  # random bytes
            buf[at:at] = rng.randbytes(rng.randint(1, 16))
        elif op == 2:  # delete
            start, end = _pick_range(rng, len(buf))
            del buf[start:end]
        elif op == 3:  # duplicate a slice
            start, end = _pick_range(rng, len(buf))
            buf[at:at] = buf[start:end]
        elif op in (4, 5, 6):  # hostile token
            buf[at:at] = rng.choice(TOKENS)
        elif op == 7:  # splice another store's file
            other = rng.choice(others).data
            start, end = _pick_range(rng, len(other))
            buf[at:at] = other[start:end]
        elif op == 8:  # truncate
            del buf[at:]
        elif op == 9:  # structural attack at a line start
            line = 0 if rng.random() < .5 else buf.rfind(b"\n", 0, at) + 1
            buf[line:line] = rng.choice((_bomb, _nest))(rng) + (b"\n" if rng.random() < .5 else b"")
        else:  # a well-formed top-level entry with a hostile key or value
            _entry(buf, rng)
    return bytes(buf)


def _entry(buf: bytearray, rng: random.Random) -> None:
    key = rng.choice((b"k", b"metadata", b"sops", b"data", b"stringData", b"kind",
                      b"k" * rng.choice((300, 70000)), rng.choice(TOKENS)))
    value = rng.choice((*TOKENS, b"[" + rng.choice(TOKENS) + b"]", _flow_bomb(rng)))
    brace = buf.find(b"{")
    if brace >= 0 and buf[:brace].strip() == b"":  # JSON (or the binary store)
        quote = b"\"" if not key.startswith(b"\"") else b""
        buf[brace + 1:brace + 1] = quote + key + quote + b": " + value + b", "
        return
    sep = b"=" if b"sops_version=" in buf or b"[sops]" in buf else b": "
    lines = [i + 1 for i, c in enumerate(buf) if c == 10]
    at = rng.choice([0, *lines])
    buf[at:at] = key + sep + value + b"\n"


def case(seed: int, n: int, pool: list[Seed]) -> tuple[Seed, bytes]:
    """Case `n` of run `seed`: which vector it came from, and its bytes."""
    rng = random.Random(f"{seed}:{n}")
    base = pool[n % len(pool)]
    if rng.random() < 0.03:
        return base, base.data  # the unmodified vector: must verify
    return base, mutate(base.data, rng, pool)
