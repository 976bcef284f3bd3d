"""Many evolutions at once on Ray (run/sweep.py, the sweep command): exact, resumable after a killed worker,
checked before anything starts, finished runs skipped (without importing Ray when all are).

One local Ray instance (2 CPUs) serves every test of this file; the runs are smoke-sized, at 1 thread.
"""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from evosynth_lib import sweep_command as sweep_cli
from evosynth_lib.config import ConfigError, EvolutionConfig
from evosynth_lib.run.evolve import evolve
from evosynth_lib.run.store import load_checkpoint, load_generations, run_dir_for
from evosynth_lib.run.sweep import Evolution, _finished, outcome_table, sweep

ray = pytest.importorskip("ray")


@pytest.fixture(scope="session")
def local_ray():
    """One local Ray instance for the whole file (starting one takes seconds); the sweep uses it, leaves it up."""
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield
    ray.shutdown()


def smoke(**kw) -> EvolutionConfig:
    base = dict(dataset="synthetic", model="lenet5", generations=3, epochs=0.5, batch_size=32,
                synthetic_size=(128, 64), device="cpu", threads=1)
    return EvolutionConfig(**{**base, **kw})


def timing(column: str) -> bool:
    return column.endswith(("_seconds", "_s")) or column.startswith("fps_") or column == "commit"


def assert_same_run(a: Path, b: Path, generations: int) -> None:
    """Every metric (timings aside), every mask and every weight of two runs are identical."""
    da, db = load_generations(a), load_generations(b)
    keep = [c for c in da.columns if not timing(c)]
    assert len(da) == generations
    pd.testing.assert_frame_equal(da[keep], db[keep], check_exact=True)
    for g in range(1, generations + 1):
        ca, cb = load_checkpoint(a, g), load_checkpoint(b, g)
        assert all(torch.equal(ca["masks"][k], cb["masks"][k]) for k in ca["masks"]), f"masks of generation {g}"
        assert all(torch.equal(ca["model"][k], cb["model"][k]) for k in ca["model"]), f"weights of generation {g}"


def test_two_evolutions_in_parallel_equal_sequential_runs(local_ray, tmp_path):
    configs = [smoke(seed=0), smoke(seed=1, fp16=True)]
    outcomes = sweep([Evolution(f"s{i}", c) for i, c in enumerate(configs)], tmp_path / "sweep", progress=False)
    assert [o.status for o in outcomes] == ["finished", "finished"], outcome_table(outcomes)
    for config, out in zip(configs, outcomes):
        assert out.done == 3 and out.run_dir == run_dir_for(config, (tmp_path / "sweep").resolve())
        assert_same_run(out.run_dir, evolve(config, tmp_path / "sequential", progress=False), 3)


def _worker_running(task: str = "run_evolution") -> int | None:
    """The pid of the Ray worker executing ``task`` (Ray titles it ``ray::<task>``)."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "cmdline").read_bytes().startswith(f"ray::{task}".encode()):
                    return int(proc.name)
            except OSError:
                continue
    return None


def test_killed_worker_is_retried_and_resumes_exactly(local_ray, tmp_path):
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("finds the worker through /proc")
    config = smoke(generations=4, epochs=1.0, synthetic_size=(256, 64), seed=3)
    run_dir = run_dir_for(config, tmp_path.resolve() / "sweep")
    killed = {}

    def kill_after_generation_1():
        deadline = time.time() + 60
        while time.time() < deadline and _finished(run_dir) < 1:
            time.sleep(0.01)
        pid = _worker_running()
        if pid is not None and _finished(run_dir) < config.generations:
            killed.update(pid=pid, at=_finished(run_dir))
            os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_after_generation_1)
    killer.start()
    [out] = sweep([Evolution("killed", config)], tmp_path / "sweep", max_retries=2, progress=False)
    killer.join()
    assert killed, "the worker was not found running after generation 1"
    assert out.status == "resumed" and out.retried and out.resumed_from >= killed["at"] >= 1, outcome_table([out])
    assert "(retried)" in outcome_table([out])
    assert_same_run(run_dir, evolve(config, tmp_path / "sequential", progress=False), 4)


def test_a_bad_configuration_fails_before_any_task_starts(local_ray, tmp_path):
    good, bad = smoke(), smoke(lr=-1.0)
    with pytest.raises(ConfigError, match=r"^run second \(b.yaml\): invalid lr=-1.0: must be a number > 0$"):
        sweep([Evolution("first", good), Evolution("second", bad, "b.yaml")], tmp_path / "runs")
    with pytest.raises(ConfigError, match="run twin: same evolution as run first"):
        sweep([Evolution("first", good), Evolution("twin", good.replace(generations=5))], tmp_path / "runs")
    with pytest.raises(ConfigError, match=r"run first: invalid device='cuda': its task gets no GPU"):
        sweep([Evolution("first", good.replace(device="cuda"))], tmp_path / "runs")
    with pytest.raises(ConfigError, match="invalid cpus_per_run=0"):
        sweep([Evolution("first", good)], tmp_path / "runs", cpus_per_run=0)
    assert not (tmp_path / "runs").exists()  # nothing started, nothing written
    evolve(good, tmp_path / "started", stop_after=1, progress=False)  # a started run keeps its thread count
    with pytest.raises(ConfigError, match=r"run first: invalid threads=2: .* computed with threads=1"):
        sweep([Evolution("first", good)], tmp_path / "started", threads=2)
    assert _finished(run_dir_for(good, tmp_path / "started")) == 1


def test_a_finished_run_is_skipped_without_training(local_ray, tmp_path):
    config = smoke(generations=1)
    run = evolve(config, tmp_path, progress=False)
    stamps = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    [out] = sweep([Evolution("done", config)], tmp_path, progress=False)
    assert out.status == "skipped" and out.done == 1 and out.resumed_from is None
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == stamps  # not even opened for writing


def make_profile(root: Path, seeds: str = "[0, 1]") -> None:
    """A repository with one profile ``t`` whose page ``evolve-synthetic`` has a smoke evolution per seed."""
    (root / "_config.yml").write_text("title: t\n")
    (root / "profiles" / "t").mkdir(parents=True)
    (root / "profiles" / "t" / "evolve-synthetic.yaml").write_text(
        "profile: t\ndataset: synthetic\nmodel: lenet5\ngenerations: 2\nepochs: 0.5\nbatch_size: 32\n"
        f"synthetic_size: [128, 64]\ndevice: cpu\nthreads: 1\nseeds: {seeds}\n")


def test_finished_runs_and_published_results_never_import_ray(tmp_path, monkeypatch):
    """`make book` on committed results: train_missing finds nothing to train, and Ray is never imported."""
    from evosynth_lib.book import results

    make_profile(tmp_path, "[0]")
    monkeypatch.setenv("EVOSYNTH_ROOT", str(tmp_path))
    [ev] = results.profile_evolutions("t")
    results.publish_run(evolve(ev.config, tmp_path / "runs", progress=False), tmp_path / "results" / "t" / ev.name)
    code = ("import sys\n"
            "from evosynth_lib.book.missing import profile_evolutions, train_missing\n"
            "from evosynth_lib.run.sweep import sweep\n"
            "assert train_missing('t', ['evolve-synthetic']) == []\n"
            "[out] = sweep(profile_evolutions('t'), 'runs')\n"
            "assert out.status == 'skipped', out\n"
            "assert 'ray' not in sys.modules, 'ray was imported'\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


def test_command_line_table_and_exit_status(local_ray, tmp_path, capsys):
    good = tmp_path / "good.yaml"
    smoke(generations=2).to_yaml(good)
    missing = tmp_path / "nodata.yaml"
    smoke(dataset="mnist", data_dir=str(tmp_path / "no-data")).to_yaml(missing)
    runs = str(tmp_path / "runs")
    assert sweep_cli.main([str(good), "--set", "seed=-1", "--runs-dir", runs]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "invalid seed=-1" in err and "good.yaml" in err
    assert sweep_cli.main([str(good), str(missing), "--runs-dir", runs, "--no-progress"]) == 1
    table = capsys.readouterr().out.splitlines()
    assert table[1].split()[:4] == ["good", smoke(generations=2).run_id(), "finished", "2/2"]
    assert table[2].split()[2] == "failed" and "DataNotFoundError" in table[2]
    assert table[-1] == "1 finished, 1 failed"
    assert sweep_cli.main([str(good), "--only", "good", "--runs-dir", runs, "--no-progress"]) == 0
    assert "1 skipped" in capsys.readouterr().out
    assert sweep_cli.main([str(good), "--only", "nope", "--runs-dir", runs]) == 2
    assert "--only nope: not in the set" in capsys.readouterr().err


def test_the_book_trains_missing_results_through_the_sweep(local_ray, tmp_path, monkeypatch):
    """book.results.train_missing: the profile's unpublished evolutions at once; the pages then only publish."""
    from evosynth_lib.book import missing, results
    from evosynth_lib.run import evolve as evolve_module

    make_profile(tmp_path)
    monkeypatch.setenv("EVOSYNTH_ROOT", str(tmp_path))
    evolutions = results.profile_evolutions("t")
    assert [ev.name for ev in evolutions] == ["synthetic", "synthetic-seed1"]
    outcomes = missing.train_missing("t", ["evolve-synthetic"], runs_dir="runs", results_dir="results", jobs=2)
    assert [o.status for o in outcomes] == ["finished", "finished"]
    monkeypatch.setattr(evolve_module, "make_task", lambda *a: pytest.fail("the page trained again"))
    for ev in evolutions:  # the pages show the finished runs as local runs, or publish them when asked to
        assert results.ensure_results(ev.config, "t", ev.name, "runs", "results").local
    assert missing.train_missing("t", ["evolve-synthetic"], runs_dir="runs", results_dir="results") == []
    for ev in evolutions:
        assert not results.ensure_results(ev.config, "t", ev.name, "runs", "results", publish=True).local
    assert missing.train_missing("t", ["evolve-synthetic"], runs_dir="runs", results_dir="results") == []
