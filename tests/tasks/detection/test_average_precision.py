"""Detection: AP@0.5 on hand-built cases, the standard errors of precision, recall and AP, and the task's record."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from evosynth_lib.config import DetectionConfig, EvolutionConfig
from evosynth_lib.tasks.detection.metrics import (average_precision, average_precision_se, binomial_se,
                                                  precision_recall)
from evosynth_lib.tasks.detection.task import DetectionTask

torch.set_num_threads(1)

A, B, C = [0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]
FAR = [100, 100, 110, 110]  # overlaps no ground truth


def T(*rows):
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 4)


def S(*scores):
    return torch.tensor(scores, dtype=torch.float32)


# ------------------------------------------------------------------------------------------ AP


def test_perfect_detector_has_ap_one():
    gts = [T(A, B), T(C)]
    assert average_precision([T(A, B), T(C)], [S(0.9, 0.4), S(0.7)], gts) == 1.0


def test_only_false_positives_give_ap_zero():
    assert average_precision([T(FAR, FAR), T(FAR)], [S(0.9, 0.8), S(0.7)], [T(A), T(B)]) == 0.0


def test_mixed_case_by_hand():
    # ranked over both images: 0.9 FP (image 0), 0.8 TP (image 1), 0.6 TP (image 0); 2 ground truths.
    # precision 0, 1/2, 2/3 at recall 0, 1/2, 1; the envelope lifts 1/2 to 2/3: AP = 1/2 * 2/3 + 1/2 * 2/3.
    preds, scores, gts = [T(FAR, A), T(B)], [S(0.9, 0.6), S(0.8)], [T(A), T(B)]
    assert average_precision(preds, scores, gts) == pytest.approx(2 / 3)
    # not the mean of per-image APs (1/2 and 1), nor the area without the envelope (1/2 * 1/2 + 1/2 * 2/3)
    assert average_precision(preds, scores, gts) != pytest.approx(0.75)
    assert average_precision(preds, scores, gts) != pytest.approx(7 / 12)


def test_unreached_recall_counts_as_zero_precision():
    # 2 of 3 pedestrians found, nothing wrong: AP = 2/3, the highest recall
    assert average_precision(T(A, B), S(0.9, 0.8), T(A, B, C)) == pytest.approx(2 / 3)
    # a duplicate of A is a false positive ranked between the hits: P = 1, 1/2, 2/3 at R = 1/2, 1/2, 1
    dup = torch.tensor([[0, 0, 10, 10], [1, 0, 10, 10], [20, 20, 30, 30]], dtype=torch.float32)
    assert average_precision(dup, S(0.9, 0.8, 0.7), T(A, B)) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_iou_threshold_is_inclusive_and_changes_ap():
    half = T([0, 0, 10, 5])  # IoU 0.5 with A
    assert average_precision(half, S(1.0), T(A)) == 1.0
    assert average_precision(half, S(1.0), T(A), iou_threshold=0.51) == 0.0


def test_tied_scores_enter_together():
    # a hit and a miss at the same score: one threshold, P = 1/2, R = 1, whatever their order
    for boxes in (T(A, FAR), T(FAR, A)):
        assert average_precision(boxes, S(0.5, 0.5), T(A)) == pytest.approx(0.5)


def test_ap_ignores_no_score_threshold_and_matches_precision_recall_sweep():
    # AP from the definition, via precision_recall at every distinct score threshold (brute force)
    g = torch.Generator().manual_seed(3)
    gts, preds, scores = [], [], []
    for _ in range(6):
        gt = torch.rand(3, 2, generator=g) * 80
        gt = torch.cat([gt, gt + 10 + torch.rand(3, 2, generator=g) * 10], 1)[: int(torch.randint(0, 4, (1,), generator=g))]
        jitter = torch.rand(len(gt), 4, generator=g) * 4
        junk = torch.rand(2, 2, generator=g) * 80
        preds.append(torch.cat([gt + jitter, torch.cat([junk, junk + 15], 1)]))
        scores.append(torch.rand(len(preds[-1]), generator=g))
        gts.append(gt)
    ts = sorted({float(s) for sc in scores for s in sc}, reverse=True)
    pr = [precision_recall(preds, scores, gts, score_threshold=t) for t in ts]
    area, prev = 0.0, 0.0
    for i, r in enumerate(pr):
        area += (r["recall"] - prev) * max(q["precision"] for q in pr[i:])
        prev = r["recall"]
    ap = average_precision(preds, scores, gts)
    assert 0 < ap < 1 and ap == pytest.approx(area)
    assert ap <= pr[-1]["recall"] + 1e-12


def test_ap_empty_cases():
    assert math.isnan(average_precision(T(A), S(0.9), torch.zeros(0, 4)))  # no ground truth: undefined
    assert math.isnan(average_precision([], [], []))  # no images
    assert average_precision(torch.zeros(0, 4), torch.zeros(0), T(A)) == 0.0  # nothing detected, something there
    assert average_precision([torch.zeros(0, 4), T(B)], [torch.zeros(0), S(0.3)], [T(A), T(B)]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="one entry per image"):
        average_precision([T(A)], [], [T(A)])


# ------------------------------------------------------------------------------------------ standard errors


def test_binomial_se_formula_and_empty():
    assert binomial_se(77, 109) == pytest.approx(math.sqrt((77 / 109) * (32 / 109) / 109))
    assert binomial_se(77, 109) == pytest.approx(0.04361, abs=1e-5)
    assert binomial_se(0, 10) == 0.0 and binomial_se(10, 10) == 0.0
    assert math.isnan(binomial_se(0, 0))
    se = binomial_se(pd.Series([77, 0, 3]), pd.Series([131, 0, 4]))  # element by element on columns
    assert se[0] == pytest.approx(math.sqrt(77 / 131 * 54 / 131 / 131)) and math.isnan(se[1])
    assert se[2] == pytest.approx(math.sqrt(0.75 * 0.25 / 4))


def test_precision_recall_report_their_standard_errors():
    r = precision_recall(T(A, FAR, B), S(0.9, 0.8, 0.7), T(A, B, C))  # TP 2 of 3 predictions, 2 of 3 truths
    assert r["precision_se"] == pytest.approx(math.sqrt(2 / 3 * 1 / 3 / 3))
    assert r["recall_se"] == pytest.approx(math.sqrt(2 / 3 * 1 / 3 / 3))
    r = precision_recall(T(A, FAR), S(0.9, 0.8), T(A, B, C, [60, 60, 70, 70]))  # TP 1: of 2 predictions, of 4 truths
    assert r["precision_se"] == pytest.approx(math.sqrt(0.5 * 0.5 / 2))
    assert r["recall_se"] == pytest.approx(math.sqrt(0.25 * 0.75 / 4))
    empty = precision_recall(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, 4))
    assert math.isnan(empty["precision_se"]) and math.isnan(empty["recall_se"])


def _mixed(copies: int):
    """``copies`` x four images: one found, one missed, one false alarm beside a hit, one duplicate hit."""
    preds = [T(A), T(FAR), T(FAR, B), T(C, C)] * copies
    scores = [S(0.9), S(0.8), S(0.95, 0.6), S(0.7, 0.5)] * copies
    gts = [T(A), T(B), T(B), T(C)] * copies
    return preds, scores, gts


def test_bootstrap_se_is_deterministic_and_shrinks_with_more_images():
    data = _mixed(2)
    se = average_precision_se(*data)
    assert se > 0 and se == average_precision_se(*data)  # same inputs, same value (seeded)
    assert se != average_precision_se(*data, seed=1)  # the seed is what fixes it
    assert average_precision_se(*_mixed(8)) < 0.75 * se  # four times the images: about half the error


def test_bootstrap_se_zero_when_every_image_is_alike_and_nan_when_undefined():
    same = ([T(A, FAR)] * 5, [S(0.9, 0.1)] * 5, [T(A)] * 5)
    assert average_precision_se(*same) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(average_precision_se(T(A), S(0.9), T(A)))  # one image: nothing to resample
    assert math.isnan(average_precision_se([T(A)] * 3, [S(0.9)] * 3, [torch.zeros(0, 4)] * 3))  # no truth
    assert math.isnan(average_precision_se([], [], []))


# ------------------------------------------------------------------------------------------ the task


def test_task_reports_ap_from_ranked_predictions_not_the_thresholded_ones():
    cfg = EvolutionConfig(dataset="synthetic_scenes", model="detectnet", lr=3e-3, batch_size=8, seed=0,
                          detection={"image_size": 64, "width": 4, "stride": 8, "synthetic_train": 8,
                                     "synthetic_test": 8, "optimizer": "adam", "pos_weight": 5.0})
    task = DetectionTask(cfg, "cpu")
    torch.manual_seed(0)
    model = task.build_model()
    task.train(model, None, epochs=4, generation=1)
    ev = task.evaluate(model)
    assert {"precision", "recall", "precision_se", "recall_se", "ap50", "ap50_se"} <= set(ev)
    # precision / recall: exactly what the detections at the configured threshold give
    preds, scores, gts = [], [], []
    for images, boxes in task._loader(task.test_set, shuffle=False):
        for (b, s), gt in zip(task.predict(model, images), boxes):
            preds.append(b), scores.append(s), gts.append(gt)
    pr = precision_recall(preds, scores, gts)
    assert (ev["tp"], ev["n_pred"], ev["n_gt"]) == (pr["tp"], pr["n_pred"], pr["n_gt"])
    assert ev["precision_se"] == pr["precision_se"] or math.isnan(pr["precision_se"])
    # AP: every detection the decoder gives at score 0, so the P/R threshold does not move it
    ranked = [task.predict(model, images, score_threshold=0.0) for images, _ in
              task._loader(task.test_set, shuffle=False)]
    ranked = [d for batch in ranked for d in batch]
    assert ev["ap50"] == average_precision([b for b, _ in ranked], [s for _, s in ranked], gts)
    strict = task.evaluate(model, score_threshold=0.99)
    assert strict["ap50"] == ev["ap50"] and strict["ap50_se"] == ev["ap50_se"]
    assert strict["n_pred"] <= ev["n_pred"]
    assert 0.0 <= ev["ap50"] <= 1.0 and (ev["ap50_se"] >= 0 or math.isnan(ev["ap50_se"]))


def test_a_detection_run_records_ap_and_standard_errors_in_its_csv(tmp_path):
    from evosynth_lib.run.evolve import evolve

    config = EvolutionConfig(dataset="synthetic_scenes", model="detectnet", generations=1, epochs=1.0, lr=1e-3,
                             device="cpu", detection=DetectionConfig(width=2, image_size=32, synthetic_train=8,
                                                                     synthetic_test=6, fps_repetitions=1,
                                                                     fps_half_repetitions=1))
    run = evolve(config, tmp_path / "runs", progress=False)
    df = pd.read_csv(run / "generations.csv")
    for col in ("precision_se", "recall_se", "ap50", "ap50_se"):
        assert col in df
    row = df.iloc[0]
    assert row["recall_se"] == pytest.approx(float(binomial_se(row["tp"], row["n_gt"])), nan_ok=True)
    assert np.isfinite(row["ap50"]) and 0 <= row["ap50"] <= 1
