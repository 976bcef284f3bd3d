"""A reader's check (run/verify.py, `evosynth verify`): reproduced, altered, and across machine kinds."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import platform
import pytest

from evosynth_lib.config import EvolutionConfig
from evosynth_lib.run import verify
from evosynth_lib.run.evolve import evolve
from evosynth_lib.run.store import load_generations
from evosynth_lib.verify_command import main as verify_main

ROOT = Path(__file__).resolve().parents[2]
SMALL = dict(dataset="synthetic", generations=3, epochs=0.5, batch_size=64, lr=0.02, threads=1, device="cpu",
             synthetic_size=(256, 128))


def _published(tmp_path) -> Path:
    """A published folder made by the CLI's publish step from a tiny run computed here."""
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(EvolutionConfig(**SMALL).to_yaml_text())
    out = tmp_path / "results" / "t" / "tiny"
    from evosynth_lib.cli import main as cli_main

    assert cli_main([str(cfg), "--runs-dir", str(tmp_path / "pubruns"), "--publish", str(out)]) == 0
    return out


def test_verification_of_a_run_published_here_is_exact(tmp_path, capsys):
    out = _published(tmp_path)
    code = verify_main([str(out), "--runs-dir", str(tmp_path / "scratch"), "--out", str(tmp_path / "v")])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "tolerance: exact" in text and text.strip().endswith("reproduced exactly")
    doc = json.loads((tmp_path / "v" / "tiny" / "verification.json").read_text())
    assert doc["exact"] and doc["tier"] == "exact"
    assert not (tmp_path / "scratch").samefile(out.parent) and (tmp_path / "scratch").is_dir()


def test_an_altered_published_number_is_named(tmp_path, capsys):
    out = _published(tmp_path)
    df = pd.read_csv(out / "generations.csv")
    df.loc[df.generation == 2, "accuracy"] += 0.0005  # a change smaller than one test image in 128 would be
    df.to_csv(out / "generations.csv", index=False)
    code = verify_main([str(out), "--runs-dir", str(tmp_path / "scratch"), "--generations", "2"])
    text = capsys.readouterr().out
    assert code == 1
    verdict = text.strip().splitlines()[-1]
    assert "differs (exact)" in verdict and "accuracy at generation 2" in verdict and "synapses" not in verdict


def test_verify_never_writes_results_and_estimates_first(tmp_path, capsys):
    out = _published(tmp_path)
    before = {p: p.read_bytes() for p in out.iterdir()}
    assert verify_main([str(out), "--dry-run"]) == 0
    assert "the published run took" in capsys.readouterr().out
    verify_main([str(out), "--runs-dir", str(tmp_path / "scratch"), "--generations", "1"])
    assert {p: p.read_bytes() for p in out.iterdir()} == before


def test_tiers_follow_how_the_machines_differ():
    kind = {"machine": "x86_64", "cpu": "A", "capability": "AVX512", "isa_cap": {}, "native_bf16": False,
            "torch": "2.14.1"}
    side = {"kind": kind, "threads": 1, "device": "cpu", "arithmetic": "fp32"}
    assert verify.relation(side, dict(side)) == "exact"
    assert verify.relation(side, {**side, "kind": {**kind, "cpu": "B"}}) == "same instruction set"
    assert verify.relation(side, {**side, "kind": {**kind, "capability": "AVX2"}}) == "other instruction set or threads"
    assert verify.relation(side, {**side, "threads": 2}) == "other instruction set or threads"
    assert verify.relation(side, {**side, "arithmetic": "bf16"}) == "other arithmetic or unrecorded machine"
    assert verify.relation({**side, "kind": None}, side) == "other arithmetic or unrecorded machine"


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="AVX2 emulation is an x86-64 setting")
def test_an_emulated_avx2_machine_is_judged_by_tolerance(tmp_path):
    """The same run recomputed with torch capped at AVX2 (as on an older CPU) is another machine kind: its
    numbers are judged by that tier's tolerance, not by equality."""
    out = _published(tmp_path)
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "evosynth_lib", "verify", str(out), "--runs-dir",
                           str(tmp_path / "scratch"), "--out", str(tmp_path / "v")], env=env, capture_output=True,
                          text=True, cwd=ROOT, timeout=600)
    doc = json.loads((tmp_path / "v" / "tiny" / "verification.json").read_text())
    assert doc["here"]["kind"]["isa_cap"] == {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert doc["tier"] == "other instruction set or threads", proc.stdout + proc.stderr
    assert doc["within"] and proc.returncode == 0, proc.stdout + proc.stderr


def test_compare_judges_each_kind_of_column_by_its_tolerance():
    pub = pd.DataFrame({"generation": [1, 2], "synapses": [1000, 600], "accuracy": [0.9, 0.91],
                        "train_loss": [0.5, 0.4], "wall_time_s": [1.0, 2.0], "commit": ["a", "a"]})
    ours = pub.assign(synapses=[1000, 604], accuracy=[0.9, 0.915], train_loss=[0.5, 0.41], wall_time_s=[9.0, 9.0],
                      commit=["b", "b"])
    v = verify.compare(pub, ours, "other instruction set or threads")
    cols = v.columns.set_index("column")
    assert set(cols.index) == {"synapses", "accuracy", "train_loss"}  # timings and the commit are not compared
    assert cols.loc["synapses", "difference"] == pytest.approx(4 / 604) and cols.loc["synapses", "within"]
    assert cols.loc["accuracy", "difference"] == pytest.approx(0.005) and cols.loc["accuracy", "within"]
    assert v.within and not v.exact
    strict = verify.compare(pub, ours, "same instruction set")
    assert set(strict.failures["column"]) == {"synapses", "accuracy", "train_loss"}


def test_a_round_off_measurement_is_held_to_its_own_bound_in_every_tier():
    """``compact_max_abs_diff`` measures round-off itself: its last bits may change, not its order of magnitude."""
    pub = pd.DataFrame({"generation": [1, 2], "synapses": [10, 6], "compact_max_abs_diff": [0.0, 2.98e-7]})
    v = verify.compare(pub, pub.assign(compact_max_abs_diff=[0.0, 4.17e-7]), "exact")
    assert v.within and v.exact and v.columns.set_index("column").loc["compact_max_abs_diff", "kind"] == "rounding"
    off = verify.compare(pub, pub.assign(compact_max_abs_diff=[0.0, 3e-4]), "other arithmetic or unrecorded machine")
    assert list(off.failures["column"]) == ["compact_max_abs_diff"]
