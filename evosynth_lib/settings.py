"""Where a run happens, apart from what it computes: the data folder, the device, data-loading workers, downloads
and torch's thread count (:class:`RunSettings`, an :class:`~evosynth_lib.config.EvolutionConfig`'s ``settings``).

None of them is part of a run's identity (:meth:`~evosynth_lib.config.EvolutionConfig.run_id`): moving the data
or the machine reuses a run. ``threads`` can change the last bits of a result: the run store records it and a
resume runs at the recorded setting (``run/store.py``). A YAML file, ``--set`` and a notebook write them as plain
fields beside the configuration's (``threads: 2``), and ``EvolutionConfig(threads=2)`` or
``config.replace(threads=2)`` set them too.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .checks import _check, _is_int


@dataclass(frozen=True)
class RunSettings:
    """Where and on what an evolution runs; checked by :meth:`validate` with the configuration."""

    data_dir: str | None = None  # None -> EVOSYNTH_DATA (tasks/data_dir.py)
    device: str = "auto"
    num_workers: int = 0
    download: bool | None = None  # torchvision downloads allowed (None: EVOSYNTH_DOWNLOAD=1 decides)
    threads: int | None = None  # torch CPU threads (None: torch's default); recorded in the run

    def validate(self) -> "RunSettings":
        """Raise :class:`~evosynth_lib.checks.ConfigError` naming the first offending setting."""
        c = lambda name, ok, why: _check("", name, getattr(self, name), ok, why)  # noqa: E731
        c("num_workers", _is_int(self.num_workers) and 0 <= self.num_workers < 2**31,
          "must be an integer in [0, 2**31)")
        c("threads", self.threads is None or (_is_int(self.threads) and self.threads >= 1),
          "must be null or an integer >= 1")
        c("download", self.download is None or isinstance(self.download, bool), "must be null, true or false")
        c("data_dir", self.data_dir is None or isinstance(self.data_dir, str), "must be null or a path")
        c("device", isinstance(self.device, str) and (self.device in ("auto", "cpu", "cuda", "mps")
                                                      or self.device.startswith("cuda:")),
          "choose auto, cpu, cuda or cuda:N")
        return self

    def replace(self, **changes) -> "RunSettings":
        return dataclasses.replace(self, **changes)


SETTINGS = tuple(f.name for f in dataclasses.fields(RunSettings))
