"""The run store is crash-consistent: a kill at any point of a generation's commit, then a relaunch, ends exactly
as an uninterrupted run; corrupt, truncated or missing files are refused (never used, never overwritten); a full
disk stops a run with its finished generations intact; a store that cannot be written still serves finished runs."""
import errno
import json
import os
import shutil
from collections import namedtuple

import pandas as pd
import pytest
import torch

from evosynth_lib.config import EvolutionConfig
from evosynth_lib.run import files, lock, store
from evosynth_lib.run.evolve import evolve
from evosynth_lib.run.store import CorruptCheckpointError, RunStoreError, load_checkpoint, load_generations

TIMING = ["train_time_s", "wall_time_s", "commit"]
DiskUsage = namedtuple("DiskUsage", "total used free")  # shutil.disk_usage's


def small(**kw):
    base = dict(dataset="synthetic", generations=3, epochs=0.5, batch_size=64, lr=0.02, normaliser="quantile",
                quantile=0.75, device="cpu", synthetic_size=(192, 96), threads=1)
    return EvolutionConfig(**{**base, **kw})


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not even ``except Exception`` handlers)."""


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return evolve(small(), tmp_path_factory.mktemp("full"), progress=False)


def assert_same_run(a, b):
    pd.testing.assert_frame_equal(load_generations(a).drop(columns=TIMING), load_generations(b).drop(columns=TIMING))
    assert (a / store.CSV).read_text().count("\n") == (b / store.CSV).read_text().count("\n")
    for g in (1, 2, 3):
        ca, cb = load_checkpoint(a, g), load_checkpoint(b, g)
        assert all(torch.equal(ca["masks"][k], cb["masks"][k]) for k in ca["masks"])
        assert all(torch.equal(ca["model"][k], cb["model"][k]) for k in ca["model"])


# Kill windows while generation 2 is committed: (function patched, which call of it raises, when).
# os.replace calls in save_generation: 1 checkpoint, 2 manifest, 3 CSV.
KILL_WINDOWS = {
    "mid-training": ("train", 1, "before"),
    "while the checkpoint is written": ("torch.save", 1, "during"),
    "checkpoint written, not renamed": ("os.replace", 1, "before"),
    "checkpoint renamed, manifest not written": ("os.replace", 1, "after"),
    "manifest written, not renamed": ("os.replace", 2, "before"),
    "manifest renamed, CSV not rewritten": ("os.replace", 2, "after"),
    "CSV written, not renamed": ("os.replace", 3, "before"),
    "just after the generation": ("os.replace", 3, "after"),
}


@pytest.mark.parametrize("window", list(KILL_WINDOWS))
def test_kill_at_any_point_then_relaunch_is_exact(window, tmp_path, monkeypatch, uninterrupted):
    target, nth, when = KILL_WINDOWS[window]
    cfg = small()
    evolve(cfg, tmp_path, stop_after=1, progress=False)  # generation 1 committed
    calls = {"n": 0}

    def wrap(real):
        def patched(*a, **k):
            calls["n"] += 1
            if calls["n"] == nth and when == "before":
                raise Killed
            if calls["n"] == nth and when == "during":
                f = a[1]
                f.write(b"partial")
                raise Killed
            out = real(*a, **k)
            if calls["n"] == nth and when == "after":
                raise Killed
            return out
        return patched

    with monkeypatch.context() as m:
        if target == "os.replace":
            m.setattr(store.os, "replace", wrap(os.replace))
        elif target == "torch.save":
            m.setattr(store.torch, "save", wrap(torch.save))
        else:
            from evosynth_lib.tasks.classification.task import ClassificationTask

            m.setattr(ClassificationTask, "train", wrap(ClassificationTask.train))
        with pytest.raises(Killed):
            evolve(cfg, tmp_path, progress=False)
    run = evolve(cfg, tmp_path, progress=False)  # relaunch
    assert_same_run(uninterrupted, run)


def _finished(tmp_path):
    return evolve(small(), tmp_path, progress=False)


@pytest.mark.parametrize("which,damage", [(3, "truncate"), (3, "flip"), (1, "flip"), (2, "delete")])
def test_damaged_checkpoint_is_refused_even_in_a_finished_run(which, damage, tmp_path):
    run = _finished(tmp_path)
    ck = run / store.checkpoint_name(which)
    data = bytearray(ck.read_bytes())
    if damage == "truncate":
        ck.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        data[len(data) // 3] ^= 0x01
        ck.write_bytes(bytes(data))
    else:
        ck.unlink()
    for open_it in (lambda: evolve(small(), tmp_path, progress=False), lambda: load_generations(run),
                    lambda: evolve(small(generations=4), tmp_path, progress=False)):
        with pytest.raises(CorruptCheckpointError, match=store.checkpoint_name(which)):
            open_it()
    assert "--rewind" in str(pytest.raises(CorruptCheckpointError, load_generations, run).value)


def test_rewind_recomputes_the_damaged_generations(tmp_path, uninterrupted):
    run = _finished(tmp_path)
    (run / store.checkpoint_name(3)).write_bytes(b"garbage")
    store.rewind(run, 2)
    assert_same_run(uninterrupted, evolve(small(), tmp_path, progress=False))


def test_short_or_damaged_csv_is_rebuilt_from_the_manifest(tmp_path, uninterrupted):
    run = _finished(tmp_path)
    good = (run / store.CSV).read_text()
    lines = good.splitlines(keepends=True)
    (run / store.CSV).write_text("".join(lines[:-1]))  # a dropped row
    assert len(load_generations(run)) == 3 and (run / store.CSV).read_text() == good
    (run / store.CSV).unlink()
    evolve(small(), tmp_path, progress=False)  # a finished run: nothing trains, the CSV comes back
    assert (run / store.CSV).read_text() == good


def test_missing_manifest_is_refused_never_overwritten(tmp_path):
    run = _finished(tmp_path)
    (run / store.MANIFEST).unlink()
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(RunStoreError, match="no manifest.json"):
        evolve(small(), tmp_path, progress=False)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_unreadable_manifest_is_refused(tmp_path):
    run = _finished(tmp_path)
    (run / store.MANIFEST).write_text("{not json")
    with pytest.raises(CorruptCheckpointError, match="manifest"):
        evolve(small(), tmp_path, progress=False)
    manifest = {"generations": [{"generation": 2}]}  # a hole: generation 1 missing
    (run / store.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CorruptCheckpointError, match="manifest"):
        load_generations(run)


def test_failed_start_leaves_no_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("EVOSYNTH_DATA", raising=False)
    cfg = EvolutionConfig(dataset="mnist", generations=2, data_dir=str(tmp_path / "no-data"))
    with pytest.raises(FileNotFoundError, match="EVOSYNTH_DATA"):
        evolve(cfg, tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs" / cfg.run_id()).exists()
    with pytest.raises(FloatingPointError):  # a first generation that fails while training
        evolve(small(lr=1e9, epochs=4), tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs" / small(lr=1e9, epochs=4).run_id()).exists()


def test_threads_are_recorded_and_a_resume_keeps_them(tmp_path, uninterrupted):
    run = evolve(small(), tmp_path, stop_after=1, progress=False)
    assert json.loads((run / store.MANIFEST).read_text())["settings"]["threads"] == 1
    with pytest.raises(RunStoreError, match="threads=1"):
        evolve(small(threads=2), tmp_path, progress=False)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:  # no explicit setting: the resume runs at the recorded one (1), whatever the process default
        assert_same_run(uninterrupted, evolve(small(threads=None), tmp_path, progress=False))
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("refused", ["run folder", "run store"])
def test_a_finished_run_opens_from_a_store_that_cannot_be_written(refused, tmp_path, monkeypatch, uninterrupted):
    run = shutil.copytree(uninterrupted, tmp_path / uninterrupted.name)
    short = (run / store.CSV).read_text().splitlines(keepends=True)[0]
    (run / store.CSV).write_text(short)  # a CSV the store would repair, if it could write
    read_only = [run] if refused == "run folder" else [run, tmp_path]
    for folder in read_only:
        folder.chmod(0o555)
    try:
        if os.access(run, os.W_OK):  # root ignores the modes: refuse the writes as a read-only mount would
            if refused == "run folder":
                def refuse(path, text):
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

                monkeypatch.setattr(store, "atomic_write_text", refuse)
            else:
                def refuse(path):
                    raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

                monkeypatch.setattr(lock, "_open", refuse)
        pd.testing.assert_frame_equal(load_generations(run), load_generations(uninterrupted))
        assert evolve(small(), tmp_path, progress=False) == run  # finished: returned, nothing to write
        assert (run / store.CSV).read_text() == short
    finally:
        for folder in read_only:
            folder.chmod(0o755)


@pytest.mark.parametrize("target", ["gen_002.pt", "manifest.json", "gen_002.pt by torch.save"])
def test_a_full_disk_stops_the_run_with_its_generations_intact_and_it_resumes_exactly(target, tmp_path, monkeypatch,
                                                                                        uninterrupted):
    cfg = small()
    run = evolve(cfg, tmp_path, stop_after=1, progress=False)
    name = target.split()[0]
    real = files.write_synced

    def full(path, write):
        if path.name != name + ".tmp":
            return real(path, write)
        path.write_bytes(b"partial")
        if "torch.save" in target:  # no errno: the disk's free space decides
            raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 4096 vs 1024")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    with monkeypatch.context() as m:
        m.setattr(files, "write_synced", full)
        m.setattr(files.shutil, "disk_usage", lambda p: DiskUsage(1 << 30, (1 << 30) - 4096, 4096))
        with pytest.raises(RunStoreError) as e:
            evolve(cfg, tmp_path, progress=False)
    assert str(e.value) == (f"no space left on device while writing {run / name}: generations 1..1 of {run.name} "
                            f"are intact; free space and relaunch to resume")
    assert not list(run.glob("*.tmp")) and store.open_run(run).done == 1  # nothing committed
    assert_same_run(uninterrupted, evolve(cfg, tmp_path, progress=False))



def test_a_write_error_is_a_full_disk_by_its_errno_else_by_the_free_space(tmp_path, monkeypatch):
    torch_error = RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 4096 vs 1024")
    monkeypatch.setattr(files.shutil, "disk_usage", lambda p: DiskUsage(1 << 40, (1 << 40) - (1 << 20), 1 << 20))
    assert files.no_space(torch_error, tmp_path) and files.no_space(OSError(errno.ENOSPC, "full"), tmp_path)
    assert not files.no_space(OSError(errno.EIO, "I/O error"), tmp_path)  # the errno decides, not the free space
    monkeypatch.setattr(files.shutil, "disk_usage", lambda p: DiskUsage(1 << 40, 1 << 39, 1 << 39))
    assert not files.no_space(torch_error, tmp_path) and files.no_space(OSError(errno.ENOSPC, "full"), tmp_path)
