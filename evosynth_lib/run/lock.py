"""One writer per run folder: an OS lock (``fcntl.flock``) held while a process writes into a run.

The lock of ``<runs_dir>/<run id>/`` is the file ``<runs_dir>/.locks/<run id>.lock``, outside the run folder
so that deleting the folder never deletes a lock another process holds; lock files are never deleted. The
holder writes its pid and host into the file, so that a process that finds the run locked can say who holds
it. The OS releases the lock when its holder ends, however it ends (killed, out of memory), so there is no
stale lock to clean up. A thread that holds a run's lock may take it again (the inner ``with`` is a no-op);
another thread or process waits for it, or refuses after ``timeout`` seconds.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

from .files import RunStoreError

LOCKS = ".locks"
POLL_S = 0.1

_held: dict[str, list[int]] = {}  # lock file -> [thread id, depth] of this process's holders
_held_guard = threading.Lock()


def lock_path(run_dir: str | os.PathLike) -> Path:
    run_dir = Path(os.path.abspath(run_dir))
    return run_dir.parent / LOCKS / f"{run_dir.name}.lock"


def holder(path: Path) -> str:
    """Who holds the lock file ``path``, as its holder wrote it ("pid 123 on host"), or "an unknown process"."""
    for _ in range(5):  # the holder writes its pid just after it got the lock
        with contextlib.suppress(OSError):
            text = path.read_text().strip()
            if text:
                return text
        time.sleep(POLL_S / 5)
    return "an unknown process"


def holds_lock(run_dir: str | os.PathLike) -> bool:
    """Whether this thread holds the lock of ``run_dir``."""
    with _held_guard:
        entry = _held.get(str(lock_path(run_dir)))
        return entry is not None and entry[0] == threading.get_ident()


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _wait(fd: int, path: Path, run_dir: Path, timeout: float | None) -> None:
    """Get the lock on ``fd``: at once, or after waiting (one line says for whom), or refuse after ``timeout``."""
    if _try_lock(fd):
        return
    who = holder(path)
    if timeout is not None and timeout <= 0:
        raise RunStoreError(f"run {run_dir.name} is being written by {who} (lock {path}); nothing was changed. "
                            f"Try again when that process has ended.")
    limit = "" if timeout is None else f" (at most {timeout:g} s)"
    print(f"run {run_dir.name} is being written by {who}; waiting for it to finish{limit}", file=sys.stderr, flush=True)
    deadline = None if timeout is None else time.monotonic() + timeout
    while not _try_lock(fd):
        if deadline is not None and time.monotonic() >= deadline:
            raise RunStoreError(f"run {run_dir.name} is still being written by {who} after {timeout:g} s of waiting "
                                f"(lock {path}); nothing was changed. Relaunch when that process has ended.")
        time.sleep(POLL_S)


@contextlib.contextmanager
def run_lock(run_dir: str | os.PathLike, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock of ``run_dir`` for the block. ``timeout``: seconds to wait for another holder (``None``:
    forever, ``0``: refuse at once) before raising :class:`RunStoreError`. A lock file that cannot be
    created (a read-only run store) raises :class:`RunStoreError` too."""
    run_dir = Path(os.path.abspath(run_dir))
    path = lock_path(run_dir)
    key = str(path)
    if holds_lock(run_dir):
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    try:
        fd = _open(path)
    except OSError as e:
        raise RunStoreError(f"cannot create the lock file {path} of run {run_dir.name} ({e.strerror}): the run "
                            f"store is not writable here; nothing was changed.") from e
    try:
        _wait(fd, path, run_dir, timeout)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        with _held_guard:
            _held[key] = [threading.get_ident(), 1]
        try:
            yield
        finally:
            with _held_guard:
                del _held[key]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
