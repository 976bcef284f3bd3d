"""The companion book's tooling, which the core never imports: ``paths`` (repository, profiles, results),
``results`` (publish / load / not run), ``tables``, ``plots``, ``display``, ``studies`` (normaliser study,
reproducibility), ``paper`` (the papers' reference numbers) and ``build`` (``python -m evosynth_lib.book``)."""
