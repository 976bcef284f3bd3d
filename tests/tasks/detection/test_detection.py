"""Detection: DetectNet shapes, target encoding / decoding, precision-recall, the Task on synthetic scenes."""
import math

import pytest
import torch
from torch import nn

from evosynth_lib.config import EvolutionConfig
from evosynth_lib.tasks.detection.boxes import decode, detection_loss, encode_targets
from evosynth_lib.tasks.detection.metrics import match_detections, precision_recall
from evosynth_lib.tasks.detection.model import DetectNet
from evosynth_lib.tasks.detection.task import DetectionTask
from evosynth_lib.core.masks import full_masks, prunable_weights

torch.set_num_threads(1)


def T(*rows):
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 4)


# ------------------------------------------------------------------------------------------ model


@pytest.mark.parametrize("stride", [8, 16])
def test_detectnet_shapes(stride):
    net = DetectNet(width=4, stride=stride)
    out = net(torch.randn(2, 3, 64, 96))
    assert out.shape == (2, 5, 64 // stride, 96 // stride)
    assert not any(isinstance(m, (nn.Linear, nn.BatchNorm2d)) for m in net.modules())
    assert len(prunable_weights(net)) == len(net.layer_names) == 8


def test_detectnet_weight_count_and_errors():
    net = DetectNet(width=16)
    assert sum(w.numel() for w in prunable_weights(net).values()) == 429_616
    with pytest.raises(ValueError, match="stride"):
        DetectNet(stride=4)


# ------------------------------------------------------------------------------ encode / decode


def test_encode_targets_rules():
    # one 8x8 box at the centre of cell (1, 1) of an 8-stride 4x4 grid: cover_scale 0.4 shrinks it to
    # 3.2 pixels, no cell centre inside but the centre cell is still covered
    cov, reg = encode_targets([T([8, 8, 16, 16])], (4, 4), stride=8, box_scale=4.0)
    assert cov.shape == (1, 1, 4, 4) and reg.shape == (1, 4, 4, 4)
    assert cov.sum() == 1 and cov[0, 0, 1, 1] == 1
    torch.testing.assert_close(reg[0, :, 1, 1], torch.tensor([-1.0, -1.0, 1.0, 1.0]))  # (8-12, ..)/4
    assert reg[0][:, cov[0, 0] == 0].abs().sum() == 0
    # a tall box covers a column of cells; empty images give empty targets
    cov, _ = encode_targets([T([0, 0, 16, 64]), torch.zeros(0, 4)], (8, 8), stride=8, cover_scale=1.0)
    assert cov[0, 0, :, :2].sum() == 16 and cov[0].sum() == 16 and cov[1].sum() == 0


def _perfect_outputs(boxes_list, grid, stride, box_scale):
    cov, reg = encode_targets(boxes_list, grid, stride, box_scale)
    return torch.cat([cov * 20 - 10, reg], 1)  # logits +10 where covered, -10 elsewhere


def test_encode_decode_round_trip():
    boxes = [T([10, 12, 40, 90], [60, 5, 90, 70]), T([30, 30, 50, 95]), torch.zeros(0, 4)]
    out = _perfect_outputs(boxes, (12, 12), 8, 32.0)
    dets = decode(out, score_threshold=0.5, stride=8, box_scale=32.0)
    assert len(dets) == 3
    for (b, s), gt in zip(dets, boxes):
        assert len(b) == len(gt)  # all cells of one object decode to the same box: NMS keeps one
        assert (s > 0.99).all()
        if len(gt):
            order = torch.argsort(b[:, 0])
            torch.testing.assert_close(b[order], gt[torch.argsort(gt[:, 0])], atol=1e-4, rtol=0)
    r = precision_recall([d[0] for d in dets], [d[1] for d in dets], boxes)
    assert r["precision"] == 1.0 and r["recall"] == 1.0 and r["tp"] == 3


def test_decode_threshold_and_clipping():
    out = torch.full((1, 5, 2, 2), -10.0)
    out[0, 0, 0, 0] = 0.0  # score 0.5 exactly
    out[0, 1:, 0, 0] = torch.tensor([-1.0, -1.0, 10.0, 10.0])  # box beyond the 16x16 image
    (b, s), = decode(out, score_threshold=0.5, stride=8, box_scale=8.0)
    torch.testing.assert_close(b, T([0, 0, 16, 16]))
    assert decode(out, score_threshold=0.51, stride=8)[0][0].shape == (0, 4)
    with pytest.raises(ValueError):
        decode(torch.zeros(1, 4, 2, 2))


def test_detection_loss_is_finite_with_and_without_objects():
    out = torch.zeros(2, 5, 4, 4, requires_grad=True)
    total, cov, box = detection_loss(out, [T([0, 0, 16, 32]), torch.zeros(0, 4)], stride=8)
    assert torch.isfinite(total) and math.isclose(float(cov), math.log(2), rel_tol=1e-5)
    total.backward()
    assert out.grad.abs().sum() > 0
    total, _, box = detection_loss(torch.zeros(1, 5, 4, 4), [torch.zeros(0, 4)], stride=8)
    assert float(box) == 0.0


# ----------------------------------------------------------------------------- precision / recall


def test_precision_recall_perfect_and_partial():
    gt = T([0, 0, 10, 10], [20, 20, 30, 30])
    r = precision_recall(gt.clone(), torch.tensor([0.9, 0.8]), gt)
    assert (r["precision"], r["recall"], r["f1"]) == (1.0, 1.0, 1.0)
    # one hit (IoU 0.81), one miss elsewhere
    r = precision_recall(T([0, 0, 9, 9], [50, 50, 60, 60]), torch.tensor([0.9, 0.8]), gt)
    assert (r["tp"], r["precision"], r["recall"], r["f1"]) == (1, 0.5, 0.5, 0.5)


def test_duplicates_count_once():
    gt = T([0, 0, 10, 10])
    preds = T([0, 0, 10, 10], [0, 0, 10, 9], [1, 0, 10, 10])  # three detections of one person
    r = precision_recall(preds, torch.tensor([0.5, 0.9, 0.7]), gt)
    assert r["tp"] == 1 and r["precision"] == pytest.approx(1 / 3) and r["recall"] == 1.0
    tp = match_detections(preds, torch.tensor([0.5, 0.9, 0.7]), gt)
    assert tp.tolist() == [False, True, False]  # the highest score takes the ground truth


def test_iou_threshold_is_inclusive():
    gt = T([0, 0, 10, 10])
    half = T([0, 0, 10, 5])  # IoU exactly 0.5
    assert precision_recall(half, torch.tensor([1.0]), gt)["tp"] == 1
    assert precision_recall(half, torch.tensor([1.0]), gt, iou_threshold=0.51)["tp"] == 0


def test_greedy_takes_best_unmatched_gt():
    gt = T([0, 0, 10, 10], [2, 0, 12, 10])  # two overlapping people
    preds = T([1, 0, 11, 10], [1, 0, 11, 10])
    r = precision_recall(preds, torch.tensor([0.9, 0.8]), gt)
    assert r["tp"] == 2  # the second prediction takes the gt the first left over


def test_empty_conventions():
    gt = T([0, 0, 10, 10])
    no_pred = precision_recall(torch.zeros(0, 4), torch.zeros(0), gt)
    assert math.isnan(no_pred["precision"]) and no_pred["recall"] == 0.0 and no_pred["f1"] == 0.0
    no_gt = precision_recall(gt, torch.tensor([0.9]), torch.zeros(0, 4))
    assert no_gt["precision"] == 0.0 and math.isnan(no_gt["recall"]) and no_gt["f1"] == 0.0
    nothing = precision_recall(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, 4))
    assert math.isnan(nothing["precision"]) and math.isnan(nothing["recall"]) and math.isnan(nothing["f1"])


def test_accumulates_over_images_and_score_threshold():
    preds = [T([0, 0, 10, 10], [40, 40, 50, 50]), T([0, 0, 10, 10])]
    scores = [torch.tensor([0.9, 0.2]), torch.tensor([0.6])]
    gts = [T([0, 0, 10, 10]), T([0, 0, 10, 10], [20, 20, 30, 30])]
    r = precision_recall(preds, scores, gts)
    assert (r["tp"], r["n_pred"], r["n_gt"]) == (2, 3, 3)
    r = precision_recall(preds, scores, gts, score_threshold=0.5)  # the 0.2 false positive is dropped
    assert (r["tp"], r["n_pred"], r["precision"], r["recall"]) == (2, 2, 1.0, pytest.approx(2 / 3))
    with pytest.raises(ValueError, match="one entry per image"):
        precision_recall(preds, scores[:1], gts)


# ------------------------------------------------------------------------------------------ task


def _task(**extra):
    cfg = EvolutionConfig(dataset="synthetic_scenes", model="detectnet", lr=3e-3, batch_size=8, seed=0,
                          schedule="constant", weight_decay=0.0,
                          detection={"image_size": 64, "width": 4, "stride": 8, "synthetic_train": 16, "synthetic_test": 8,
                                 "optimizer": "adam", "pos_weight": 5.0, **extra})
    return DetectionTask(cfg, "cpu")


def test_task_trains_and_loss_falls():
    task = _task(augment=False)
    torch.manual_seed(0)
    model = task.build_model()
    images, boxes = next(iter(task._loader(task.train_set, shuffle=False, batch_size=16)))
    with torch.no_grad():
        before = float(task.loss(model, images, boxes)[0])
    stats = task.train(model, full_masks(model), epochs=15, generation=1)  # 2 batches x 15 = 30 steps
    with torch.no_grad():
        after = float(task.loss(model, images, boxes)[0])
    assert stats["steps"] == 30 and after < 0.8 * before
    ev = task.evaluate(model)
    assert {"precision", "recall", "f1"} <= set(ev) and ev["n_gt"] > 0
    x = task.example_input(2)
    assert x.shape == (2, 3, 64, 64) and model(x).shape == (2, 5, 8, 8)


def test_task_keeps_masked_weights_at_zero():
    task = _task()
    torch.manual_seed(0)
    model = task.build_model()
    masks = full_masks(model)
    name = next(iter(masks))
    masks[name] = torch.rand(masks[name].shape, generator=torch.Generator().manual_seed(0)) < 0.5
    stats = task.train(model, masks, epochs=0.5, generation=2)
    assert stats["steps"] == 1
    w = dict(model.named_parameters())[name]
    assert (w[~masks[name]] == 0).all() and (w[masks[name]] != 0).any()
    assert task.train(model, masks, epochs=0, generation=3)["steps"] == 0


def test_task_training_is_deterministic():
    outs = []
    for _ in range(2):
        task = _task()
        torch.manual_seed(0)
        model = task.build_model()
        task.train(model, None, epochs=1, generation=1)
        outs.append(model(task.example_input(1)))
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=0)


def test_task_bad_config():
    with pytest.raises(ValueError, match="image_size"):
        _task(image_size=60)
    with pytest.raises(ValueError, match="optimizer"):
        _task(optimizer="rmsprop")
    cfg = EvolutionConfig(dataset="pennfudan", model="detectnet", lr=1e-3, data_dir="/nonexistent/evosynth")
    with pytest.raises(FileNotFoundError, match="EVOSYNTH_DATA"):
        DetectionTask(cfg, "cpu")
    with pytest.warns(UserWarning, match="high for Adam"):
        DetectionTask(cfg.replace(dataset="synthetic_scenes", lr=0.01, detection={"synthetic_train": 2}), "cpu")
    with pytest.raises(ValueError, match="unknown detection.field.*colour"):
        DetectionTask(cfg.replace(dataset="synthetic_scenes", detection={"synthetic_train": 2, "colour": 1}), "cpu")


def test_detectnet_compacts_exactly():
    from evosynth_lib.core import compaction
    from evosynth_lib.core.masks import apply_masks

    torch.manual_seed(0)
    net = DetectNet(width=4)
    masks = full_masks(net)
    g = torch.Generator().manual_seed(0)
    for name in list(masks)[:-1]:  # kill whole kernels at random (the head keeps all its outputs)
        keep = torch.rand(masks[name].shape[:2], generator=g) < 0.3
        masks[name] = keep[..., None, None].expand_as(masks[name]).clone()
    small = compaction.compact(net, masks)
    apply_masks(net, masks)
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(small(x), net(x), atol=1e-5, rtol=0)
    assert compaction.dense_weights(small) < compaction.dense_weights(net)
