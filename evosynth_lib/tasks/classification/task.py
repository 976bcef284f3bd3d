"""Image classification (paper 1): MNIST / CIFAR-10 / STL-10 / synthetic images with LeNet-5 or AlexNet.

The metric is top-1 test accuracy (and, with ``validation: N``, the accuracy on N training examples held out
from training: ``val_accuracy``, what schedules are chosen on). Training batches are sliced from in-memory
tensors (``TensorBatches``); CIFAR-10 and STL-10 batches are augmented on the whole batch (random crop with
padding 4, horizontal flip) from a generator seeded by (seed, generation), so every epoch's augmentation is
fixed by the seed. ``precision: bf16`` trains with bfloat16 autocast and channels-last (``training.py``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Subset

from ...config import ConfigError, EvolutionConfig
from ..base import check_budget
from ...core.masks import Masks
from ...core.seeding import generator
from ..training import training_arithmetic, evaluate_accuracy, train_epochs
from .data import SHAPES, TensorBatches, crop_flip, get_datasets
from .models import build_classifier


class ClassificationTask:
    """The :class:`~evosynth_lib.tasks.base.Task` for image classification."""

    def __init__(self, config: EvolutionConfig, device: torch.device, arithmetic: str | None = None):
        self.config, self.device = config, torch.device(device)
        # the arithmetic it trains in: the run's recorded one, else what config.precision gives on this device
        self.arithmetic = arithmetic or training_arithmetic(config.precision, self.device)[0]
        self.train_set, self.test_set, self.spec = get_datasets(
            config.dataset, config.settings.data_dir, config.train_subset, config.test_subset,
            download=config.settings.download,
            synthetic_shape=config.synthetic_shape, synthetic_size=config.synthetic_size,
        )
        self.val_set = None
        if config.validation:
            n = len(self.train_set)
            if config.validation >= n:
                raise ConfigError(f"invalid validation={config.validation}: the training set has only {n} examples, "
                                  f"and some must remain to train on")
            order = torch.randperm(n, generator=torch.Generator().manual_seed(2016)).tolist()
            self.val_set = Subset(self.train_set, order[:config.validation])
            self.train_set = Subset(self.train_set, sorted(order[config.validation:]))
        check_budget(config, len(self.train_set))

    def build_model(self) -> nn.Module:
        return build_classifier(self.config.model, self.spec.in_shape, self.spec.num_classes).to(self.device)

    def train(self, model: nn.Module, masks: Masks, epochs: float, generation: int) -> dict:
        c = self.config
        loader = TensorBatches(self.train_set, c.batch_size, generator(c.seed, generation, "shuffle"))
        augment = generator(c.seed, generation, "augment")

        def batch(b):
            x, y = b
            if self.spec.augment == "crop_flip":
                x = crop_flip(x, augment)
            return x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

        return train_epochs(
            model, masks, loader, lambda m, b: F.cross_entropy(m(b[0]), b[1]), epochs, c.lr, c.momentum,
            c.weight_decay, c.schedule, desc=f"gen {generation} train", batch_transform=batch,
            precision=self.arithmetic,
        )

    def evaluate(self, model: nn.Module) -> dict:
        out = {"accuracy": evaluate_accuracy(model, DataLoader(self.test_set, batch_size=500), self.device)}
        if self.val_set is not None:
            out["val_accuracy"] = evaluate_accuracy(model, DataLoader(self.val_set, batch_size=500), self.device)
        return out

    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        return torch.randn(batch_size, *self.spec.in_shape, device=self.device)

    def speed_settings(self) -> None:
        return None  # classification speed is re-measured from the checkpoints (run/measure.py)


def classifier_for(config: EvolutionConfig) -> tuple[nn.Module, tuple[int, int, int]]:
    """The ancestor classifier of ``config`` and its input shape, without loading any data."""
    shape = config.synthetic_shape if config.dataset == "synthetic" else SHAPES[config.dataset]
    return build_classifier(config.model, shape, 10), shape
