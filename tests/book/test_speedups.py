"""The book's deployment sections show only what a published deploy.csv holds, else the command that makes it."""
from __future__ import annotations

import json

import pandas as pd

from evosynth_lib.book import speedups
from evosynth_lib.book.results import Published


def _published(tmp_path, run_id="pennfudan-detectnet-abc"):
    gens = pd.DataFrame({"generation": [1, 2], "synapses": [100, 10]})
    return Published("parse27k", tmp_path, gens, {"dataset": "pennfudan"}, {"run_id": run_id})


def _rows():
    rows = []
    for g, scale in ((1, 1.0), (2, 8.0)):
        for engine, dtype, layout, fps in (("pytorch", "float32", "nchw", 10.0), ("openvino", "bfloat16", "nchw", 40.0)):
            rows.append({"generation": g, "engine": engine, "dtype": dtype, "layout": layout, "batch_size": 1,
                         "input": "160x160", "threads": 1, "fps": fps * scale, "ms_iqr": 0.1,
                         "flops": 1000 / (10 if g == 2 else 1), "max_abs_diff": 0.0 if dtype == "float32" else 0.01,
                         "precision": 0.70 + 0.01 * g, "recall": 0.60, "ms": 1000 / (fps * scale), "align": 8,
                         "channels": "16-32" if g == 1 else "8-8", "precision_used": dtype, "eval_examples": 50,
                         "eval_input": "160x160"})
    return pd.DataFrame(rows)


def _meta(run_id="pennfudan-detectnet-abc"):
    return {"run_id": run_id, "features": {"cpu": "test cpu", "cpu_flags": ["avx512_bf16"]},
            "protocol": {"threads": 1, "warmup": 5, "repetitions": 30, "batch_sizes": [1],
                         "inputs": ["160x160", "480x640"], "camera_frame": "480x640"},
            "half_precision": {"openvino/bfloat16/nchw": "fast: OpenVINO CPU capabilities ['BF16']"},
            "alignment": {"openvino/bfloat16/nchw": {"chosen": 8}}, "evaluation": {"generations": [1, 2]},
            "date": "today", "commit": "0123456789abcdef", "seconds": 1}


def test_without_deploy_csv_the_page_says_so_and_gives_the_command(tmp_path):
    pub = _published(tmp_path)
    assert speedups.load_deploy(pub) is None
    text = speedups.missing_markdown(pub)
    assert "deploy.csv" in text and "python -m evosynth_lib.run.deploy runs/pennfudan-detectnet-abc --out" in text
    assert speedups.show_deployment(pub, "detection") is None


def test_deployed_speedup_table_and_protocol_come_from_the_rows(tmp_path):
    pub = _published(tmp_path)
    _rows().to_csv(tmp_path / "deploy.csv", index=False)
    (tmp_path / "deploy.json").write_text(json.dumps(_meta()))
    df, meta = speedups.load_deploy(pub)
    table = speedups.deployed_speedup_table(df, 37 / 7, "paper (Jetson)")
    ov = table[table["engine"] == "openvino"].iloc[0]
    assert ov["measured speed-up"] == "8.00X" and ov["FLOP ratio (limit)"] == "10.00X"
    assert ov["vs gen 1 fp32 eager NCHW"] == "32.00X" and ov["paper (Jetson)"] == "5.29X"
    assert ov["precision gen 1 -> last"] == "0.710 -> 0.720"
    said = speedups.deployed_speedup_markdown(df, 37 / 7, "paper 2")
    assert "**8.00X** (" in said and "against 5.29X for paper 2" in said
    assert "10.00X fewer FLOPs" in said and "goal" not in said.lower() and "met" not in said
    protocol = speedups.protocol_markdown(meta)
    for words in ("median", "30 passes", "480x640", "1 intra-op thread"):
        assert words in protocol
    assert "avx512" not in protocol and "capabilities" not in protocol  # no hardware dumps in the book
    assert list(speedups.channels_table(df)["channels last"]) == ["8-8", "8-8"]
    assert speedups.show_deployment(pub, "detection") is not None


def test_a_deploy_csv_of_another_run_is_not_shown(tmp_path):
    pub = _published(tmp_path)
    _rows().to_csv(tmp_path / "deploy.csv", index=False)
    (tmp_path / "deploy.json").write_text(json.dumps(_meta("another-run")))
    assert speedups.show_deployment(pub, "detection") is None
