"""The task's test-set metric computed through any callable (a deployed engine), not only a torch model.

``evaluate_through(task, fn, batch_size, limit)`` feeds the test set in batches of exactly ``batch_size``
(the last one padded by repeating its final example, the padding's outputs dropped: engines compiled for a
static shape take it) to ``fn`` - float32 NCHW in, float32 network outputs out - and computes what the task's
``evaluate`` computes from a model's outputs: top-1 ``accuracy`` for classification; for detection the
outputs are decoded (``boxes.decode`` at the task's score threshold) and matched at IoU 0.5
(``metrics.precision_recall``): ``precision``, ``recall``, ``f1``. ``limit``: only the first ``limit`` test
examples (recorded as ``eval_examples``).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch.utils.data import DataLoader, Subset

from ..tasks.detection.boxes import decode, standardise
from ..tasks.detection.data import collate_detection
from ..tasks.detection.metrics import precision_recall


def _padded(x: torch.Tensor, n: int) -> torch.Tensor:
    if len(x) == n:
        return x
    return torch.cat([x, x[-1:].expand(n - len(x), *x.shape[1:])])


def _limited(ds, limit: int | None):
    return ds if limit is None or limit >= len(ds) else Subset(ds, range(limit))


@torch.no_grad()
def evaluate_through(task, fn: Callable[[torch.Tensor], torch.Tensor], batch_size: int = 50,
                     limit: int | None = None) -> dict[str, float]:
    """The task's test metrics with ``fn`` in place of the model (module docstring)."""
    ds = _limited(task.test_set, limit)
    if task.config.task == "detection":
        knobs = task.knobs
        preds, scores, gts = [], [], []
        for images, boxes in DataLoader(ds, batch_size=batch_size, shuffle=False, collate_fn=collate_detection):
            out = fn(_padded(standardise(images.float()), batch_size))[: len(images)]
            for (b, s), gt in zip(decode(out, knobs.score_threshold, task.stride, knobs.box_scale), boxes):
                preds.append(b), scores.append(s), gts.append(gt)
        pr = precision_recall(preds, scores, gts, iou_threshold=0.5)
        return {"precision": pr["precision"], "recall": pr["recall"], "f1": pr["f1"], "eval_examples": len(ds)}
    correct = total = 0
    for x, y in DataLoader(ds, batch_size=batch_size, shuffle=False):
        out = fn(_padded(x.float(), batch_size))[: len(x)]
        correct += int((out.argmax(dim=1) == y).sum())
        total += len(y)
    return {"accuracy": correct / max(total, 1), "eval_examples": total}


def metric_columns(task_kind: str) -> list[str]:
    """The metric columns a deploy row carries for a task kind."""
    return ["precision", "recall"] if task_kind == "detection" else ["accuracy"]
