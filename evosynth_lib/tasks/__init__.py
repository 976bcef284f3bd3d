"""The tasks an evolution trains: image classification (paper 1) and pedestrian detection (paper 2).

``make_task(config, device)`` builds the :class:`~evosynth_lib.tasks.base.Task` for ``config.dataset``;
``build_model_for(config)`` gives its ancestor network and input shape without reading any data.
"""
from __future__ import annotations

import torch
from torch import nn

from ..config import EvolutionConfig
from . import classification, detection  # noqa: F401  (each registers its kind)
from .base import REGISTRY, Task
from .training import resolve_device


def make_task(config: EvolutionConfig, device: torch.device | str | None = None, arithmetic: str | None = None) -> Task:
    """``arithmetic``: ``fp32`` or ``bf16`` to train in (a run's recorded one); ``None``: what ``config.precision``
    gives on ``device`` (``training.training_arithmetic``)."""
    device = resolve_device(config.settings.device) if device is None else torch.device(device)
    return REGISTRY[config.task].make(config, device, arithmetic)


def build_model_for(config: EvolutionConfig) -> tuple[nn.Module, tuple[int, int, int]]:
    """The ancestor architecture of ``config`` (on the CPU) and its input shape, without loading any data."""
    return REGISTRY[config.task].model_for(config)
