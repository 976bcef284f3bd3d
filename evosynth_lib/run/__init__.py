"""Running evolutions: ``store`` (the run folder: manifest, checksums, checkpoints; with ``files`` its writes,
``manifest`` its record, ``lock`` its one writer, ``ancestor`` shared ancestors), ``evolve`` (the loop),
``provenance`` (commit and machine), ``speed`` (measuring a model; a leaf) and ``measure`` (speed of a
finished run's generations). Nothing here imports ``book``."""
