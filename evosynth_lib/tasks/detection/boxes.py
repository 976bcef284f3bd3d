"""What a detector's output means: targets, loss and decoding of a DetectNet-style grid (paper 2).

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

import torch
import torch.nn.functional as F
from torchvision.ops import nms

PIXEL_MEAN = (0.485, 0.456, 0.406)  # inputs are standardised with the usual ImageNet statistics
PIXEL_STD = (0.229, 0.224, 0.225)
DEFAULT_BOX_SCALE = 32.0
DEFAULT_COVER_SCALE = 0.4
NMS_IOU = 0.5


def standardise(images: torch.Tensor) -> torch.Tensor:
    """``[B, 3, H, W]`` images in ``[0, 1]`` -> ``(x - PIXEL_MEAN) / PIXEL_STD``, what DetectNet reads."""
    mean = torch.tensor(PIXEL_MEAN, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    std = torch.tensor(PIXEL_STD, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    return (images - mean) / std


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
