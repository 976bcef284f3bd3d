"""The intro's status table is computed from the results folders that exist (fake ones here, in tmp_path)."""
from __future__ import annotations

import json

import yaml

from evosynth_lib.book import status


def _publish(root, name, generations, dataset="mnist", commit="abcdef1234567890", seed=0):
    d = root / name
    d.mkdir(parents=True)
    rows = ["generation,synapses,architectural_efficiency,accuracy"]
    rows += [f"{g},{1000 // g},{float(g)},0.9" for g in range(1, generations + 1)]
    (d / "generations.csv").write_text("\n".join(rows) + "\n")
    (d / "config.yaml").write_text(yaml.safe_dump({"dataset": dataset, "generations": generations, "epochs": 1.0,
                                                   "first_epochs": 2.0, "seed": seed}))
    (d / "provenance.json").write_text(json.dumps({"commit": commit, "run_commits": [commit], "wall_time_s": 120.0,
                                                   "environment": {"cpu_count": 2}}))


def test_status_rows_follow_the_results_folders(tmp_path):
    results = tmp_path / "results"
    root = results / "quick"  # the quick profile's pages: runs mnist (seeds mnist-seed1/2), stl10, cifar10, parse27k
    _publish(root, "mnist", 13)
    _publish(root, "mnist-seed1", 13, seed=1)
    (root / "cifar10").mkdir(parents=True)
    (root / "cifar10" / "not_run.json").write_text(json.dumps({
        "reason": "The CIFAR-10 data was not found: no cifar-10-batches-py", "command": "make it"}))
    _publish(root, "parse27k", 4, dataset="pennfudan", commit="1234567890abcdef")
    _publish(root, "extra-run", 2, dataset="synthetic")

    rows = {r.experiment: r for r in status.status_rows("quick", results)}
    mnist = rows[status.PAPER1["mnist"]]
    assert mnist.status == "produced"
    assert mnist.runs[0] == "mnist" and "13 generations" in mnist.budget and "2 seeds" in mnist.budget
    assert "`abcdef1234`" in mnist.detail and "CPU x2" in mnist.detail
    assert rows[status.PAPER1["cifar10"]].status == "awaits data"
    assert "make it" in rows[status.PAPER1["cifar10"]].detail
    stl10 = rows[status.PAPER1["stl10"]]  # no folder, and no evolve-stl10 page in profile quick
    assert stl10.status == "not run" and "--profile paper --only evolve-stl10" in stl10.detail
    paper2 = rows[status.PAPER2]
    assert paper2.status == "produced" and "4 generations" in paper2.budget
    assert "stand-in for Parse-27k" in paper2.data
    # the quick profile's ablations and normaliser readings: declared in its pages, absent from the fake results
    ablations = [r for name, r in rows.items() if "ablation" in name]
    assert ablations and all(r.status == "not run" for r in ablations)
    readings = [r for name, r in rows.items() if name.startswith("Normaliser readings")]
    assert len(readings) == 1 and readings[0].status == "not run" and "planned" in readings[0].budget
    assert "normalisation/max" in readings[0].runs and readings[0].detail.startswith("0 of 5 readings")
    assert rows["run `extra-run`"].status == "produced"  # a published run no page names is still listed

    text = status.status_markdown("quick", results)
    assert text.count("**produced**") == 3 and text.count("**awaits data**") == 1
    out = status.write_status("quick", results, out=tmp_path / "status.md")
    assert out.read_text() == text


def test_normaliser_readings_make_one_row(tmp_path):
    root = tmp_path / "results" / "quick" / "normalisation"
    _publish(root, "max", 6)
    _publish(root, "median", 6)
    row = next(r for r in status.status_rows("quick", tmp_path / "results") if r.experiment.startswith("Normaliser"))
    assert row.status == "produced in part" and row.detail.startswith("2 of 5 readings")
    assert "`upper-quartile`" in row.detail  # the first missing one, with why and how to run it


def test_status_of_an_empty_results_folder_is_all_not_run(tmp_path):
    rows = status.status_rows("smoke", tmp_path / "nothing")
    assert rows and all(r.status == "not run" for r in rows)


def test_notebook_defaults_reads_the_parameters_cell():
    defaults = status.notebook_defaults("table1")
    assert defaults["runs"]["mnist"] == "mnist" and "_declared" not in defaults
