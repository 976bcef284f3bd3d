"""Running evolutions: ``store`` (the run folder: manifest, checksums, checkpoints; with ``files`` its writes,
``manifest`` its record, ``lock`` its one writer, ``ancestor`` shared ancestors), ``evolve`` (the loop),
``provenance`` (commit and machine), ``measure`` (speed of a finished run's generations) and the deployment
measurement (``engines``, ``export``, ``deploy``); speeds are timed by the ``speed`` package. Nothing here imports
``book``."""
