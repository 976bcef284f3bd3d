"""What an evolution trains and measures: image classification here, pedestrian detection in ``detection.py``.

A task implements ``build_model()``, ``train(model, masks, epochs, generation)``, ``evaluate(model)`` and
``example_input(batch_size)`` (see docs/API.md). :func:`make_task` picks one from ``config.dataset``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from .config import DETECTION_DATASETS, EvolutionConfig
from .data import SHAPES, crop_flip, get_datasets
from .masking import Masks
from .models import build_classifier
from .seeding import generator
from .training import evaluate_accuracy, train_epochs


class ClassificationTask:
    """MNIST / CIFAR-10 / STL-10 / synthetic images with LeNet-5 or AlexNet; metric: test accuracy."""

    def __init__(self, config: EvolutionConfig, device: torch.device):
        self.config, self.device = config, device
        extra = config.extra
        self.train_set, self.test_set, self.spec = get_datasets(
            config.dataset, config.data_dir, config.train_subset, config.test_subset,
            download=extra.get("download"),
            synthetic_shape=tuple(extra.get("shape", (1, 28, 28))),
            synthetic_size=tuple(extra.get("synthetic_size", (512, 256))),
        )

    def build_model(self) -> nn.Module:
        return build_classifier(self.config.model, self.spec.in_shape, self.spec.num_classes).to(self.device)

    def _batch(self, batch):
        x, y = batch
        if self.spec.augment == "crop_flip":
            x = crop_flip(x)
        return x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

    def train(self, model: nn.Module, masks: Masks, epochs: float, generation: int) -> dict:
        c = self.config
        loader = DataLoader(self.train_set, batch_size=c.batch_size, shuffle=True, drop_last=False,
                            generator=generator(c.seed, generation, "shuffle"), num_workers=c.num_workers)
        return train_epochs(
            model, masks, loader, lambda m, b: F.cross_entropy(m(b[0]), b[1]), epochs, c.lr, c.momentum,
            c.weight_decay, c.schedule, desc=f"gen {generation} train", batch_transform=self._batch,
        )

    def evaluate(self, model: nn.Module) -> dict:
        loader = DataLoader(self.test_set, batch_size=500, shuffle=False)
        return {"accuracy": evaluate_accuracy(model, loader, self.device)}

    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        return torch.randn(batch_size, *self.spec.in_shape, device=self.device)


def build_model_for(config: EvolutionConfig) -> tuple[nn.Module, tuple[int, int, int]]:
    """The ancestor architecture of ``config`` and its input shape, without loading any data."""
    if config.dataset in DETECTION_DATASETS:
        from .detection import detector_for

        return detector_for(config)
    shape = tuple(config.extra.get("shape", (1, 28, 28))) if config.dataset == "synthetic" else SHAPES[config.dataset]
    return build_classifier(config.model, shape, 10), shape


def make_task(config: EvolutionConfig, device: torch.device):
    if config.dataset in DETECTION_DATASETS:
        from .detection import DetectionTask

        return DetectionTask(config, device)
    return ClassificationTask(config, device)
