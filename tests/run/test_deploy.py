"""Deployment: every engine computes the network it was given; the deploy measurement of a tiny run."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from evosynth_lib.config import DetectionConfig, EvolutionConfig
from evosynth_lib.core.compaction import compact
from evosynth_lib.core.masks import full_masks
from evosynth_lib.core.synthesis import synthesize_offspring
from evosynth_lib.run import store
from evosynth_lib.run.deploy import DEPLOY_CSV, DEPLOY_JSON, FILES_DIR, deploy_run
from evosynth_lib.run.deploy_report import measure_files, paper_lines, ratios, time_split
from evosynth_lib.run.engines import Variant, device_features, half_decisions, plan_variants, prepare
from evosynth_lib.run.evolve import evolve
from evosynth_lib.run.export import export_onnx, read_exports, store_weights_fp16
from evosynth_lib.speed.protocol import time_passes
from evosynth_lib.tasks import make_task
from evosynth_lib.tasks.classification.models import LeNet5
from evosynth_lib.tasks.detection.model import DetectNet

torch.set_num_threads(1)
FEATURES = device_features()
COLUMNS = ["generation", "engine", "dtype", "layout", "batch_size", "input", "threads", "fps", "ms_iqr", "flops",
           "max_abs_diff"]


def test_the_engines_are_installed():
    """The project installs them (pyproject.toml), so CI checks every engine, not only PyTorch."""
    assert FEATURES["onnxruntime"] and FEATURES["openvino"]
    keys = [v.key for v in plan_variants(FEATURES)[0]]
    assert {"pytorch/float32/nchw", "pytorch/float32/channels_last", "onnxruntime/float32/nchw",
            "openvino/float32/nchw"} <= set(keys)


def _evolved(model, gens):
    masks = full_masks(model)
    for g in range(2, gens + 2):
        model, masks, _ = synthesize_offspring(model, masks, EvolutionConfig(granularity="filter", normaliser="max"), g)
    return model.eval(), masks


@pytest.mark.parametrize("align", [1, 8])
@pytest.mark.parametrize("name", ["detectnet", "lenet5"])
def test_every_engine_computes_the_masked_network(tmp_path, name, align):
    torch.manual_seed(0)
    model, masks = _evolved(DetectNet(width=2) if name == "detectnet" else LeNet5(), 3)
    shape = (3, 32, 48) if name == "detectnet" else (1, 28, 28)
    net = compact(model, masks, align=align)
    path = export_onnx(net, torch.randn(1, *shape), tmp_path / "m.onnx", dynamic_hw=name == "detectnet")
    variants, _ = plan_variants(FEATURES, half="all")
    sizes = [shape, (3, 64, 32)] if name == "detectnet" else [shape]  # dynamic height and width
    for s in sizes:
        x = torch.randn(2, *s)
        with torch.no_grad():
            ref = model(x)
        for v in variants:
            try:
                r = prepare(v, net, path, tuple(x.shape))
                y = r(x)
            except RuntimeError as e:  # a half precision this CPU cannot run at all: plan_variants says why
                assert v.dtype != "float32", f"{v.key}: {e}"
                continue
            assert y.shape == ref.shape and y.dtype == torch.float32
            err = float((y - ref).abs().max())
            tol = 1e-4 if r.dtype_used == "float32" else 0.1 * float(ref.abs().max()) + 0.05
            assert err <= tol, f"{v.key} ({r.dtype_used}) at {tuple(x.shape)}: {err}"
            assert time_passes(r.timed(x), 0, 2)["ms_median"] > 0


def test_weights_stored_as_fp16_are_lossless_for_fp16_weights(tmp_path):
    torch.manual_seed(0)
    net = DetectNet(width=2).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.half().float())  # paper 2's restriction: the weights are float16 values
    x = torch.randn(1, 3, 32, 32)
    path = export_onnx(net, x, tmp_path / "m.onnx", dynamic_hw=True)
    size = path.stat().st_size
    assert store_weights_fp16(path) is True
    assert path.stat().st_size < 0.6 * size
    r = prepare(Variant("onnxruntime"), None, path, (1, 3, 32, 32))
    with torch.no_grad():
        assert float((r(x) - net(x)).abs().max()) <= 1e-5


def test_half_precision_is_planned_only_where_the_device_runs_it_fast():
    slow = {"cpu_flags": ["avx2"], "mkldnn_bf16": True, "mkldnn_fp16": False, "onnxruntime": "x",
            "openvino": "y", "openvino_capabilities": ["FP32"], "cuda": None}
    fast = {**slow, "cpu_flags": ["amx_bf16", "amx_fp16", "avx512_fp16"], "mkldnn_fp16": True,
            "openvino_capabilities": ["FP32", "BF16", "FP16"]}
    keys = lambda f, half="auto": {v.key for v in plan_variants(f, half=half)[0]}  # noqa: E731
    assert not any("16" in k for k in keys(slow))
    assert {"pytorch/bfloat16/channels_last", "pytorch/float16/channels_last", "openvino/bfloat16/nchw",
            "openvino/float16/nchw"} <= keys(fast)
    assert "pytorch/bfloat16/channels_last" in keys(slow, "all") and not any("16" in k for k in keys(fast, "none"))
    reasons = plan_variants(slow)[1]
    assert "not fast" in reasons["pytorch/bfloat16/channels_last"] and "avx512_bf16" in reasons["pytorch/bfloat16/channels_last"]
    assert half_decisions({**slow, "cuda": {"name": "g", "capability": [8, 0]}})["pytorch-cuda/float16"]["fast"]
    assert [v.key for v in plan_variants(fast, engines=["openvino"], half="none")[0]] == ["openvino/float32/nchw"]


def _check_deploy(run, out, config, metrics, n_inputs):
    df = pd.read_csv(out / DEPLOY_CSV)
    assert list(df.columns[: len(COLUMNS)]) == COLUMNS and set(metrics) <= set(df.columns)
    meta = json.loads((out / DEPLOY_JSON).read_text())
    n_variants = len(meta["variants"])
    assert len(df) == 2 * n_variants * n_inputs and set(df.generation) == {1, 2}
    assert (df.fps > 0).all() and (df.flops > 0).all() and df.input.nunique() == n_inputs
    fp32 = df[df.dtype == "float32"]
    assert (fp32.max_abs_diff <= 1e-4).all()
    assert all(v["chosen"] in (1, 8) and set(map(int, v["ms"])) == {1, 8} for v in meta["alignment"].values())
    assert meta["features"]["cpu_flags"] is not None and meta["protocol"]["repetitions"] == 2
    # the deployed fp32 variants score exactly what the masked network scores on the test set
    task = make_task(config, "cpu")
    for g in (1, 2):
        model = store.load_checkpoint(run, g)["model"]
        masked = make_task(config, "cpu").build_model()
        masked.load_state_dict(model)
        expected = task.evaluate(masked)
        for m in metrics:
            assert np.allclose(fp32[fp32.generation == g][m], expected[m], equal_nan=True), (g, m)
    files = read_exports(out / FILES_DIR)["files"]
    assert [f["generation"] for f in files] == [1, 2] and all(f["bytes"] < 30e6 for f in files)
    assert all(f["path"] == out / FILES_DIR / f"gen{f['generation']:02d}.onnx" and f["path"].is_file() for f in files)
    again = measure_files(out / FILES_DIR, repetitions=2, warmup=1)
    assert set(again.engine) == {"onnxruntime", "openvino"} and len(again) == 2 * n_inputs * again[VARIANTS].drop_duplicates().shape[0]
    assert (again[again.dtype == "float32"].max_abs_diff.dropna() <= 1e-4).all()
    r = ratios(df)
    assert len(r) == n_variants * n_inputs and (r.speedup > 0).all() and (r.flop_ratio >= 1).all()
    lines = paper_lines(r, 5.0, {"precision": 0.02} if config.task == "detection" else None)
    assert "paper: 5.00x" in lines[0] and "within 2x of the FLOP ratio" in lines[1]
    return df


VARIANTS = ["engine", "dtype", "layout"]


def test_a_folder_without_exported_networks_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="evosynth deploy") as e:
        read_exports(tmp_path)
    assert str(tmp_path) in str(e.value)


def test_deploy_run_on_a_tiny_classification_run(tmp_path):
    config = EvolutionConfig(dataset="synthetic", generations=2, epochs=1.0, device="cpu", synthetic_size=(64, 40))
    run = evolve(config, tmp_path / "runs", progress=False)
    out = tmp_path / "results" / "tiny"
    deploy_run(run, out, repetitions=2, warmup=1, align_candidates=(1, 8), eval_batch_size=16, progress=False)
    df = _check_deploy(run, out, config, ["accuracy"], 1)
    assert (df.eval_examples == 40).all()


def test_deploy_run_on_a_tiny_detection_run(tmp_path):
    config = EvolutionConfig(dataset="synthetic_scenes", model="detectnet", generations=2, epochs=1.0,
                             lr=1e-3, device="cpu", detection=DetectionConfig(width=2, image_size=32,
                                                                              synthetic_train=8, synthetic_test=6))
    run = evolve(config, tmp_path / "runs", progress=False)
    out = tmp_path / "results" / "tiny"
    deploy_run(run, out, repetitions=2, warmup=1, input_sizes=[(32, 32), (48, 64)], align_candidates=(1, 8),
               eval_batch_size=4, progress=False)
    df = _check_deploy(run, out, config, ["precision", "recall"], 2)
    assert set(df.input) == {"32x32", "48x64"} and (df.eval_input == "32x32").all()


def test_time_split_separates_time_that_scales_with_flops_from_fixed_cost():
    # first generation: 100 us per image at 1000 FLOPs; last: 40 us at 100 FLOPs (FLOP ratio 10, speed-up 2.5)
    df = pd.DataFrame([{"generation": g, "engine": "pytorch", "dtype": "float32", "layout": "nchw", "input": "28x28",
                        "batch_size": 1, "fps": 1e6 / us, "flops": flops, "max_abs_diff": 0.0}
                       for g, us, flops in [(1, 100.0, 1000), (13, 40.0, 100)]])
    r = ratios(df)
    t = time_split(r).iloc[0]
    assert np.isclose(r.speedup.iloc[0], 2.5) and np.isclose(r.flop_ratio.iloc[0], 10)
    assert np.isclose(t.us_last, 40) and np.isclose(t.us_flops, 10) and np.isclose(t.us_fixed, 30)
    assert np.isclose(t.fixed_share, 0.75)
    lines = paper_lines(r, 9.71)
    assert "largest 2.50x (pytorch float32 nchw, 28x28); paper: 9.71x" in lines[0]
    assert "0 of 1 variants" in lines[-2] and "the other 30.0 us (75%)" in lines[-1]
