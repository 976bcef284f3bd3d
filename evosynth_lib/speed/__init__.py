"""How fast a network runs, timed one way: ``protocol`` (:func:`~.protocol.time_passes`, the warm-up and
repetition policy) and ``model`` (a torch model's frames per second, the evolution loop's per-generation speed,
what half precision does on a device). ``run.measure`` (from checkpoints) and ``run.deploy`` (through the
deployment engines) time by the same protocol. Imports only ``config``, ``core`` and ``tasks``."""
