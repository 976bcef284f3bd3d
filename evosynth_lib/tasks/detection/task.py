"""Pedestrian detection (paper 2): the :class:`DetectionTask` that plugs DetectNet into the evolution.

``config.dataset``: ``pennfudan`` (``<data>/PennFudanPed``, 120 train / 50 test images), ``parse27k``
(``<data>/parse27k``; train = sequences 1, 4, 5, test = 3, 6) or ``synthetic_scenes``. The detector's knobs
are ``config.detection`` (:class:`~evosynth_lib.config.DetectionConfig`).

Training: Adam (default; ``detection.optimizer = "sgd"`` for SGD with ``config.momentum``) on ``config.lr``
(Adam wants ~1e-3, not the classification default 0.01: a warning is given above 5e-3), ``weight_decay``,
``schedule`` (per generation; a fresh optimizer each call), batch ``batch_size``, loss
:func:`~.boxes.detection_loss`; images are standardised before the model; dead synapses keep zero gradient and
are re-zeroed after every step. Shuffling and augmentation draw from generators seeded by
``(config.seed, generation)``. Evaluation on the test set: :func:`~.boxes.decode` at ``score_threshold``, then
:func:`~.metrics.precision_recall` at IoU 0.5 (with binomial standard errors); and AP@0.5
(:func:`~.metrics.average_precision`, bootstrap standard error :func:`~.metrics.average_precision_se`) of every
detection the decoder gives at score threshold 0 (after NMS, at most 100 per image), ranked by score.
"""
from __future__ import annotations

import warnings

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ...config import EvolutionConfig
from ...core.seeding import generator
from ..base import check_budget, subset
from ..data_dir import data_root
from ..training import training_arithmetic, train_epochs
from .boxes import decode, detection_loss, standardise
from .data import Parse27k, PennFudan, augment_batch, collate_detection
from .metrics import average_precision, average_precision_se, precision_recall
from .model import DetectNet
from .scenes import SyntheticScenes


def detector_for(config: EvolutionConfig) -> tuple[nn.Module, tuple[int, int, int]]:
    """The ancestor detector of ``config`` and its input shape ``(3, H, W)``, without loading data."""
    d = config.detection
    return DetectNet(width=d.width, stride=d.stride), (3, *d.image_hw(config.dataset))


class DetectionTask:
    """The :class:`~evosynth_lib.tasks.base.Task` for pedestrian detection."""

    def __init__(self, config: EvolutionConfig, device: torch.device | str = "cpu", arithmetic: str | None = None):
        config.validate()
        self.config, self.knobs, self.device = config, config.detection, torch.device(device)
        # the arithmetic it trains in: the run's recorded one, else what config.precision gives on this device
        self.arithmetic = arithmetic or training_arithmetic(config.precision, self.device)[0]
        self.image_hw = self.knobs.image_hw(config.dataset)
        self.stride = self.knobs.stride
        if self.knobs.optimizer == "adam" and config.lr > 5e-3:
            warnings.warn(f"lr={config.lr} is high for Adam (DetectNet recipe: ~1e-3)", stacklevel=2)
        self.train_set, self.test_set = self._datasets()
        check_budget(config, len(self.train_set))

    # ---------------------------------------------------------------- data
    def _datasets(self):
        c, k = self.config, self.knobs
        if c.dataset == "synthetic_scenes":
            train = SyntheticScenes(k.synthetic_train, self.image_hw, seed=c.seed)
            test = SyntheticScenes(k.synthetic_test, self.image_hw, seed=c.seed + 1_000_000)
        elif c.dataset == "pennfudan":
            root = data_root(c.settings.data_dir) / "PennFudanPed"
            train, test = PennFudan(root, "train", self.image_hw), PennFudan(root, "test", self.image_hw)
        else:
            root = data_root(c.settings.data_dir) / "parse27k"
            train, test = Parse27k(root, "train", self.image_hw), Parse27k(root, "test", self.image_hw)
        train, test = subset(train, c.train_subset), subset(test, c.test_subset, what="test_subset")
        if len(train) == 0 or len(test) == 0:
            raise ValueError(f"{c.dataset}: empty split (train {len(train)}, test {len(test)} images)")
        return train, test

    def _loader(self, dataset, shuffle: bool, generation: int = 0, batch_size: int | None = None):
        g = generator(self.config.seed, "detection-shuffle", generation)
        return DataLoader(dataset, batch_size=batch_size or self.config.batch_size, shuffle=shuffle,
                          generator=g if shuffle else None, collate_fn=collate_detection,
                          num_workers=self.config.settings.num_workers)

    # ---------------------------------------------------------------- Task protocol
    def build_model(self) -> nn.Module:
        return DetectNet(width=self.knobs.width, stride=self.stride).to(self.device)

    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        """A standardised random batch ``[batch_size, 3, H, W]`` (what the model reads), on the device."""
        x = torch.rand(batch_size, 3, *self.image_hw, generator=torch.Generator().manual_seed(0))
        return standardise(x).to(self.device)

    def loss(self, model: nn.Module, images: torch.Tensor, boxes) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        k = self.knobs
        out = model(standardise(images.to(self.device)))
        return detection_loss(out, [b.to(self.device) for b in boxes], self.stride, k.box_scale, k.cover_scale,
                              k.box_weight, k.pos_weight)

    def train(self, model: nn.Module, masks, epochs: float, generation: int) -> dict:
        """Train in place for ``epochs`` (fractions allowed: ``round(epochs * batches_per_epoch)`` steps)."""
        c = self.config
        model.to(self.device)
        loader = self._loader(self.train_set, shuffle=True, generation=generation)
        aug_g = generator(c.seed, "detection-augment", generation)

        def augment(batch):
            return augment_batch(*batch, aug_g) if self.knobs.augment else batch

        if masks is not None:
            masks = {n: m.to(self.device) for n, m in masks.items()}
        return train_epochs(model, masks, loader, lambda m, batch: self.loss(m, *batch)[0], epochs, c.lr,
                            c.momentum, c.weight_decay, c.schedule, desc=f"gen {generation} train",
                            batch_transform=augment, optimizer=self.knobs.optimizer, precision=self.arithmetic)

    def speed_settings(self) -> dict[str, int]:
        k = self.knobs
        return {"threads": k.fps_threads, "repetitions": k.fps_repetitions, "half_repetitions": k.fps_half_repetitions}

    @torch.no_grad()
    def predict(self, model: nn.Module, images: torch.Tensor, score_threshold: float | None = None):
        """Detections ``[(boxes, scores), ...]`` for a batch of images (model put in eval mode)."""
        model.to(self.device).eval()
        thr = self.knobs.score_threshold if score_threshold is None else score_threshold
        return decode(model(standardise(images.to(self.device))), thr, self.stride, self.knobs.box_scale)

    @torch.no_grad()
    def evaluate(self, model: nn.Module, score_threshold: float | None = None) -> dict:
        """Test-set metrics: :func:`~.metrics.precision_recall` of the detections at ``score_threshold``
        (default ``detection.score_threshold``), plus ``ap50`` and ``ap50_se``: AP at IoU 0.5 and its bootstrap
        standard error (200 resamples of the test images, seed 0) over all detections at score >= 0, ranked."""
        model.to(self.device).eval()
        k = self.knobs
        thr = k.score_threshold if score_threshold is None else score_threshold
        kept, ranked, gts = ([], []), ([], []), []
        loader = self._loader(self.test_set, shuffle=False, batch_size=k.eval_batch_size)
        for images, boxes in tqdm(loader, desc="evaluate", leave=False, mininterval=1.0):
            out = model(standardise(images.to(self.device)))
            for dets, into in ((decode(out, thr, self.stride, k.box_scale), kept),
                               (decode(out, 0.0, self.stride, k.box_scale), ranked)):
                for b, s in dets:
                    into[0].append(b.cpu()), into[1].append(s.cpu())
            gts.extend(boxes)
        return {**precision_recall(*kept, gts, iou_threshold=0.5),
                "ap50": average_precision(*ranked, gts, iou_threshold=0.5),
                "ap50_se": average_precision_se(*ranked, gts, iou_threshold=0.5, resamples=200, seed=0)}
