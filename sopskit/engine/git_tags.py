"""Moved to `sopskit.git_tags`; this name stays until the runbook rework (ops) rebases onto
the move, then goes (BOARD.md)."""

from sopskit.git_tags import latest_tag, recipients_at

__all__ = ["latest_tag", "recipients_at"]
