"""The reproducibility page's readings: each run's arithmetic, published verifications, the other-arithmetic re-run."""
import json
from pathlib import Path

import pandas as pd

from evosynth_lib.book import reproduction

ROOT = Path(__file__).resolve().parents[2]


def test_arithmetic_is_the_recorded_one_else_the_configs():
    assert reproduction.arithmetic_of({"run_settings": {"arithmetic": "fp32"}}, {"precision": "bf16"}) == "fp32"
    assert reproduction.arithmetic_of({"run_settings": {"threads": 2}}, {"precision": "bf16"}) == "bf16"
    assert reproduction.arithmetic_of({}, {}) == "fp32"


def _doc(seed, syn_pub, syn_here, acc_pub, acc_here):
    g = pd.DataFrame({"generation": [1, 2], "synapses published": syn_pub, "synapses here": syn_here,
                      "accuracy published": acc_pub, "accuracy here": acc_here})
    return {"name": f"quick/mnist-{seed}", "seed": seed, "per_generation": g,
            "published_settings": {"arithmetic": "bf16"}, "settings": {"arithmetic": "fp32"}}


def test_arithmetic_comparison_averages_over_seeds_with_the_extremes():
    docs = [_doc(0, [1000, 600], [1000, 606], [0.9, 0.95], [0.9, 0.94]),
            _doc(1, [1000, 500], [1000, 495], [0.9, 0.93], [0.9, 0.95])]
    t = reproduction.arithmetic_comparison(docs).set_index("Generation")
    assert t.loc[2, "Synapses, bf16"] == "550" and t.loc[2, "Synapses, fp32"] == "550"
    assert t.loc[2, "Synapse change"] == "+0.0% (-1.0 to +1.0)"
    assert t.loc[2, "Accuracy change"] == "+0.0050 (-0.0100 to +0.0200)"
    assert t.loc[1, "Synapse change"] == "+0.0% (+0.0 to +0.0)"


def test_the_published_reference_verifications_are_read():
    docs = reproduction.published_verifications(ROOT / "results" / "reference" / "verify")
    assert {d["label"] for d in docs} >= {"this-machine", "emulated-avx2"}
    summary = reproduction.verification_summary(docs)
    verdicts = dict(zip(summary["Tolerance"], summary["Verdict"]))
    assert verdicts["exact"] == "reproduced exactly"
    assert "within the tolerance" in verdicts["other instruction set or threads"]
    avx2 = next(d for d in docs if d["label"] == "emulated-avx2")
    assert avx2["here"]["kind"]["isa_cap"] == {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert json.loads(json.dumps(avx2["published"]))["kind"]["capability"] == "AVX512"
