"""Structured offspring side by side: the numbers come from the published CSVs, and the rule that names the granularity
which best reproduces "faster at kept accuracy" prefers speed only among granularities that keep their metrics."""
from __future__ import annotations

import json

import pandas as pd

from evosynth_lib.book import granularities
from evosynth_lib.book.results import Published


def _run(tmp_path, name, granularity, factor, precision, recall, fps_last=None, flops_last=None):
    folder = tmp_path / name
    folder.mkdir()
    gens = pd.DataFrame({"generation": [1, 2], "synapses": [100, 10], "precision": precision, "recall": recall})
    run_id = f"id-{name}"
    if fps_last is not None:
        rows = [{"generation": g, "engine": e, "dtype": d, "layout": "nchw", "batch_size": 1, "input": "160x160",
                 "fps": fps, "flops": flops, "max_abs_diff": 0.0, "precision": p, "recall": r}
                for g, fps, flops, p, r in ((1, 10.0, 1000, precision[0], recall[0]),
                                            (2, fps_last, flops_last, precision[1], recall[1]))
                for e, d in (("pytorch", "float32"),)]
        rows += [{**r, "engine": "openvino", "dtype": "bfloat16", "fps": r["fps"] * 3} for r in rows]
        pd.DataFrame(rows).to_csv(folder / "deploy.csv", index=False)
        (folder / "deploy.json").write_text(json.dumps({"run_id": run_id}))
    return Published(name, folder, gens, {"granularity": granularity, "factor_level": factor}, {"run_id": run_id})


def test_summary_reads_synapses_metrics_flops_and_the_best_variant(tmp_path):
    r = _run(tmp_path, "f", "filter", "cluster", [0.7, 0.66], [0.6, 0.62], fps_last=40.0, flops_last=250)
    s = granularities.summary(r)
    assert s["synapse_reduction"] == 10 and s["flop_ratio"] == 4
    assert abs(s["loss"] - 0.04) < 1e-12  # precision fell by 0.04; recall rose (not a loss)
    r.generations["flops_compact"] = [1000, 125]  # the compacted network's FLOPs win over the deployed (padded) ones
    assert granularities.summary(r)["flop_ratio"] == 8
    assert s["speedup"] == 4 and s["vs_baseline"] == 12  # openvino bf16: 120 fps / generation 1's fp32 eager 10
    assert s["vs_baseline_variant"].startswith("openvino bfloat16")
    assert granularities.granularity_name(r) == "filter clusters, factor on clusters (F_c)"


def test_the_fastest_granularity_wins_only_if_it_keeps_its_metrics(tmp_path):
    runs = {"kernel": _run(tmp_path, "kernel", "kernel", "synapse", [0.7, 0.69], [0.6, 0.6], 12.0, 900),
            "filter": _run(tmp_path, "filter", "filter", "synapse", [0.7, 0.67], [0.6, 0.6], 20.0, 500),
            "fast-wrong": _run(tmp_path, "fast", "filter", "cluster", [0.7, 0.5], [0.6, 0.6], 60.0, 100)}
    assert granularities.best_granularity(runs, tolerance=0.05) == "filter"
    assert granularities.best_granularity(runs, tolerance=0.005) == "kernel"  # only the kernel granularity keeps them
    assert granularities.best_granularity({"fast-wrong": runs["fast-wrong"], "filter": runs["filter"]}, 0.001) == "filter"
    table = granularities.granularities_table(runs, 0.05)
    assert list(table["best reproduces the claim"]) == ["", "yes", ""]


def test_a_granularity_without_deploy_csv_says_not_measured(tmp_path):
    runs = {"a": _run(tmp_path, "a", "kernel", "synapse", [0.9, 0.9], [0.8, 0.8]),
            "b": _run(tmp_path, "b", "filter", "synapse", [0.9, 0.9], [0.8, 0.8], 20.0, 500)}
    table = granularities.granularities_table(runs, 0.05)
    assert table.loc[0, "best measured speed-up, same engine"] == "not measured"
    assert list(table["best reproduces the claim"]) == ["", "yes"]
