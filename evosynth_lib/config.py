"""The whole configuration of one evolution, as dataclasses (open_lth style), and the one list of choices.

A run folder is named by :meth:`EvolutionConfig.run_id`, a hash of every field that can change the results.
Where and on what it runs (``data_dir``, ``device``, ``num_workers``, ``download``, ``threads``) is apart, in its
``settings`` (:class:`~evosynth_lib.settings.RunSettings`), left out of the hash, so moving the data or the
machine reuses a run; so is ``generations``, so asking for more generations extends a finished run.

Every field is checked by :meth:`EvolutionConfig.validate` before any data is read: a bad value raises
:class:`ConfigError` with a one-line message such as ``invalid seed=-1: must be an integer >= 0``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .checks import ConfigError, _check, _is_int, _is_number  # noqa: F401  (ConfigError: imported from here too)
from .settings import SETTINGS, RunSettings

# ------------------------------------------------------------------------------- the one list of choices
TASK_OF_DATASET = {  # dataset -> task kind (tasks/ registers one Task per kind)
    "mnist": "classification", "cifar10": "classification", "stl10": "classification",
    "synthetic": "classification",
    "pennfudan": "detection", "parse27k": "detection", "synthetic_scenes": "detection",
}
MODELS_OF_TASK = {"classification": ("lenet5", "alexnet"), "detection": ("detectnet",)}
DATASETS = tuple(TASK_OF_DATASET)
MODELS = tuple(m for ms in MODELS_OF_TASK.values() for m in ms)
NORMALISERS = ("max", "quantile", "mean")
SCHEDULES = ("constant", "step", "cosine")
GRANULARITIES = ("kernel", "filter", "synapse")
FACTOR_LEVELS = ("synapse", "cluster", "both")
ENVIRONMENTS = ("synapses", "flops")  # what the cap limits: synapses (the papers) or the compacted network's FLOPs
OPTIMIZERS = ("sgd", "adam")
PRECISIONS = ("fp32", "bf16")  # training arithmetic: fp32, or bf16 autocast + channels-last (fp32 master weights)
# how an offspring is made: the papers' evolutionary synthesis, or a baseline at given synapses or FLOPs
PRUNINGS = ("evolutionary", "synapse_only", "magnitude", "random", "structured")


def _from_dict(cls, d: Any, owner: str = "", known: tuple[str, ...] | None = None):
    if not isinstance(d, dict):
        raise ConfigError(f"invalid {owner.rstrip('.') or 'configuration'}: expected a mapping of fields, got {d!r}")
    known = known or [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(d) - set(known))
    if unknown:
        raise ConfigError(f"unknown {owner}field(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return cls(**d)


def _non_default(obj) -> dict[str, Any]:
    """The fields of a dataclass that differ from their defaults (tuples as lists, as YAML and JSON write them)."""
    out = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if v != default:
            out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


# ------------------------------------------------------------------------------------------- detection
@dataclass(frozen=True)
class DetectionConfig:
    """The detector's knobs (paper 2's task, ``tasks/detection``); defaults are DetectNet's."""

    image_size: int | tuple[int, int] | None = None  # None -> 160 (pennfudan), (240, 320) (parse27k), 96 (scenes)
    width: int = 16  # DetectNet width w
    stride: int = 16  # 8 or 16: output grid spacing in pixels
    score_threshold: float = 0.5  # coverage threshold for a detection
    box_scale: float = 32.0
    cover_scale: float = 0.4
    box_weight: float = 1.0
    pos_weight: float = 2.0  # weight of covered cells in the coverage BCE (positives are ~3% of cells)
    augment: bool = True  # flip + brightness/contrast jitter on the training batches
    optimizer: str = "adam"  # adam (DetectNet in DIGITS; lr ~1e-3) | sgd (+ momentum)
    eval_batch_size: int = 16
    synthetic_train: int = 256  # synthetic_scenes sizes
    synthetic_test: int = 64
    fps_threads: int = 1  # CPU threads for the per-generation speed measurement
    fps_repetitions: int = 30  # timed passes (fp32) after 5 warm-up passes; medians are reported
    fps_half_repetitions: int = 5  # timed passes in float16 / bfloat16 after 1 warm-up

    def __post_init__(self):
        if isinstance(self.image_size, list):
            object.__setattr__(self, "image_size", tuple(self.image_size))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DetectionConfig":
        return _from_dict(cls, d, "detection.")

    def image_hw(self, dataset: str) -> tuple[int, int]:
        size = self.image_size if self.image_size is not None else DEFAULT_IMAGE_SIZE[dataset]
        return (size, size) if _is_int(size) else tuple(size)

    def validate(self) -> "DetectionConfig":
        c = lambda name, ok, why: _check("detection.", name, getattr(self, name), ok, why)  # noqa: E731
        s = self.image_size
        c("image_size", s is None or (_is_int(s) and s >= 8) or (
            isinstance(s, tuple) and len(s) == 2 and all(_is_int(v) and v >= 8 for v in s)),
          "must be None, an integer >= 8 or an [H, W] pair of them")
        c("stride", self.stride in (8, 16) and _is_int(self.stride), "must be 8 or 16")
        if s is not None:
            hw = (s, s) if _is_int(s) else s
            c("image_size", all(v % self.stride == 0 for v in hw), f"must be a multiple of stride {self.stride}")
        for name in ("width", "eval_batch_size", "synthetic_train", "synthetic_test", "fps_threads",
                     "fps_repetitions", "fps_half_repetitions"):
            c(name, _is_int(getattr(self, name)) and getattr(self, name) >= 1, "must be an integer >= 1")
        for name in ("box_scale", "pos_weight"):
            c(name, _is_number(getattr(self, name)) and getattr(self, name) > 0, "must be a number > 0")
        c("box_weight", _is_number(self.box_weight) and self.box_weight >= 0, "must be a number >= 0")
        for name in ("score_threshold", "cover_scale"):
            c(name, _is_number(getattr(self, name)) and 0 < getattr(self, name) <= 1, "must lie in (0, 1]")
        c("augment", isinstance(self.augment, bool), "must be true or false")
        c("optimizer", self.optimizer in OPTIMIZERS, f"choose one of {', '.join(OPTIMIZERS)}")
        return self


DEFAULT_IMAGE_SIZE = {"pennfudan": 160, "parse27k": (240, 320), "synthetic_scenes": 96}

# ------------------------------------------------------------------------------------------- evolution
# Hashed into the run id exactly as the first published runs hashed them (the run ids of committed results
# must not change). Task options that used to live in a free-form ``extra`` dict are hashed under that key,
# with only their non-default values (see ``EvolutionConfig.run_id``).
_HASHED = ("dataset", "model", "epochs", "first_epochs", "lr", "momentum", "weight_decay", "schedule",
           "batch_size", "seed", "cap", "factor_level", "normaliser", "quantile", "tau", "granularity", "fp16",
           "inherit", "train_subset", "test_subset")
_FLOAT_FIELDS = ("epochs", "first_epochs", "lr", "momentum", "weight_decay", "cap", "quantile", "tau")
_NOT_HASHED = ("generations", "settings")
_HASHED_WHEN_SET = ("precision", "pruning", "targets", "validation", "environment")
# fields that act only from generation 2 on, not on the ancestor (``run/ancestor.py``: ``ancestor_id``)
OFFSPRING_ONLY = ("generations", "cap", "factor_level", "normaliser", "quantile", "tau", "inherit", "pruning", "targets",
                  "environment")


@dataclass
class EvolutionConfig:
    """Every knob of an evolution. The book's method page says what each one means."""

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
    # layer-wise Z and z: max | quantile | mean. The default is the reading the normalisation page recommends
    # (the upper quartile keeps Table 1's rate); the literal "max" collapses the networks (book/method.md).
    normaliser: str = "quantile"
    quantile: float = 0.75  # the quantile used when normaliser == "quantile"
    tau: float = 0.0  # truncation: |w| < tau contributes 0 to its cluster's sum (eq. 4)
    granularity: str = "kernel"  # what a synaptic cluster is
    fp16: bool = False  # paper 2: restrict weights to fp16 after each generation's training
    inherit: bool = True  # offspring keeps its parent's surviving weights (False: re-initialise them)
    train_subset: int | None = None  # declared reduced budget: a fixed seeded sample of N training examples
    test_subset: int | None = None
    half_inference: bool = False  # also evaluate each generation in float16 where the device runs it
    synthetic_shape: tuple[int, int, int] = (1, 28, 28)  # dataset "synthetic": image shape
    synthetic_size: tuple[int, int] = (512, 256)  # dataset "synthetic": train and test sizes
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    precision: str = "fp32"  # training: fp32 | bf16 (autocast + channels-last; refused where the device is slow)
    pruning: str = "evolutionary"  # | synapse_only (2016: no cluster factor) | magnitude | random (baselines)
    targets: tuple[int, ...] | None = None  # per generation: synapses (magnitude, random) or FLOPs (structured)
    validation: int = 0  # hold out this many training examples (seeded) and report their accuracy
    environment: str = "synapses"  # offspring <= cap x parent's synapses, or x its compacted network's FLOPs
    settings: RunSettings = field(default_factory=RunSettings)  # where it runs: data_dir, device, threads, ...

    def __post_init__(self):
        if isinstance(self.detection, dict):
            self.detection = DetectionConfig.from_dict(self.detection)
        for name in ("synthetic_shape", "synthetic_size", "targets"):
            if isinstance(getattr(self, name), list):
                setattr(self, name, tuple(getattr(self, name)))

    @property
    def task(self) -> str:
        """``classification`` or ``detection`` (:data:`TASK_OF_DATASET`)."""
        return TASK_OF_DATASET[self.dataset]

    # ------------------------------------------------------------------ validation
    def validate(self) -> "EvolutionConfig":
        """Raise :class:`ConfigError` naming the first offending parameter; called before any data is read."""
        c = lambda name, ok, why: _check("", name, getattr(self, name), ok, why)  # noqa: E731
        c("dataset", self.dataset in DATASETS, f"unknown dataset; choose one of {', '.join(DATASETS)}")
        c("model", self.model in MODELS_OF_TASK[self.task],
          f"a {self.task} dataset needs model {' | '.join(MODELS_OF_TASK[self.task])}")
        for name, low in (("generations", 1), ("batch_size", 1), ("seed", 0)):
            c(name, _is_int(getattr(self, name)) and low <= getattr(self, name) < 2**31, f"must be an integer in [{low}, 2**31)")
        for name in ("train_subset", "test_subset"):
            c(name, getattr(self, name) is None or (_is_int(getattr(self, name)) and getattr(self, name) >= 1),
              "must be null or an integer >= 1")
        c("epochs", _is_number(self.epochs) and self.epochs >= 0, "must be a number >= 0")
        c("first_epochs", self.first_epochs is None or (_is_number(self.first_epochs) and self.first_epochs >= 0),
          "must be null or a number >= 0")
        first = self.epochs if self.first_epochs is None else self.first_epochs
        if first == 0:
            c("first_epochs" if self.first_epochs is not None else "epochs", False,
              "the ancestor (generation 1) must train: must be > 0")
        c("epochs", self.generations == 1 or self.epochs > 0, "every offspring must train: must be > 0")
        c("lr", _is_number(self.lr) and self.lr > 0, "must be a number > 0")
        c("momentum", _is_number(self.momentum) and 0 <= self.momentum < 1, "must be a number in [0, 1)")
        c("weight_decay", _is_number(self.weight_decay) and self.weight_decay >= 0, "must be a number >= 0")
        c("cap", _is_number(self.cap) and 0 < self.cap <= 1, "must be a number in (0, 1]")
        c("quantile", _is_number(self.quantile) and 0 < self.quantile <= 1, "must be a number in (0, 1]")
        c("tau", _is_number(self.tau) and self.tau >= 0, "must be a number >= 0")
        for name, choices in (("schedule", SCHEDULES), ("normaliser", NORMALISERS),
                              ("granularity", GRANULARITIES), ("factor_level", FACTOR_LEVELS),
                              ("environment", ENVIRONMENTS)):
            c(name, getattr(self, name) in choices, f"choose one of {', '.join(choices)}")
        for name in ("fp16", "inherit", "half_inference"):
            c(name, isinstance(getattr(self, name), bool), "must be true or false")
        c("settings", isinstance(self.settings, RunSettings), "must be RunSettings")
        self.settings.validate()
        c("synthetic_shape", isinstance(self.synthetic_shape, tuple) and len(self.synthetic_shape) == 3
          and all(_is_int(v) and v >= 1 for v in self.synthetic_shape), "must be [C, H, W], positive integers")
        c("synthetic_size", isinstance(self.synthetic_size, tuple) and len(self.synthetic_size) == 2
          and all(_is_int(v) and v >= 1 for v in self.synthetic_size), "must be [train, test], positive integers")
        c("precision", self.precision in PRECISIONS, f"choose one of {', '.join(PRECISIONS)}")
        c("pruning", self.pruning in PRUNINGS, f"choose one of {', '.join(PRUNINGS)}")
        c("validation", _is_int(self.validation) and self.validation >= 0, "must be an integer >= 0")
        t = self.targets
        c("targets", t is None or (isinstance(t, tuple) and all(_is_int(v) and v >= 1 for v in t) and all(
            a >= b for a, b in zip(t, t[1:]))), "must be null or a non-increasing list of counts >= 1")
        needs = self.pruning in ("magnitude", "random", "structured")
        c("targets", (t is None) != needs and (not needs or len(t) >= self.generations),
          f"magnitude, random, structured pruning (only) need one target per generation ({self.generations})")
        c("detection", isinstance(self.detection, DetectionConfig), "must be a mapping of detection fields")
        if self.task != "detection" and _non_default(self.detection):
            c("detection", False, f"detection options apply only to detection datasets, not {self.dataset}")
        self.detection.validate()
        return self

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """Every field and setting, flat, as YAML files write them."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "settings"}
        d.update(dataclasses.asdict(self.settings), detection=_non_default(self.detection))
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EvolutionConfig":
        return _from_dict(cls, d, known=FIELD_NAMES)

    def to_yaml_text(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)

    def to_yaml(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml_text())

    @classmethod
    def from_yaml(cls, path: str | Path) -> "EvolutionConfig":
        return cls.from_dict(yaml.safe_load(Path(path).read_text()) or {})

    def run_id(self) -> str:
        """``<dataset>-<model>-<12 hex digits>``: a hash of every field that can change the results."""
        d = {k: getattr(self, k) for k in _HASHED}
        for k in _FLOAT_FIELDS:  # 2 and 2.0 are the same setting
            if _is_int(d[k]):
                d[k] = float(d[k])
        extra = _non_default(self.detection)  # the task options, under the keys the first runs hashed them
        if self.half_inference:
            extra["half_inference"] = True
        if self.synthetic_shape != (1, 28, 28):
            extra["shape"] = list(self.synthetic_shape)
        if self.synthetic_size != (512, 256):
            extra["synthetic_size"] = list(self.synthetic_size)
        for name in _HASHED_WHEN_SET:  # hashed only when not at their default: adding one keeps every run id
            value = getattr(self, name)
            if value != EvolutionConfig.__dataclass_fields__[name].default:
                extra[name] = list(value) if isinstance(value, tuple) else value
        d["extra"] = extra
        blob = json.dumps(d, sort_keys=True, default=str).encode()
        return f"{self.dataset}-{self.model}-{hashlib.sha256(blob).hexdigest()[:12]}"

    def replace(self, **changes: Any) -> "EvolutionConfig":
        return dataclasses.replace(self, **changes)


FIELD_NAMES = tuple(f.name for f in dataclasses.fields(EvolutionConfig) if f.name != "settings") + SETTINGS
_init = EvolutionConfig.__init__


def _init_with_settings(self, *args, settings: RunSettings | dict | None = None, **fields: Any) -> None:
    """``EvolutionConfig(threads=2, ...)``: the settings given as fields go to ``settings``."""
    given = {k: fields.pop(k) for k in SETTINGS if k in fields}
    settings = RunSettings(**settings) if isinstance(settings, dict) else settings or RunSettings()
    _init(self, *args, settings=settings.replace(**given) if given else settings, **fields)


EvolutionConfig.__init__ = _init_with_settings
