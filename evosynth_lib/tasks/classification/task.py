"""Image classification (paper 1): MNIST / CIFAR-10 / STL-10 / synthetic images with LeNet-5 or AlexNet.

The metric is top-1 test accuracy. CIFAR-10 and STL-10 training batches are augmented (random crop with
padding 4, horizontal flip) with the global torch RNG, which the evolution seeds per generation.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from ...config import EvolutionConfig
from ...core.masks import Masks
from ...core.seeding import generator
from ..training import evaluate_accuracy, train_epochs
from .data import SHAPES, crop_flip, get_datasets
from .models import build_classifier


class ClassificationTask:
    """The :class:`~evosynth_lib.tasks.base.Task` for image classification."""

    def __init__(self, config: EvolutionConfig, device: torch.device):
        self.config, self.device = config, torch.device(device)
        self.train_set, self.test_set, self.spec = get_datasets(
            config.dataset, config.data_dir, config.train_subset, config.test_subset, download=config.download,
            synthetic_shape=config.synthetic_shape, synthetic_size=config.synthetic_size,
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

    def speed_settings(self) -> None:
        return None  # classification speed is re-measured from the checkpoints (run/measure.py)


def classifier_for(config: EvolutionConfig) -> tuple[nn.Module, tuple[int, int, int]]:
    """The ancestor classifier of ``config`` and its input shape, without loading any data."""
    shape = config.synthetic_shape if config.dataset == "synthetic" else SHAPES[config.dataset]
    return build_classifier(config.model, shape, 10), shape
