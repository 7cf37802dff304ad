"""sopskit: key registry, verified encrypt/decrypt/rekey and audit for SOPS secrets."""

__version__ = "0.1.0"
