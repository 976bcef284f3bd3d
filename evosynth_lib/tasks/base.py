"""What an evolution trains and measures: the :class:`Task` protocol, and the registry of tasks by kind.

``config.TASK_OF_DATASET`` says which kind a dataset is (``classification`` or ``detection``); each kind's
package registers one :class:`TaskKind` here. ``tasks.make_task(config, device)`` and
``tasks.build_model_for(config)`` look the kind up; nothing else compares dataset names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, runtime_checkable

import torch
from torch import nn
from torch.utils.data import Dataset, Subset

from ..config import ConfigError, EvolutionConfig
from ..core.masks import Masks


@runtime_checkable
class Task(Protocol):
    """One task of the evolution loop (``run/evolve.py``): data, model, training, evaluation."""

    config: EvolutionConfig
    device: torch.device
    arithmetic: str  # what it trains in: fp32 | bf16 (``training.training_arithmetic``)

    def build_model(self) -> nn.Module:
        """The ancestor network (generation 1), on ``device``, freshly initialised from the global RNG."""

    def train(self, model: nn.Module, masks: Masks, epochs: float, generation: int) -> dict[str, Any]:
        """Train ``model`` in place, dead synapses kept at zero; returns at least ``train_loss``,
        ``optimizer_state``. Every random draw is seeded from ``(config.seed, generation)``."""

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """The task's metrics on the test set (``accuracy``; or ``precision``, ``recall``, ...)."""

    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        """A batch shaped like what the model reads, on ``device`` (for FLOPs, compaction checks, speed)."""

    def speed_settings(self) -> dict[str, int] | None:
        """Keyword arguments of ``speed.model.generation_speed`` to time every generation as it finishes
        (``threads``, ``repetitions``, ``half_repetitions``), or ``None`` to leave speed to a re-measurement."""


@dataclass(frozen=True)
class TaskKind:
    """How to make a task of one kind, and its ancestor network without loading any data."""

    make: Callable[[EvolutionConfig, torch.device, str | None], Task]  # (config, device, arithmetic)
    model_for: Callable[[EvolutionConfig], tuple[nn.Module, tuple[int, int, int]]]


REGISTRY: dict[str, TaskKind] = {}


def check_budget(config: EvolutionConfig, train_examples: int) -> None:
    """Refuse a training budget that cannot train: epochs too few for one step of the ancestor or of an
    offspring (a batch larger than the training set is the whole set)."""
    if train_examples < 1:
        raise ConfigError("the training set is empty")
    steps = -(-train_examples // config.batch_size)  # batches per epoch
    first = config.first_epochs if config.first_epochs is not None else config.epochs
    for name, epochs in (("first_epochs" if config.first_epochs is not None else "epochs", first),
                         ("epochs", config.epochs if config.generations > 1 else None)):
        if epochs is not None and round(epochs * steps) < 1:
            raise ConfigError(f"invalid {name}={epochs}: {steps} batches per epoch, so it trains 0 steps")


def register(kind: str, make, model_for) -> None:
    REGISTRY[kind] = TaskKind(make, model_for)


def subset(ds: Dataset, n: int | None, seed: int = 0, what: str = "train_subset") -> Dataset:
    """A declared reduced budget: the first ``n`` examples of a fixed seeded permutation (seed 0 whatever
    the run's seed, so every run of a study sees the same examples). ``None`` or ``n == len``: all of them; a
    larger ``n`` is an error (the budget it declares does not exist)."""
    if n is not None and n > len(ds):
        raise ConfigError(f"invalid {what}={n}: the data has only {len(ds)} examples")
    if n is None or n >= len(ds):
        return ds
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    return Subset(ds, idx.tolist())
