"""Precision, recall and average precision of detections: greedy matching at IoU >= 0.5 (paper 2).

Precision and recall are micro-averaged over boxes at one score threshold; average precision (AP@0.5) ranks
every scored prediction of the dataset. Each comes with its standard error on the test set
(:func:`binomial_se` for precision and recall, :func:`average_precision_se`, a bootstrap over images, for AP).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torchvision.ops import box_iou

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
    are empty (no predictions but some ground truth gives f1 = 0). ``precision_se`` and ``recall_se`` are
    their binomial standard errors (:func:`binomial_se` with ``n = #predictions`` and ``n = #ground
    truths``). Returns ``{"precision", "recall", "f1", "tp", "n_pred", "n_gt", "precision_se",
    "recall_se"}``.
    """
    pred_boxes, pred_scores, gt_boxes = _per_image(pred_boxes, pred_scores, gt_boxes)
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
        "precision_se": binomial_se(tp, n_pred),
        "recall_se": binomial_se(tp, n_gt),
    }


def binomial_se(successes, trials):
    """Binomial standard error ``sqrt(p (1 - p) / n)`` of ``p = successes / trials``; ``nan`` where ``trials``
    is 0 or missing. Scalars give a float; arrays (or pandas columns) give an array, element by element.

    Precision's is ``binomial_se(tp, n_pred)``, recall's ``binomial_se(tp, n_gt)``: each prediction (ground
    truth) is counted as an independent trial that is a hit with probability ``p``. It ignores that boxes of
    one image are correlated, and it is 0 when ``p`` is 0 or 1.
    """
    k, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        se = np.where(n > 0, np.sqrt(p * (1 - p) / n), np.nan)
    return float(se) if se.ndim == 0 else se


def _per_image(pred_boxes, pred_scores, gt_boxes):
    if isinstance(pred_boxes, torch.Tensor):
        pred_boxes, pred_scores, gt_boxes = [pred_boxes], [pred_scores], [gt_boxes]
    if not (len(pred_boxes) == len(pred_scores) == len(gt_boxes)):
        raise ValueError(f"need one entry per image: got {len(pred_boxes)} box sets, {len(pred_scores)} "
                         f"score sets and {len(gt_boxes)} ground-truth sets")
    return pred_boxes, pred_scores, gt_boxes


def _matched(pred_boxes, pred_scores, gt_boxes, iou_threshold: float):
    """Per image: ``(scores [K] float64, true positive flags [K] bool, number of ground truths)``."""
    out = []
    for boxes, scores, gt in zip(*_per_image(pred_boxes, pred_scores, gt_boxes)):
        scores = scores.reshape(-1)
        tp = match_detections(boxes, scores, gt, iou_threshold)
        out.append((scores.detach().cpu().double().numpy(), tp.numpy(), len(gt.reshape(-1, 4))))
    return out


def _ap(scores: np.ndarray, tp: np.ndarray, n_gt: int) -> float:
    """All-point interpolated AP of pooled predictions (definition in :func:`average_precision`)."""
    if n_gt == 0:
        return float("nan")
    if len(scores) == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    scores, tp = scores[order], tp[order]
    cum_tp = np.cumsum(tp)
    last = np.r_[scores[1:] != scores[:-1], True]  # the last prediction of each group of equal scores
    k = np.flatnonzero(last) + 1  # predictions kept at each distinct score threshold
    precision, recall = cum_tp[k - 1] / k, cum_tp[k - 1] / n_gt
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at this recall or beyond
    return float(np.sum(np.diff(np.r_[0.0, recall]) * envelope))


def average_precision(pred_boxes, pred_scores, gt_boxes, iou_threshold: float = 0.5) -> float:
    """Average precision over a dataset (AP@0.5 at the default ``iou_threshold``), all-point interpolated.

    Inputs as for :func:`precision_recall` (lists with one entry per image, or tensors for one image); every
    prediction given counts, so pass them *before* any score threshold. Definition:

    1. each image's predictions are marked true or false positives by :func:`match_detections` at
       ``iou_threshold`` (greedy in descending score, each to its best still-unmatched ground truth, as COCO
       does; IoU >= threshold is a hit);
    2. the predictions of all images are pooled and ranked by score; at each distinct score ``t`` (tied
       scores enter together, so the order of ties does not matter) ``P(t) = TP(>= t) / #pred(>= t)`` and
       ``R(t) = TP(>= t) / #ground truths``;
    3. the precision envelope ``P_env(t) = max P(t')`` over the thresholds ``t' <= t`` (recall at least
       ``R(t)``) makes the curve monotone;
    4. ``AP = sum over thresholds of (R(t) - R(previous threshold)) * P_env(t)``, with recall starting at 0:
       the area under the envelope, as PASCAL VOC 2010+ and COCO compute it before COCO's 101-point sampling.
       Recall never reached counts as precision 0, so AP <= the highest recall.

    ``nan`` when there is no ground truth (undefined); 0.0 when there is ground truth but no prediction.
    """
    matched = _matched(pred_boxes, pred_scores, gt_boxes, iou_threshold)
    return _pooled_ap(matched, range(len(matched)))


def _pooled_ap(matched, images) -> float:
    images = list(images)
    if not images:
        return float("nan")
    scores = np.concatenate([matched[i][0] for i in images])
    tp = np.concatenate([matched[i][1] for i in images]).astype(bool)
    return _ap(scores, tp, sum(matched[i][2] for i in images))


def average_precision_se(pred_boxes, pred_scores, gt_boxes, iou_threshold: float = 0.5,
                         resamples: int = 200, seed: int = 0) -> float:
    """Bootstrap standard error of :func:`average_precision` over the test images.

    ``resamples`` times, as many images as the test set has are drawn with replacement (a duplicated image
    brings its predictions and ground truths twice) and AP is recomputed; the standard error is the sample
    standard deviation (``ddof=1``) of those APs. The draws come from ``numpy.random.default_rng(seed)``, so
    the same inputs always give the same value. Resamples without ground truth (AP undefined) are left out;
    ``nan`` with fewer than two images or fewer than two defined resamples.
    """
    matched = _matched(pred_boxes, pred_scores, gt_boxes, iou_threshold)
    n = len(matched)
    if n < 2 or resamples < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    aps = np.array([_pooled_ap(matched, rng.integers(0, n, size=n)) for _ in range(resamples)])
    aps = aps[~np.isnan(aps)]
    return float(np.std(aps, ddof=1)) if len(aps) >= 2 else math.nan
