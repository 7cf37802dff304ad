"""What git history says: every version of every file, exposure of a key, plaintext ever
committed."""
