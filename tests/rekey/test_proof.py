"""The proof refuses to call proved what it could not check."""

from __future__ import annotations

from pathlib import Path

from sopskit.engine.rekey.proof import Expected, prove
from sopskit.identity.model import Identities
from sopskit.recipient import Recipient
from tests.rekey.world import content, make_world


def test_a_rotation_no_identity_here_can_see_is_not_proved(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    rel = world.populate(1)[0]
    wanted = frozenset(Recipient.age(world.keys[n].recipient)
                       for n in ("ops-admin", "flux-sandbox"))
    expected = Expected(wanted, old_key=b"\x01" * 32, key_groups=(wanted,))
    seen = prove(world.root / rel, rel, "yaml", expected, world.identities())
    assert seen.ok and seen.key_rotated is True
    blind = prove(world.root / rel, rel, "yaml", expected, Identities(()))
    assert blind.key_rotated is None and not blind.ok
    assert any("cannot be compared" in p for p in blind.problems)


def test_one_wanted_group_is_not_two_groups_with_the_same_recipients(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.extra_rules = ("  - path: clusters/sandbox/apps/**\n    clusters: [sandbox]\n"
                         "    key_groups:\n      - clusters: [sandbox]\n"
                         "      - keys: [ops-admin]\n    shamir_threshold: 2\n")
    world.write_registry()
    path = world.encrypt("clusters/sandbox/apps/g.yaml", content("yaml", 1))
    rel = "clusters/sandbox/apps/g.yaml"
    one = frozenset(Recipient.age(world.keys[n].recipient) for n in ("ops-admin",
                                                                     "flux-sandbox"))
    proof = prove(path, rel, "yaml", Expected(one, key_groups=(one,)), world.identities())
    assert proof.recipients_ok and not proof.ok
    assert "key groups differ from the wanted ones" in proof.problems
