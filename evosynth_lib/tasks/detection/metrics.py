"""Precision and recall of detections: greedy matching at IoU >= 0.5, micro-averaged over boxes (paper 2)."""
from __future__ import annotations

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
