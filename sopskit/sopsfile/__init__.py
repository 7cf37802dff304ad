"""Native reading and verification of sops files, without the sops binary."""
