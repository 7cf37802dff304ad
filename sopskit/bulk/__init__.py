"""Repository-wide operations built on the engine and the audit's rules (a peer of audit,
history and flux; the engine itself never imports the audit)."""
