"""The whole configuration of one evolution, as one dataclass (open_lth style).

A run folder is named by :meth:`EvolutionConfig.run_id`, a hash of every field that can change the
results. Fields that only say *where* or *on what* things run (``data_dir``, ``device``,
``num_workers``) are left out of the hash, so moving the data or the machine reuses a run; so is
``generations``, so asking for more generations extends a finished run.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CLASSIFICATION_DATASETS = ("mnist", "cifar10", "stl10", "synthetic")
DETECTION_DATASETS = ("pennfudan", "parse27k", "synthetic_scenes")
DATASETS = CLASSIFICATION_DATASETS + DETECTION_DATASETS
MODELS = ("lenet5", "alexnet", "detectnet")
NORMALISERS = ("max", "quantile", "mean")
SCHEDULES = ("constant", "step", "cosine")
GRANULARITIES = ("kernel", "filter", "synapse")
FACTOR_LEVELS = ("synapse", "cluster", "both")

# Fields that do not change any generation's results, so are not part of the run id. ``generations`` is
# among them: generation g never depends on how many follow it, so asking for more generations extends a run.
_NOT_HASHED = ("data_dir", "device", "num_workers", "generations")
_FLOAT_FIELDS = ("epochs", "first_epochs", "lr", "momentum", "weight_decay", "cap", "quantile", "tau")


@dataclass
class EvolutionConfig:
    """Every knob of an evolution. See the book's method page for what each one means."""

    dataset: str = "mnist"
    model: str = "lenet5"
    generations: int = 13
    epochs: float = 1.0  # training epochs per generation (fractions allowed: 0.5 = half an epoch)
    first_epochs: float | None = None  # epochs for the ancestor (generation 1); None -> ``epochs``
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "cosine"  # learning-rate schedule inside one generation's training
    batch_size: int = 64
    seed: int = 0
    cap: float = 0.8  # environmental factor: offspring synapses <= cap * parent synapses
    factor_level: str = "synapse"  # where the environmental factor acts: F_s, F_c or both
    normaliser: str = "max"  # layer-wise Z and z: max | quantile | mean
    quantile: float = 0.5  # the quantile used when normaliser == "quantile"
    tau: float = 0.0  # truncation: |w| < tau contributes 0 to its cluster's sum (eq. 4)
    granularity: str = "kernel"  # what a synaptic cluster is
    fp16: bool = False  # paper 2: restrict weights to fp16 after each generation's training
    inherit: bool = True  # offspring keeps its parent's surviving weights (False: re-initialise them)
    data_dir: str | None = None
    train_subset: int | None = None  # declared reduced budget: first N training examples
    test_subset: int | None = None
    num_workers: int = 0
    device: str = "auto"
    extra: dict[str, Any] = field(default_factory=dict)  # task-specific knobs

    # ------------------------------------------------------------------ validation
    def validate(self) -> "EvolutionConfig":
        """Raise ``ValueError`` naming the offending parameter; called before any training."""

        def bad(name: str, why: str) -> None:
            raise ValueError(f"invalid {name}={getattr(self, name)!r}: {why}")

        if self.dataset not in DATASETS:
            bad("dataset", f"unknown dataset; choose one of {', '.join(DATASETS)}")
        if self.model not in MODELS:
            bad("model", f"unknown model; choose one of {', '.join(MODELS)}")
        if (self.dataset in DETECTION_DATASETS) != (self.model == "detectnet"):
            bad("model", "detection datasets need model='detectnet' and classification datasets a classifier")
        if isinstance(self.generations, bool) or not isinstance(self.generations, int) or self.generations < 1:
            bad("generations", "must be an integer >= 1")
        for name in ("epochs", "first_epochs"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or v < 0):
                bad(name, "must be a number >= 0")
        if not isinstance(self.cap, (int, float)) or not (0 < self.cap <= 1):
            bad("cap", "must lie in (0, 1]")
        if not isinstance(self.tau, (int, float)) or self.tau < 0:
            bad("tau", "must be >= 0")
        if self.lr <= 0:
            bad("lr", "must be > 0")
        if not (0 <= self.momentum < 1):
            bad("momentum", "must lie in [0, 1)")
        if self.weight_decay < 0:
            bad("weight_decay", "must be >= 0")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            bad("batch_size", "must be an integer >= 1")
        if self.normaliser not in NORMALISERS:
            bad("normaliser", f"choose one of {', '.join(NORMALISERS)}")
        if not (0 < self.quantile <= 1):
            bad("quantile", "must lie in (0, 1]")
        if self.schedule not in SCHEDULES:
            bad("schedule", f"choose one of {', '.join(SCHEDULES)}")
        if self.granularity not in GRANULARITIES:
            bad("granularity", f"choose one of {', '.join(GRANULARITIES)}")
        if self.factor_level not in FACTOR_LEVELS:
            bad("factor_level", f"choose one of {', '.join(FACTOR_LEVELS)}")
        for name in ("train_subset", "test_subset"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 1):
                bad(name, "must be None or an integer >= 1")
        return self

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EvolutionConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown configuration field(s): {', '.join(unknown)}")
        return cls(**d)

    def to_yaml(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def from_yaml(cls, path: str | Path) -> "EvolutionConfig":
        d = yaml.safe_load(Path(path).read_text()) or {}
        return cls.from_dict(d)

    def run_id(self) -> str:
        """Short hash of every field that can change the results."""
        d = {k: v for k, v in self.to_dict().items() if k not in _NOT_HASHED}
        for k in _FLOAT_FIELDS:  # 2 and 2.0 are the same setting
            if isinstance(d[k], int) and not isinstance(d[k], bool):
                d[k] = float(d[k])
        blob = json.dumps(d, sort_keys=True, default=str).encode()
        return f"{self.dataset}-{self.model}-{hashlib.sha256(blob).hexdigest()[:12]}"

    def replace(self, **changes: Any) -> "EvolutionConfig":
        return dataclasses.replace(self, **changes)
