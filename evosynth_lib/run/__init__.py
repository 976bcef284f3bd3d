"""Running evolutions: ``store`` (the run folder: manifest, checksums, checkpoints), ``evolve`` (the loop),
``provenance`` (commit and machine), ``speed`` (measuring a model; a leaf) and ``measure`` (speed of a
finished run's generations). Nothing here imports ``book``."""
