"""The benchmarks run as a reader starts them (``python benchmarks/<script>.py``), with the smallest settings.

Their timings are measurements and are not checked here; what is checked is that each script runs to the end,
prints what its docstring promises (ratios, the papers' speed-ups), that ratios are defined against the right baseline, and that
a script imports the library of the tree it sits in (not one installed from another checkout).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def bench(script: str, *args, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *map(str, args)], cwd=cwd,
                         capture_output=True, text=True, timeout=900)
    if ok:
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    return out


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "benchmarks").glob("*.py")))
def test_a_benchmark_imports_the_library_of_its_own_tree(tmp_path, script):
    (tmp_path / "benchmarks").mkdir()
    shutil.copy(ROOT / "benchmarks" / script, tmp_path / "benchmarks")
    (tmp_path / "evosynth_lib").mkdir()
    (tmp_path / "evosynth_lib" / "__init__.py").write_text("raise SystemExit('evosynth_lib of the copied tree')\n")
    out = subprocess.run([sys.executable, str(tmp_path / "benchmarks" / script)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "evosynth_lib of the copied tree" in out.stderr


def test_masked_step_prints_the_ratio(tmp_path):
    out = bench("masked_step.py", "--steps", 2, "--threads", 1, cwd=tmp_path).stdout
    assert "dense step  median" in out and "masked step median" in out
    ratio = float(out.split("masked/dense ratio ")[1].split()[0])
    assert ratio > 0


def test_train_throughput_writes_ratios_against_the_legacy_loop(tmp_path, mnist_dir):
    report = tmp_path / "throughput.json"
    out = bench("train_throughput.py", "--models", "lenet5", "--steps", 2, "--rounds", 1, "--threads", 1,
                "--out", report, cwd=tmp_path).stdout
    data = json.loads(report.read_text())
    rows = {r["variant"]: r for r in data["rows"]}
    assert {"legacy fp32", "tensor fp32"} <= set(rows)
    assert rows["legacy fp32"]["ratio_vs_legacy_fp32"] == 1.0
    for r in rows.values():
        assert r["model"] == "lenet5" and r["images_per_s"] > 0
        assert r["ratio_vs_legacy_fp32"] == pytest.approx(r["images_per_s"] / rows["legacy fp32"]["images_per_s"],
                                                          rel=0.01)
    assert ("tensor bf16" in rows) == ("bf16: True" in out)  # measured only where this CPU trains bf16 fast
    assert data["commit"] and data["threads"] == 1 and "vs legacy fp32" in out


def test_deploy_remeasures_published_onnx_files_and_reads_a_published_csv(tmp_path):
    published = ROOT / "results" / "quick" / "mnist"
    out = bench("deploy.py", published / "deploy", "--repetitions", 2, "--warmup", 1, cwd=tmp_path).stdout
    assert "speedup" in out and "flop_ratio" in out and "onnxruntime" in out and "openvino" in out
    out = bench("deploy.py", published, cwd=tmp_path).stdout
    assert "speedup" in out and "last/first generation at batch 1" in out and "paper: 9.71x" in out
    assert "where the time goes" in out


def test_deploy_refuses_a_folder_it_cannot_read(tmp_path):
    out = bench("deploy.py", tmp_path, cwd=tmp_path, ok=False)
    assert out.returncode != 0 and "neither a deploy/ folder" in out.stderr


def test_latency_side_by_side_times_first_and_last_generation_of_published_runs(tmp_path):
    out = bench("latency_side_by_side.py", "--runs", "mnist", "mnist-flops", "--input", "28x28", "--engines",
                "onnxruntime", "--rounds", 1, "--repetitions", 1, "--out", tmp_path / "latency.csv", cwd=ROOT)
    assert out.stdout.count("speed-up") == 2 and "FLOP ratio" in out.stdout
    df = pd.read_csv(tmp_path / "latency.csv")
    assert sorted(zip(df.run, df.generation)) == [("mnist", 1), ("mnist", 13), ("mnist-flops", 1), ("mnist-flops", 13)]
    assert (df.ms > 0).all() and (df.batch_size == 1).all() and set(df.engine) == {"onnxruntime"}
    missing = bench("latency_side_by_side.py", "--runs", "no-such-run", "--input", "28x28", cwd=ROOT, ok=False)
    assert missing.returncode != 0 and "no-such-run" in missing.stderr and "evosynth deploy" in missing.stderr


def test_sweep_matches_the_sequential_runs(tmp_path):
    out = bench("sweep.py", "--runs", 2, "--generations", 1, "--cpus", 2, cwd=tmp_path).stdout
    assert "ratio sequential / sweep" in out and "identical metrics: True" in out
