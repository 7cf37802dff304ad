"""Where private keys come from: files, environment, the OS keyring, gpg.

Public API: `discover()` (discover.py), `Identities` / `AgeIdentity` (model.py),
`keyring_status()` / `KeyringStatus` / `KeyringStore` (keyring_store.py).
"""
