"""The audit: plaintext secrets, recipient and rotation gaps, integrity, config drift."""
