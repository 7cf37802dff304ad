"""scratch.py's sweep against names it did not make (issue 9, section 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sopskit import scratch


def test_a_pid_no_process_can_have_is_kept_not_a_crash(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`os.kill` raised OverflowError on a pid past C's range: every edit/exec-file and
    doctor ended in exit 4 while such a directory sat in the scratch parent."""
    monkeypatch.setenv(scratch.SCRATCH_ENV, str(tmp_path))
    odd = tmp_path / "sopskit-edit-99999999999999999999999-abc"
    odd.mkdir()
    assert scratch.leftovers() == []
    with scratch.private("edit") as mine:
        assert mine.parent == tmp_path
    assert odd.is_dir()  # not made by a run of ours: kept
