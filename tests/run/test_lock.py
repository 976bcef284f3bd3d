"""One writer per run folder (run/lock.py): two processes launched on one run end with one consistent run; a
process holding the lock makes a second writer wait (then continue, or refuse after its timeout), and rewinding
or deleting a locked run is refused."""
import contextlib
import io
import json
import multiprocessing as mp
import os
import threading

import pandas as pd
import pytest

from evosynth_lib.run import store
from evosynth_lib.run.evolve import evolve
from evosynth_lib.run.lock import lock_path, run_lock
from evosynth_lib.run.manifest import CHECKSUM
from evosynth_lib.run.store import RunStoreError, load_generations

from .test_store import TIMING, small


def _evolve_in_child(runs_dir, barrier, out):
    err = io.StringIO()
    try:
        barrier.wait(120)
        with contextlib.redirect_stderr(err):
            evolve(small(), runs_dir, progress=False)
        out.put((os.getpid(), err.getvalue(), None))
    except BaseException as e:  # noqa: BLE001 - reported to the test
        out.put((os.getpid(), err.getvalue(), repr(e)))


def _hold(run_dir, held, release):
    with run_lock(run_dir):
        held.set()
        release.wait(120)


def test_two_processes_on_one_run_end_with_one_consistent_run(tmp_path):
    sequential = evolve(small(), tmp_path / "sequential", progress=False)
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_evolve_in_child, args=(tmp_path / "shared", barrier, out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
    assert [error for _, _, error in results] == [None, None]
    run = store.open_run(store.run_dir_for(small(), tmp_path / "shared"))  # every checkpoint's sha256 verifies
    assert run.done == 3 and CHECKSUM in json.loads((run.path / store.MANIFEST).read_text())
    pd.testing.assert_frame_equal(load_generations(run.path).drop(columns=TIMING),
                                  load_generations(sequential).drop(columns=TIMING))
    # both started together: one trained, the other waited for it (one line naming the run and the holder)
    waited = [(pid, text) for pid, text, _ in results if "waiting" in text]
    assert len(waited) == 1, results
    pid, text = waited[0]
    other = next(p for p, _, _ in results if p != pid)
    assert text.count("\n") == 1 and run.path.name in text and f"pid {other} " in text


def test_a_second_writer_waits_for_the_holder_or_refuses_after_its_timeout(tmp_path, capsys):
    run_dir = evolve(small(), tmp_path, stop_after=2, progress=False)
    ctx = mp.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(run_dir, held, release))
    holder.start()
    try:
        assert held.wait(120)
        assert lock_path(run_dir).parent == tmp_path / ".locks"  # outside the run folder
        assert f"pid {holder.pid} " in lock_path(run_dir).read_text()
        before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
        with pytest.raises(RunStoreError, match=f"run {run_dir.name} is still being written by pid {holder.pid} "):
            evolve(small(), tmp_path, progress=False, lock_timeout=0.5)
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"run {run_dir.name} is being written by pid {holder.pid} " in err
        with pytest.raises(RunStoreError, match=f"run {run_dir.name} is being written by pid {holder.pid} "):
            store.rewind(run_dir, 1)
        with pytest.raises(RunStoreError, match="being written"):
            store.delete_run(run_dir)
        with pytest.raises(RunStoreError, match="being written"):
            store.discard_if_unstarted(run_dir)
        assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before  # nothing was changed
        threading.Timer(1.0, release.set).start()  # the holder ends while a patient writer waits
        evolve(small(), tmp_path, progress=False)
        assert "waiting" in capsys.readouterr().err and store.open_run(run_dir).done == 3
    finally:
        release.set()
        holder.join(60)
