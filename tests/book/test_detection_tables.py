"""The detection page's tables: standard errors of precision and recall for every run, AP@0.5 where recorded."""
import math
from pathlib import Path

import pandas as pd
import pytest

from evosynth_lib.book import results, tables

ROOT = Path(__file__).resolve().parents[2]


def _gens(**extra):
    return pd.DataFrame({"generation": [2, 1, 3], "precision": [0.5, 0.75, float("nan")], "recall": [0.25, 0.5, 0.0],
                         "tp": [2, 3, 0], "n_pred": [4, 4, 0], "n_gt": [8, 6, 8], **extra})


def test_standard_errors_are_added_from_the_counts_and_recorded_ones_kept():
    df = tables.with_standard_errors(_gens())
    assert df["precision_se"].tolist()[:2] == pytest.approx([math.sqrt(0.25 / 4), math.sqrt(0.75 * 0.25 / 4)])
    assert math.isnan(df["precision_se"].iloc[2]) and df["recall_se"].iloc[2] == 0.0
    assert df["recall_se"].iloc[0] == pytest.approx(math.sqrt(0.25 * 0.75 / 8))
    recorded = tables.with_standard_errors(_gens(precision_se=[9.0, 9.0, 9.0]))
    assert (recorded["precision_se"] == 9.0).all()
    no_counts = pd.DataFrame({"generation": [1], "accuracy": [0.9]})
    assert list(tables.with_standard_errors(no_counts)) == ["generation", "accuracy"]
    assert {"precision_se", "recall_se"} <= set(tables.summary_table(df))


def test_errors_table_first_and_last_generation_with_ap_only_where_recorded():
    t = tables.detection_errors({"old": _gens(), "new": _gens(ap50=[0.4, 0.61234, 0.0], ap50_se=[0.1, 0.05, 0.0])})
    assert list(t.index) == [("old", 1), ("old", 3), ("new", 1), ("new", 3)]
    assert t.loc[("old", 1), "precision ± SE"] == f"0.750 ± {math.sqrt(0.75 * 0.25 / 4):.3f}"
    assert t.loc[("old", 3), "precision ± SE"] == "n/a" and t.loc[("old", 3), "recall ± SE"] == "0.000 ± 0.000"
    assert t.loc[("old", 1), "AP@0.5 ± SE"] == "not recorded"
    assert t.loc[("new", 1), "AP@0.5 ± SE"] == "0.612 ± 0.050"
    one = tables.detection_errors({"short": _gens().iloc[[1]]})
    assert list(one.index) == [("short", 1)]


def test_every_published_detection_run_gets_its_standard_errors():
    names = sorted(p.name for p in (ROOT / "results" / "quick").glob("parse27k*") if (p / "generations.csv").is_file())
    if not names:
        pytest.skip("no published detection runs")
    runs = {n: results.load_published("quick", n, ROOT / "results") for n in names}
    runs = {n: r for n, r in runs.items() if isinstance(r, results.Published)}
    t = tables.detection_errors(runs)
    assert set(t.index.get_level_values("run")) == set(runs)
    for n, r in runs.items():
        first = r.generations.sort_values("generation").iloc[0]
        p, k = first["precision"], first["n_pred"]
        assert t.loc[(n, int(first["generation"])), "precision ± SE"] == f"{p:.3f} ± {math.sqrt(p * (1 - p) / k):.3f}"
    if "parse27k" in runs and "ap50" not in runs["parse27k"].generations:  # the published seed-0 run, as published
        assert t.loc[("parse27k", 1), "precision ± SE"] == "0.706 ± 0.044"
        assert t.loc[("parse27k", 1), "AP@0.5 ± SE"] == "not recorded"
