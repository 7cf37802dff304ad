"""Repository-wide key rotation: plan, parallel apply with a crash-safe journal, proof.

`plan.make_plan` compares each sops file with what the registry (or `.sops.yaml`) wants for
its path; `apply.apply_plan` carries the plan out through the engine's verified safe writes,
recording each finished file in `journal`; `proof` re-reads every file afterwards.
"""
