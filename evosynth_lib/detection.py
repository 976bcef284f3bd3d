"""Pedestrian detection (paper 2): a small DetectNet-style detector, its targets, loss, decoding,
precision / recall, and the :class:`DetectionTask` that plugs it into the evolution (Task protocol).

DetectNet (NVIDIA DIGITS) predicts, on a grid of cells ``stride`` pixels apart, a *coverage* map (is this
cell on an object?) and per-cell *box regression* (where are the object's corners?). Detections are the
cells whose coverage passes a threshold, merged by non-maximum suppression.

Conventions (all boxes are ``xyxy`` in input-image pixels, continuous: pixel ``i`` spans ``[i, i + 1)``):

* cell ``(r, c)`` has centre ``((c + 0.5) * stride, (r + 0.5) * stride)``;
* a cell is *covered* by a box when its centre lies inside the box shrunk about its centre by
  ``cover_scale`` (DetectNet's ``scale_cvg``, default 0.4) in both directions; the cell that contains a box's
  centre is always covered, so no box goes without a positive cell. A cell covered by several boxes is
  assigned the box whose centre is nearest to the cell centre;
* a covered cell's regression target is ``(x_min - cx, y_min - cy, x_max - cx, y_max - cy) / box_scale``;
* the model's output is one tensor ``[B, 5, H / stride, W / stride]``: channel 0 the coverage *logit*,
  channels 1-4 the regression;
* decoding keeps cells with ``sigmoid(logit) >= score_threshold`` (score = coverage probability), clips the
  boxes to the image, drops empty ones and applies ``torchvision.ops.nms`` (IoU 0.5).
"""
from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision.ops import box_iou, nms
from tqdm.auto import tqdm

from .data import resolve_data_dir
from .pedestrians import Parse27k, PennFudan, SyntheticScenes, augment_batch, collate_detection
from .seeding import generator
from .speed import generation_speed
from .training import train_epochs

PIXEL_MEAN = (0.485, 0.456, 0.406)  # inputs are standardised with the usual ImageNet statistics
PIXEL_STD = (0.229, 0.224, 0.225)
DEFAULT_BOX_SCALE = 32.0
DEFAULT_COVER_SCALE = 0.4
NMS_IOU = 0.5

# ------------------------------------------------------------------------------------------ the model


class DetectNet(nn.Module):
    """A small fully convolutional DetectNet: 3x3 conv + ReLU layers with 2x2 max-pooling, then a 1x1
    conv to 5 output channels (coverage logit + 4 box offsets). No BatchNorm, no Linear layer: every
    weight is a conv kernel, i.e. a synaptic cluster. Biases everywhere.

    Layers for ``width = w`` (``stride=8``; ``stride=16``, the default as in DetectNet, adds a 2x2
    max-pool after conv5; the receptive field of an output cell is then 118 pixels, 78 with stride 8)::

        conv1  w  @3x3x3    pool   conv2 2w @3x3xw   pool
        conv3 4w  @3x3x2w          conv4 4w @3x3x4w  pool        (stride 8 here)
        conv5 8w  @3x3x4w          conv6 8w @3x3x8w  conv7 8w @3x3x8w
        cvg_bbox 5 @1x1x8w

    ``w = 16`` has 429,616 weights (biases excluded). The input height and width must be multiples of
    ``stride``; inputs are RGB in ``[0, 1]``. As in the lead's models, the weighted layers are in one
    ``nn.Sequential`` called ``layers`` and ``forward`` is ``self.layers(x)``.
    """

    def __init__(self, width: int = 16, stride: int = 16, in_channels: int = 3, cover_prior: float = 0.02):
        super().__init__()
        if stride not in (8, 16):
            raise ValueError(f"stride must be 8 or 16, got {stride!r}")
        if width < 1:
            raise ValueError(f"width must be >= 1, got {width!r}")
        self.stride, self.width = stride, width
        w = width

        def conv(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]

        pool = [nn.MaxPool2d(2, 2)]
        layers = (
            conv(in_channels, w) + pool + conv(w, 2 * w) + pool
            + conv(2 * w, 4 * w) + conv(4 * w, 4 * w) + pool
            + conv(4 * w, 8 * w) + (pool if stride == 16 else [])
            + conv(8 * w, 8 * w) + conv(8 * w, 8 * w)
            + [nn.Conv2d(8 * w, 5, 1)]
        )
        self.layers = nn.Sequential(*layers)
        self.layer_names = ["conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "conv7", "cvg_bbox"]
        for m in self.layers:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        head = self.layers[-1]
        nn.init.normal_(head.weight, std=0.01)
        with torch.no_grad():  # start with coverage ~ cover_prior everywhere (stable early training)
            head.bias[0] = math.log(cover_prior / (1 - cover_prior))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


# ------------------------------------------------------------------------------- targets and loss


def cell_centres(grid_hw: tuple[int, int], stride: int, device=None) -> torch.Tensor:
    """``[gh * gw, 2]`` cell centres ``(cx, cy)`` in pixels, row-major."""
    gh, gw = grid_hw
    ys = (torch.arange(gh, device=device, dtype=torch.float32) + 0.5) * stride
    xs = (torch.arange(gw, device=device, dtype=torch.float32) + 0.5) * stride
    cy, cx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([cx.reshape(-1), cy.reshape(-1)], 1)


def encode_targets(boxes_list, grid_hw, stride: int, box_scale: float = DEFAULT_BOX_SCALE,
                   cover_scale: float = DEFAULT_COVER_SCALE):
    """Targets for a batch: ``(coverage [B, 1, gh, gw] in {0, 1}, box_targets [B, 4, gh, gw])``.

    Rules in the module docstring. Box targets are 0 where coverage is 0 (they are not used there).
    """
    gh, gw = int(grid_hw[0]), int(grid_hw[1])
    if not 0 < cover_scale <= 1:
        raise ValueError(f"cover_scale must lie in (0, 1], got {cover_scale}")
    B = len(boxes_list)
    device = boxes_list[0].device if B else None
    cov = torch.zeros(B, 1, gh * gw, device=device)
    reg = torch.zeros(B, 4, gh * gw, device=device)
    centres = cell_centres((gh, gw), stride, device)  # [G, 2]
    for i, boxes in enumerate(boxes_list):
        boxes = boxes.reshape(-1, 4).float()
        if boxes.numel() == 0:
            continue
        bc = (boxes[:, :2] + boxes[:, 2:]) / 2  # [N, 2]
        half = (boxes[:, 2:] - boxes[:, :2]) * cover_scale / 2  # [N, 2]
        d = centres[None] - bc[:, None]  # [N, G, 2]
        inside = (d.abs() <= half[:, None]).all(-1)  # [N, G]
        col = (bc[:, 0] / stride).floor().long().clamp(0, gw - 1)
        row = (bc[:, 1] / stride).floor().long().clamp(0, gh - 1)
        inside[torch.arange(len(boxes), device=device), row * gw + col] = True
        dist = (d**2).sum(-1).masked_fill(~inside, float("inf"))
        best = dist.argmin(0)  # [G]
        covered = inside.any(0)
        b = boxes[best]  # [G, 4]
        offsets = (b - centres.repeat(1, 2)) / box_scale
        cov[i, 0] = covered.float()
        reg[i] = (offsets * covered[:, None]).T
    return cov.view(B, 1, gh, gw), reg.view(B, 4, gh, gw)


def detection_loss(outputs: torch.Tensor, boxes_list, stride: int, box_scale: float = DEFAULT_BOX_SCALE,
                   cover_scale: float = DEFAULT_COVER_SCALE, box_weight: float = 1.0, pos_weight: float = 1.0):
    """``(total, coverage_loss, box_loss)``: BCE-with-logits on coverage averaged over all cells (covered
    cells weighted by ``pos_weight``, against the rarity of positives), plus ``box_weight`` x L1 on the 4
    regression channels averaged over covered cells (0 if none)."""
    cov_t, reg_t = encode_targets(boxes_list, outputs.shape[-2:], stride, box_scale, cover_scale)
    cov_t, reg_t = cov_t.to(outputs.device), reg_t.to(outputs.device)
    cov_loss = F.binary_cross_entropy_with_logits(outputs[:, :1], cov_t,
                                                  pos_weight=torch.tensor(float(pos_weight), device=outputs.device))
    pos = cov_t.expand_as(reg_t)
    n_pos = cov_t.sum()
    box_loss = (F.l1_loss(outputs[:, 1:], reg_t, reduction="none") * pos).sum() / (4 * n_pos).clamp(min=1)
    return cov_loss + box_weight * box_loss, cov_loss.detach(), box_loss.detach()


@torch.no_grad()
def decode(outputs: torch.Tensor, score_threshold: float = 0.5, stride: int = 16,
           box_scale: float = DEFAULT_BOX_SCALE, nms_iou: float = NMS_IOU, max_detections: int = 100):
    """Detections per image: a list of ``(boxes [K, 4], scores [K])``, scores descending.

    Cells with ``sigmoid(coverage logit) >= score_threshold`` give one box each; boxes are clipped to the
    ``grid * stride`` image, boxes of zero area dropped, ``torchvision.ops.nms`` at ``nms_iou`` applied and
    at most ``max_detections`` kept.
    """
    if outputs.dim() != 4 or outputs.shape[1] != 5:
        raise ValueError(f"expected outputs [B, 5, gh, gw], got {tuple(outputs.shape)}")
    B, _, gh, gw = outputs.shape
    H, W = gh * stride, gw * stride
    centres = cell_centres((gh, gw), stride, outputs.device).repeat(1, 2)
    scores_all = torch.sigmoid(outputs[:, 0].float()).reshape(B, -1)
    reg_all = outputs[:, 1:].float().reshape(B, 4, -1).transpose(1, 2)
    result = []
    for i in range(B):
        keep = scores_all[i] >= score_threshold
        boxes = reg_all[i][keep] * box_scale + centres[keep]
        scores = scores_all[i][keep]
        boxes[:, 0::2] = boxes[:, 0::2].clamp(0, W)
        boxes[:, 1::2] = boxes[:, 1::2].clamp(0, H)
        ok = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, scores = boxes[ok], scores[ok]
        k = nms(boxes, scores, nms_iou)[:max_detections]  # nms returns indices by descending score
        result.append((boxes[k], scores[k]))
    return result


# ---------------------------------------------------------------------------------------- metrics


def match_detections(pred_boxes: torch.Tensor, pred_scores: torch.Tensor, gt_boxes: torch.Tensor,
                     iou_threshold: float = 0.5) -> torch.Tensor:
    """Greedy matching for one image; returns a bool tensor, ``True`` for each prediction that is a TP.

    Predictions are visited in descending score (ties: original order). Each takes the *still unmatched*
    ground-truth box with the highest IoU; if that IoU is ``>= iou_threshold`` it is a true positive and the
    ground truth is used up, otherwise a false positive. Each ground truth is matched at most once.
    """
    pred_boxes, gt_boxes = pred_boxes.reshape(-1, 4).float(), gt_boxes.reshape(-1, 4).float()
    if pred_scores.numel() != len(pred_boxes):
        raise ValueError(f"{len(pred_boxes)} predicted boxes but {pred_scores.numel()} scores")
    tp = torch.zeros(len(pred_boxes), dtype=torch.bool)
    if len(pred_boxes) == 0 or len(gt_boxes) == 0:
        return tp
    iou = box_iou(pred_boxes, gt_boxes).cpu()
    used = torch.zeros(len(gt_boxes), dtype=torch.bool)
    for p in torch.argsort(pred_scores.reshape(-1).cpu(), descending=True, stable=True).tolist():
        cand = iou[p].masked_fill(used, -1.0)
        g = int(cand.argmax())
        if cand[g] >= iou_threshold:
            tp[p] = True
            used[g] = True
    return tp


def precision_recall(pred_boxes, pred_scores, gt_boxes, iou_threshold: float = 0.5,
                     score_threshold: float = 0.0) -> dict:
    """Precision and recall accumulated over a dataset (micro-averaged over boxes, not per image).

    ``pred_boxes``, ``pred_scores``, ``gt_boxes``: lists with one entry per image (``[K, 4]``, ``[K]``,
    ``[N, 4]``), or single tensors for one image. Predictions with score ``< score_threshold`` are dropped;
    the rest are matched by :func:`match_detections` at ``iou_threshold`` (IoU >= threshold is a TP).

    ``precision = TP / #predictions``, ``recall = TP / #ground truths``, ``f1 = 2 TP / (#pred + #gt)``
    (the harmonic mean of the two when both exist). Empty sets: with no predictions precision is
    ``nan`` (undefined, *not* 1.0); with no ground truth recall is ``nan``; f1 is ``nan`` only when both
    are empty (no predictions but some ground truth gives f1 = 0). Returns ``{"precision", "recall",
    "f1", "tp", "n_pred", "n_gt"}``.
    """
    if isinstance(pred_boxes, torch.Tensor):
        pred_boxes, pred_scores, gt_boxes = [pred_boxes], [pred_scores], [gt_boxes]
    if not (len(pred_boxes) == len(pred_scores) == len(gt_boxes)):
        raise ValueError(f"need one entry per image: got {len(pred_boxes)} box sets, {len(pred_scores)} "
                         f"score sets and {len(gt_boxes)} ground-truth sets")
    tp = n_pred = n_gt = 0
    for boxes, scores, gt in zip(pred_boxes, pred_scores, gt_boxes):
        scores = scores.reshape(-1)
        keep = scores >= score_threshold
        boxes, scores = boxes.reshape(-1, 4)[keep], scores[keep]
        tp += int(match_detections(boxes, scores, gt, iou_threshold).sum())
        n_pred += len(boxes)
        n_gt += len(gt.reshape(-1, 4))
    nan = float("nan")
    return {
        "precision": tp / n_pred if n_pred else nan,
        "recall": tp / n_gt if n_gt else nan,
        "f1": 2 * tp / (n_pred + n_gt) if n_pred + n_gt else nan,
        "tp": tp,
        "n_pred": n_pred,
        "n_gt": n_gt,
    }


# ------------------------------------------------------------------------------------------- the task

DETECTION_EXTRA_DEFAULTS = {
    "image_size": None,  # None -> 160 (pennfudan), (240, 320) (parse27k), 96 (synthetic_scenes)
    "width": 16,  # DetectNet width w
    "stride": 16,  # 8 or 16 (output grid spacing in pixels)
    "score_threshold": 0.5,  # coverage threshold for a detection (evaluate)
    "box_scale": DEFAULT_BOX_SCALE,
    "cover_scale": DEFAULT_COVER_SCALE,
    "box_weight": 1.0,
    "pos_weight": 2.0,  # weight of covered cells in the coverage BCE (positives are ~3% of cells)
    "augment": True,  # flip + brightness/contrast jitter on the training batches
    "optimizer": "adam",  # adam (as DetectNet in DIGITS; use config.lr ~ 1e-3) | sgd (+ config.momentum)
    "eval_batch_size": 16,
    "synthetic_train": 256,  # synthetic_scenes sizes
    "synthetic_test": 64,
    "half_inference": False,  # also evaluate in float16 where the device runs it (evolution.evolve)
    "fps_threads": 1,  # CPU threads for the per-generation speed measurement
    "fps_repetitions": 30,  # timed passes (fp32), after 5 warm-up passes; medians are reported
    "fps_half_repetitions": 5,  # timed passes in float16 / bfloat16 (slow on CPUs), after 1 warm-up
}
_DEFAULT_IMAGE_SIZE = {"pennfudan": 160, "parse27k": (240, 320), "synthetic_scenes": 96}


def detection_knobs(config) -> dict:
    """``DETECTION_EXTRA_DEFAULTS`` overridden by ``config.extra`` (unknown keys warn), image size resolved."""
    extra = dict(getattr(config, "extra", None) or {})
    unknown = sorted(set(extra) - set(DETECTION_EXTRA_DEFAULTS))
    if unknown:
        warnings.warn(f"config.extra keys not used by detection: {', '.join(unknown)}", stacklevel=3)
    knobs = {**DETECTION_EXTRA_DEFAULTS, **{k: v for k, v in extra.items() if k in DETECTION_EXTRA_DEFAULTS}}
    if knobs["image_size"] is None:
        knobs["image_size"] = _DEFAULT_IMAGE_SIZE[config.dataset]
    hw, stride = _image_hw(knobs), int(knobs["stride"])
    if stride not in (8, 16) or any(s % stride for s in hw):
        raise ValueError(f"invalid extra: image_size {hw} must be a multiple of stride {stride} (8 or 16)")
    return knobs


def _image_hw(knobs: dict) -> tuple[int, int]:
    size = knobs["image_size"]
    return (size, size) if isinstance(size, int) else tuple(size)


def detector_for(config) -> tuple[nn.Module, tuple[int, int, int]]:
    """The ancestor detector of ``config`` and its input shape ``(3, H, W)``, without loading data."""
    knobs = detection_knobs(config)
    return DetectNet(width=int(knobs["width"]), stride=int(knobs["stride"])), (3, *_image_hw(knobs))


def standardise(images: torch.Tensor) -> torch.Tensor:
    """``[B, 3, H, W]`` images in ``[0, 1]`` -> ``(x - PIXEL_MEAN) / PIXEL_STD``, what DetectNet reads."""
    mean = torch.tensor(PIXEL_MEAN, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    std = torch.tensor(PIXEL_STD, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    return (images - mean) / std


class DetectionTask:
    """The Task protocol (docs/API.md) for pedestrian detection.

    ``config.dataset``: ``pennfudan`` (``<data_dir>/PennFudanPed``, 120 train / 50 test images),
    ``parse27k`` (``<data_dir>/parse27k``; train = sequences 1, 4, 5, test = 3, 6) or ``synthetic_scenes``.
    ``data_dir`` falls back to the ``EVOSYNTH_DATA`` variable. Knobs in ``config.extra`` (defaults in
    :data:`DETECTION_EXTRA_DEFAULTS`). ``train_subset`` / ``test_subset`` keep the first N images.

    Training: Adam (default; ``extra["optimizer"] = "sgd"`` for SGD with ``config.momentum``) on
    ``config.lr`` (Adam wants ~1e-3, not the classification default 0.01: a warning is given above 5e-3),
    ``config.weight_decay``, ``config.schedule`` (per generation; a fresh optimizer each call), batch
    ``config.batch_size``, loss :func:`detection_loss`; images are standardised (:func:`standardise`)
    before the model; dead synapses keep zero gradient and are re-zeroed after every step. Shuffling
    and augmentation draw from generators seeded by ``(config.seed, generation)``.
    Evaluation: :func:`decode` at ``score_threshold`` then :func:`precision_recall` at IoU 0.5 on the test set.
    """

    def __init__(self, config, device="cpu"):
        self.config = config
        if config.dataset not in _DEFAULT_IMAGE_SIZE:
            raise ValueError(f"invalid dataset={config.dataset!r} for detection: choose one of "
                             f"{', '.join(_DEFAULT_IMAGE_SIZE)}")
        self.device = torch.device("cuda" if device == "auto" and torch.cuda.is_available()
                                   else "cpu" if device == "auto" else device)
        self.knobs = detection_knobs(config)
        self.image_hw = _image_hw(self.knobs)
        self.stride = int(self.knobs["stride"])
        if self.knobs["optimizer"] not in ("sgd", "adam"):
            raise ValueError(f"invalid extra optimizer={self.knobs['optimizer']!r}: choose sgd | adam")
        if self.knobs["optimizer"] == "adam" and config.lr > 5e-3:
            warnings.warn(f"lr={config.lr} is high for Adam (DetectNet recipe: ~1e-3)", stacklevel=2)
        self.train_set, self.test_set = self._datasets()

    # ---------------------------------------------------------------- data
    def _datasets(self):
        c, size = self.config, self.knobs["image_size"]
        if c.dataset == "synthetic_scenes":
            train = SyntheticScenes(self.knobs["synthetic_train"], size, seed=c.seed)
            test = SyntheticScenes(self.knobs["synthetic_test"], size, seed=c.seed + 1_000_000)
        elif c.dataset == "pennfudan":
            root = resolve_data_dir(c.data_dir) / "PennFudanPed"
            train, test = PennFudan(root, "train", size), PennFudan(root, "test", size)
        else:
            root = resolve_data_dir(c.data_dir) / "parse27k"
            train, test = Parse27k(root, "train", size), Parse27k(root, "test", size)
        if c.train_subset:
            train = Subset(train, range(min(c.train_subset, len(train))))
        if c.test_subset:
            test = Subset(test, range(min(c.test_subset, len(test))))
        if len(train) == 0 or len(test) == 0:
            raise ValueError(f"{c.dataset}: empty split (train {len(train)}, test {len(test)} images)")
        return train, test

    def _loader(self, dataset, shuffle: bool, generation: int = 0, batch_size: int | None = None):
        g = generator(self.config.seed, "detection-shuffle", generation)
        return DataLoader(dataset, batch_size=batch_size or self.config.batch_size, shuffle=shuffle,
                          generator=g if shuffle else None, collate_fn=collate_detection,
                          num_workers=self.config.num_workers)

    # ---------------------------------------------------------------- Task protocol
    def build_model(self) -> nn.Module:
        return DetectNet(width=int(self.knobs["width"]), stride=self.stride).to(self.device)

    def example_input(self, batch_size: int = 1) -> torch.Tensor:
        """A standardised random batch ``[batch_size, 3, H, W]`` (what the model reads), on the device."""
        x = torch.rand(batch_size, 3, *self.image_hw, generator=torch.Generator().manual_seed(0))
        return standardise(x).to(self.device)

    def loss(self, model: nn.Module, images: torch.Tensor, boxes) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        k = self.knobs
        out = model(standardise(images.to(self.device)))
        return detection_loss(out, [b.to(self.device) for b in boxes], self.stride, k["box_scale"],
                              k["cover_scale"], k["box_weight"], k["pos_weight"])

    def train(self, model: nn.Module, masks, epochs: float, generation: int) -> dict:
        """Train in place for ``epochs`` (fractions allowed: ``round(epochs * batches_per_epoch)`` steps)."""
        c, k = self.config, self.knobs
        model.to(self.device)
        loader = self._loader(self.train_set, shuffle=True, generation=generation)
        aug_g = generator(c.seed, "detection-augment", generation)

        def augment(batch):
            return augment_batch(*batch, aug_g) if k["augment"] else batch

        if masks is not None:
            masks = {n: m.to(self.device) for n, m in masks.items()}
        return train_epochs(model, masks, loader, lambda m, batch: self.loss(m, *batch)[0], epochs, c.lr,
                            c.momentum, c.weight_decay, c.schedule, desc=f"gen {generation} train",
                            batch_transform=augment, optimizer=k["optimizer"])

    def speed_metrics(self, model: nn.Module, compact_model: nn.Module) -> dict:
        """Measured inference speed of this generation (see :func:`speed.generation_speed`)."""
        k = self.knobs
        return generation_speed(model, compact_model, self.example_input(1), self.device,
                                threads=k["fps_threads"], repetitions=k["fps_repetitions"],
                                half_repetitions=k["fps_half_repetitions"])

    @torch.no_grad()
    def predict(self, model: nn.Module, images: torch.Tensor, score_threshold: float | None = None):
        """Detections ``[(boxes, scores), ...]`` for a batch of images (model put in eval mode)."""
        k = self.knobs
        model.to(self.device).eval()
        thr = k["score_threshold"] if score_threshold is None else score_threshold
        return decode(model(standardise(images.to(self.device))), thr, self.stride, k["box_scale"])

    @torch.no_grad()
    def evaluate(self, model: nn.Module, score_threshold: float | None = None) -> dict:
        preds, scores, gts = [], [], []
        loader = self._loader(self.test_set, shuffle=False, batch_size=int(self.knobs["eval_batch_size"]))
        for images, boxes in tqdm(loader, desc="evaluate", leave=False, mininterval=1.0):
            for (b, s), gt in zip(self.predict(model, images, score_threshold), boxes):
                preds.append(b.cpu()), scores.append(s.cpu()), gts.append(gt)
        return precision_recall(preds, scores, gts, iou_threshold=0.5)
