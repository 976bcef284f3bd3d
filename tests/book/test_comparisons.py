"""Table 1's selection rule and the baseline verdict, on fake published runs."""
from pathlib import Path

import pandas as pd

from evosynth_lib.book import comparisons
from evosynth_lib.book.results import Published


def _run(name, synapses, accuracy, val=None, **config):
    df = pd.DataFrame({"generation": range(1, len(synapses) + 1), "synapses": synapses, "accuracy": accuracy,
                       "architectural_efficiency": [synapses[0] / s for s in synapses]})
    if val is not None:
        df["val_accuracy"] = val
    return Published(name, Path(name), df, {"validation": 100, **config}, {})


def test_the_rule_picks_the_best_validation_accuracy_among_those_reaching_the_required_efficiency():
    runs = {"a": _run("a", [100, 10], [0.9, 0.99], [0.9, 0.80]),   # 10X, best test accuracy (ignored)
            "b": _run("b", [100, 20], [0.9, 0.50], [0.9, 0.95]),   # 5X: below the required efficiency
            "c": _run("c", [100, 8], [0.9, 0.10], [0.9, 0.85])}    # 12.5X, best validation among those >= 10X
    assert comparisons.chosen(runs, min_efficiency=10) == "c"
    assert comparisons.chosen(runs, min_efficiency=50) == "c"  # none reaches: the highest efficiency
    table = comparisons.selection_table(runs, 10)
    assert list(table["chosen"]) == ["", "", "yes"]


def test_verdict_pairs_runs_at_equal_synapses_only():
    ours = _run("ours", [100, 50, 25], [0.9, 0.9, 0.8])
    methods = {"evolutionary synthesis": [ours],
               "magnitude pruning": [_run("m", [100, 50, 25], [0.9, 0.95, 0.7])],
               "own counts": [_run("o", [100, 60, 30], [0.9, 0.9, 0.9])]}
    text = comparisons.verdict(methods)
    assert "its run was pruned to the synapse counts of our seed-" in text and "compared with that run only" in text
    assert "more accurate on average (+0.0250; evolutionary synthesis more accurate in 1 of 2 pairs" in text
    assert "from -0.0500 to +0.1000" in text and "0.8000; magnitude pruning 0.7000" in text
    # own counts: A-E 1, 1.67, 3.33 against ours' 1, 2, 4; ours interpolated in log A-E at 3.33X:
    # 0.9 - 0.1 * log(3.33 / 2) / log 2 = 0.8263 against its 0.9; at 1.67X: 0.9 against 0.9 (no win)
    assert ("own counts: its own synapse counts. In the same 3 generations it reaches 3.3X, evolutionary "
            "synthesis 4.0X") in text
    assert "less accurate on average (-0.0368; more accurate at 0 of 2 generations)" in text
    assert "at its generation 3 (3.3X): 0.8263 against its 0.9000" in text
    beyond = {"evolutionary synthesis": [ours], "own counts": [_run("o", [100, 20, 10], [0.9, 0.9, 0.9])]}
    assert "their efficiencies do not overlap beyond generation 1" in comparisons.verdict(beyond)
    assert "no run of evolutionary synthesis" in comparisons.verdict({"own counts": beyond["own counts"]})


def test_verdict_words_follow_the_sign_and_name_the_pairing():
    ours = [_run("ours", [100, 50, 25], [0.9, 0.8, 0.7], seed=0), _run("ours1", [100, 40, 20], [0.9, 0.9, 0.9], seed=1)]
    base = [_run(f"r{s}", [100, 50, 25], [0.9, 0.85, 0.75], seed=s) for s in range(3)]  # all pruned to seed 0's counts
    text = comparisons.verdict({"evolutionary synthesis": ours, "random pruning": base})
    assert "less accurate on average (-0.0500" in text and "more accurate in 0 of 6 pairs" in text
    assert "its 3 runs were pruned to the synapse counts of our seed-0 run" in text and "seed 0, 0.7000" in text
    assert "0.7500 ± 0.0000 (mean of its 3 runs)" in text
    assert "all paired seeds" not in text and "(s)" not in text


def test_budget_says_what_the_run_used_without_goals():
    run = _run("c", [100, 50, 7], [0.87, 0.86, 0.84], train_subset=10000, first_epochs=4.0, epochs=1.0)
    run.provenance.update({"wall_time_s": 7200.0, "run_settings": {"threads": 2}, "run_environment": {"cpu_count": 2}})
    text = comparisons.budget(run)
    assert "a fixed subset of 10,000 training images" in text and "2.00 h" in text and "2 threads" in text
    assert "goal" not in text.lower() and "(s)" not in text


def _structured(tmp_path, name, synapses, accuracy, clusters, flops, fps=None):
    run = _run(name, synapses, accuracy)
    run.generations["cluster_efficiency"] = clusters
    run.generations["flops_compact"] = flops
    run.path = tmp_path / name
    run.path.mkdir()
    if fps is not None:
        pd.DataFrame({"generation": range(1, len(fps) + 1), "fps_compact_b1": fps,
                      "fps_compact_b64": [2 * f for f in fps],
                      "fps_masked_b1": [9.0, 10.0, 11.0], "fps_masked_b64": [20.0, 20.0, 20.0]}
                     ).to_csv(run.path / "speed.csv", index=False)
    return run


def test_structure_table_and_verdict_say_what_equal_synapses_leave_as_structure(tmp_path):
    ours = _structured(tmp_path, "ours", [100, 50, 25], [0.9, 0.9, 0.8], [1.0, 2.0, 8.0], [1000, 400, 100],
                       fps=[10.0, 20.0, 40.0])
    mag = [_structured(tmp_path, f"m{s}", [100, 50, 25], [0.9, 0.95, a], [1.0, 1.5, 3.0], [1000, 800, 500])
           for s, a in enumerate([0.7, 0.9])]
    methods = {"evolutionary synthesis": [ours], "magnitude pruning": mag}
    table = comparisons.structure_table(methods).set_index("method")
    assert table.loc["evolutionary synthesis", "fewer dense FLOPs (compacted)"] == "10.00x"
    assert table.loc["evolutionary synthesis", "speed-up, batch 1"] == "4.00x"
    assert table.loc["evolutionary synthesis", "speed-up, batch 64"] == "4.00x"
    assert table.loc["magnitude pruning", "fewer dense FLOPs (compacted)"] == "2.00x"
    assert table.loc["magnitude pruning", "speed-up, batch 1"] == "not measured"
    assert table.loc["magnitude pruning", "accuracy"] == "0.8000 ± 0.1414" and table.loc["magnitude pruning", "n"] == 2
    assert table.loc["magnitude pruning", "cluster efficiency E"] == "3.00"
    assert "its network needs 5.00x the dense FLOPs of ours" in comparisons.verdict(methods)
    assert "within ±10% of their median at batch 1 and ±0% at batch 64" in comparisons.timing_spread(methods)
    assert comparisons.timing_spread({"magnitude pruning": mag}).startswith("No speed measurements")
