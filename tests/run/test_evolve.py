"""The evolution loop end to end, the run store, resume and corruption."""
import pandas as pd
import pytest
import torch

from evosynth_lib.config import EvolutionConfig
from evosynth_lib.run import evolve as evolve_module
from evosynth_lib.run.evolve import evolve
from evosynth_lib.run.store import CorruptCheckpointError, load_checkpoint, load_generations

TIMING = ["train_time_s", "wall_time_s", "commit"]


def small(**kw):
    base = dict(dataset="synthetic", generations=3, epochs=1, batch_size=64, lr=0.02, normaliser="quantile",
                device="cpu", synthetic_size=(256, 128))
    return EvolutionConfig(**{**base, **kw})


def test_two_generation_evolution_end_to_end(tmp_path):
    run = evolve(small(generations=2), tmp_path)
    df = pd.read_csv(run / "generations.csv")
    assert list(df.generation) == [1, 2]
    for col in ("synapses", "architectural_efficiency", "accuracy", "cluster_efficiency_conv1",
                "cluster_efficiency", "compact_weights", "flops_compact", "wall_time_s"):
        assert col in df
    assert df.synapses[0] == 430_500 and df.architectural_efficiency[0] == 1.0
    assert df.synapses[1] <= 0.8 * df.synapses[0]
    assert df.architectural_efficiency[1] == pytest.approx(430_500 / df.synapses[1])
    assert (df.compact_max_abs_diff <= 1e-5).all()
    ck = load_checkpoint(run, 2)
    assert set(ck) >= {"model", "masks", "optimizer", "rng", "metrics", "config"}
    for k, m in ck["masks"].items():  # pruned synapses stayed exactly zero through training
        assert bool((ck["model"][k][~m] == 0).all())


def test_resume_equals_uninterrupted(tmp_path):
    cfg = small(fp16=True)
    full = evolve(cfg, tmp_path / "a")
    part = evolve(cfg, tmp_path / "b", stop_after=2)
    assert len(load_generations(part)) == 2
    evolve(cfg, tmp_path / "b")  # relaunch: resumes at generation 3
    a, b = load_generations(full), load_generations(part)
    pd.testing.assert_frame_equal(a.drop(columns=TIMING), b.drop(columns=TIMING))
    ca, cb = load_checkpoint(full, 3), load_checkpoint(part, 3)
    assert all(torch.equal(ca["masks"][k], cb["masks"][k]) for k in ca["masks"])
    assert all(torch.equal(ca["model"][k], cb["model"][k]) for k in ca["model"])


def test_finished_run_is_skipped(tmp_path, monkeypatch):
    run = evolve(small(generations=2), tmp_path)
    before = (run / "generations.csv").read_text()
    monkeypatch.setattr(evolve_module, "make_task", lambda *a: pytest.fail("a finished run was retrained"))
    assert evolve(small(generations=2), tmp_path) == run
    assert (run / "generations.csv").read_text() == before


def test_truncated_checkpoint_is_detected_not_used(tmp_path):
    cfg = small()
    run = evolve(cfg, tmp_path, stop_after=2)
    ck = run / "gen_002.pt"
    ck.write_bytes(ck.read_bytes()[: ck.stat().st_size // 2])
    with pytest.raises(CorruptCheckpointError, match="gen_002.pt"):
        evolve(cfg, tmp_path)
    ck.unlink()
    with pytest.raises(CorruptCheckpointError, match="missing"):
        load_checkpoint(run, 2)


def test_more_generations_extend_a_run(tmp_path):
    run = evolve(small(generations=1), tmp_path)
    assert evolve(small(generations=2), tmp_path) == run
    assert list(load_generations(run).generation) == [1, 2]


def test_corrupt_manifest_is_reported(tmp_path):
    run = evolve(small(generations=1), tmp_path)
    (run / "manifest.json").write_text("{not json")
    with pytest.raises(CorruptCheckpointError, match="manifest"):
        evolve(small(generations=2), tmp_path)


def test_fp16_restriction_and_half_precision_inference(tmp_path):
    from evosynth_lib.core.restriction import is_fp16_representable

    run = evolve(small(generations=2, fp16=True, half_inference=True), tmp_path)
    df = load_generations(run)
    assert "accuracy_fp16" in df  # this CPU runs float16 convolutions (slowly)
    assert (abs(df.accuracy_fp16 - df.accuracy) <= 0.02).all()  # weights are already fp16-exact
    ck = load_checkpoint(run, 2)
    assert all(is_fp16_representable(v) for v in ck["model"].values() if v.is_floating_point())


def test_compute_environment_and_its_structured_baseline_end_to_end(tmp_path):
    """An evolution under the compute environment, then Torch-Pruning's baseline at its FLOPs, through the store."""
    flops = evolve(small(environment="flops", granularity="filter", factor_level="cluster", cap=0.6), tmp_path)
    df = pd.read_csv(flops / "generations.csv")
    assert (df.flops_compact.values[1:] <= 0.6 * df.flops_compact.values[:-1]).all()  # never above the cap
    assert (df.compact_max_abs_diff <= 1e-5).all()
    baseline = evolve(small(pruning="structured", targets=tuple(int(v) for v in df.flops_compact)), tmp_path)
    db = pd.read_csv(baseline / "generations.csv")
    assert (db.flops_compact.values <= df.flops_compact.values).all()  # at (no more than) equal FLOPs
    assert (db.flops_compact.values >= 0.9 * df.flops_compact.values).all()
