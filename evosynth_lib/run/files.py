"""The run store's file primitives: its errors, sha256, writes that are atomic, and what a full disk looks like.

Every write of the store goes through :func:`write_synced` (into a temporary name, flushed to disk) and then
an atomic rename; :func:`no_space` tells a write that failed because the disk is full from any other failure.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path

from ..hashing import sha256  # noqa: F401  (the store's checksum: files.sha256)
from typing import BinaryIO, Callable

NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
UNWRITABLE_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)
NEARLY_FULL_BYTES = 64 << 20  # less free space than this (or than 1% of the disk) is a full disk


class CorruptCheckpointError(RuntimeError):
    """A file of the run store is missing, truncated or altered; it was not used."""


class RunStoreError(RuntimeError):
    """A run folder is in a state the store refuses to touch (it says what to do)."""


def temp_path(path: Path) -> Path:
    """Where ``path`` is written before its atomic rename."""
    return path.with_name(path.name + ".tmp")


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every platform
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Create ``path``, fill it through ``write(f)`` and flush it to disk."""
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``path`` so that it holds either its old content or ``data``, whatever happens."""
    tmp = temp_path(path)
    write_synced(tmp, lambda f: f.write(data))
    os.replace(tmp, path)
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def no_space(error: BaseException, folder: Path) -> bool:
    """Whether ``error``, raised while writing into ``folder``, means that the disk is full.

    Decided from its errno (or that of the error it was raised from) when it has one; an error without one
    (torch.save's ``RuntimeError: [enforce fail at inline_container.cc] ... unexpected pos``) counts as a
    full disk when ``folder``'s disk has (nearly) no space left. Measure before removing the temporary file.
    """
    for e in (error, error.__cause__, error.__context__):
        if isinstance(e, OSError) and e.errno is not None:
            return e.errno in NO_SPACE_ERRNOS
    if not isinstance(error, (OSError, RuntimeError)):
        return False
    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return False
    return usage.free < max(NEARLY_FULL_BYTES, usage.total // 100)


def unwritable(error: OSError) -> bool:
    """Whether ``error`` says that the file system refuses writes (read-only, no permission)."""
    return isinstance(error, PermissionError) or error.errno in UNWRITABLE_ERRNOS
