"""Running the real sops binary: locate, version gate, environment, exit-code mapping."""
