"""The compute page's tables (book/compute.py) and the fp16 control (book/control.py), on hand-made runs."""
import math

import pandas as pd
import pytest

from evosynth_lib.book import compute, control
from evosynth_lib.book.results import NotRun, Published


def _detector(name, seed, *, p=(0.70, 0.72), r=(0.60, 0.58), synapses=(1000, 100), flops=(800, 400), fps=(10, 20),
              ae=(1.0, 10.0), fp16=True, cap=0.85):
    df = pd.DataFrame({"generation": [1, 13], "synapses": synapses, "architectural_efficiency": ae,
                       "flops_compact": flops, "precision": p, "recall": r, "ap50": [0.65, 0.66],
                       "ap50_se": [0.03, 0.04], "tp": [77, 76], "n_pred": [110, 105], "n_gt": [131, 131],
                       "fps_compact_b1": fps})
    return Published(name, None, df, {"seed": seed, "fp16": fp16, "cap": cap, "dataset": "pennfudan"}, {})


def _latency(*runs_ms):
    return pd.DataFrame([{"run": run, "engine": e, "generation": g, "ms": ms}
                         for run, first, last in runs_ms for g, ms in ((1, first), (13, last))
                         for e in ("onnxruntime", "openvino")])


def test_rows_measure_speedup_from_latency_and_flag_p_r_outside_one_standard_error():
    methods = {"compute environment": [_detector("a", 0), _detector("b", 1, p=(0.70, 0.50))],
               "baseline": [_detector("c", 0), NotRun("d", "no results", "evosynth ...")]}
    rows = compute.run_rows(methods, _latency(("a", 10.0, 2.0), ("b", 10.0, 5.0)), "onnxruntime", "ap50")
    assert list(rows.run) == ["a", "b", "c"]  # the unpublished run is left out
    assert rows.speedup.tolist()[:2] == [5.0, 2.0] and math.isnan(rows.speedup.iloc[2])  # c is not timed
    assert rows.synapse_ratio.iloc[0] == 10.0 and rows.flop_ratio.iloc[0] == 2.0
    assert rows.precision_se_first.iloc[0] == pytest.approx(math.sqrt(0.7 * 0.3 / 110))
    table = compute.speedup_table(rows, 5.3, "precision", detection=True)
    assert table.loc["compute environment", "measured speed-up"].startswith("3.50x")
    assert table.loc["compute environment", "measured / paper"] == f"{3.5 / 5.3:.2f}"
    assert table.loc["compute environment", "P and R within 1 SE of gen. 1"] == "1 of 2"  # b lost 0.2 precision
    assert table.loc["baseline", "measured speed-up"] == "not timed"
    one = compute.speedup_table(rows[rows.run != "b"], 5.3, "precision", detection=True)
    assert one.loc["compute environment", "measured speed-up"] == "5.00x"
    partly = compute.run_rows({"m": methods["compute environment"]}, _latency(("a", 10.0, 2.0)), "onnxruntime", "ap50")
    assert compute.speedup_table(partly, 5.3, "precision").loc["m", "measured speed-up"] == "5.00x (1 of 2 runs timed)"
    box = compute.absent_markdown(methods)
    assert "`d`" in box and "evosynth ..." in box and "`a`" not in box
    assert compute.absent_markdown({"m": [_detector("a", 0)]}) is None


def test_control_compares_the_arms_at_the_last_generation_and_at_equal_efficiency():
    arms = {"fp16": [_detector("h0", 0), _detector("h1", 1, ae=(1.0, 8.0))],
            "fp32": [_detector("f0", 0, fp16=False, p=(0.70, 0.62), ae=(1.0, 12.0))]}
    assert control.config_differences(arms) == []  # seed and fp16 are what an arm may differ in
    assert control.common_efficiency(arms) == 8.0  # the largest A-E every run reaches
    rows = control.run_rows(arms)
    assert rows.set_index("run").loc["f0", "precision change"] == pytest.approx(-0.08)
    # f0 at A-E 8: log-linear between A-E 1 (0.70) and 12 (0.62)
    expected = 0.70 + (0.62 - 0.70) * math.log(8) / math.log(12)
    assert rows.set_index("run").loc["f0", "precision at equal A-E"] == pytest.approx(expected)
    assert rows.set_index("run").loc["h0", "loop speed-up"] == 2.0
    table = control.control_table(rows, 8.0)
    assert table.loc["runs", "fp16"] == "2" and table.loc["fewer synapses", "fp32"] == "10.0x"
    assert "precision at A-E 8.00X" in table.index and table.loc["AP@0.5", "fp32"] == "0.660"
    other = {**arms, "fp32": [_detector("f0", 0, fp16=False, cap=0.8)]}
    assert control.config_differences(other) == ["cap"]  # not a control
    older = {**arms, "fp32": [_detector("f0", 0, fp16=False)]}
    older["fp32"][0].config["environment"] = "synapses"  # recorded by a newer run only: the default
    assert control.config_differences(older) == []
    assert math.isnan(control.common_efficiency({"fp16": arms["fp16"], "fp32": []}))


def test_layer_flops_of_an_exported_network_match_the_flop_counter(tmp_path):
    """Per layer, from the exported file (fp16-stored weights, dynamic height and width, as deployed), the FLOPs
    torch's counter gives for the network itself, at any input size."""
    import torch
    from torch import nn

    from evosynth_lib.core.compaction import count_flops
    from evosynth_lib.run.export import export_onnx, store_weights_fp16

    conv = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3)).eval()
    path = export_onnx(conv, torch.zeros(1, 3, 8, 8), tmp_path / "conv.onnx", dynamic_hw=True)
    store_weights_fp16(path)
    for hw in ((8, 8), (16, 24)):
        flops = compute.layer_flops(path, [1, 3, *hw])
        assert len(flops) == 2 and sum(flops.values()) == count_flops(conv, torch.zeros(1, 3, *hw))
        assert list(flops.values())[0] == 2 * 4 * hw[0] * hw[1] * 3 * 9
    dense = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 5)).eval()
    path = export_onnx(dense, torch.zeros(1, 1, 6, 6), tmp_path / "dense.onnx")
    flops = compute.layer_flops(path, [1, 1, 6, 6])
    assert list(flops.values()) == [2 * 2 * 16 * 9, 2 * 5 * 32]


def test_landing_summary_reads_the_published_runs_and_their_latency(tmp_path):
    for name, seed in (("det", 0), ("det-seed1", 1)):
        folder = tmp_path / "p" / name
        folder.mkdir(parents=True)
        _detector(name, seed).generations.to_csv(folder / "generations.csv", index=False)
        (folder / "config.yaml").write_text(f"seed: {seed}\n")
    (tmp_path / "p" / "latency").mkdir()
    _latency(("det", 8.0, 2.0), ("det-seed1", 8.0, 4.0)).to_csv(tmp_path / "p" / "latency" / "d.csv", index=False)
    tasks = {"detector": {"methods": {"compute environment": ["det", "det-seed1"], "baseline": ["absent"]},
                          "latency": "latency/d.csv"}}
    text = compute.speed_markdown("p", tasks, "onnxruntime", tmp_path)
    assert text.startswith("- **the detector") and "(paper: 5.29x)" in text
    assert "compute environment: 3.00x ± 1.41x [2.00-4.00] measured, 2.00x ± 0.00x fewer FLOPs (2 runs" in text
    assert "baseline" not in text  # nothing of it is published
    assert "no published run" in compute.speed_markdown("p", {"mnist": {"methods": {"m": ["x"]}}}, "onnxruntime",
                                                       tmp_path)
