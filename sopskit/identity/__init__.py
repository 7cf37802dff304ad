"""Where private keys come from: files, environment, the OS keyring, gpg."""
