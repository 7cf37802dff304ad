"""Plaintext-secret detectors, one module per family; `scan_text` runs all of them."""
