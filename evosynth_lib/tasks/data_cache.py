"""Decoded copies of datasets in the cache folder (``data_dir.cache_dir``), used only once verified.

Beside each cache entry (a file, or a folder of files) lies ``<entry>.json``: a fingerprint of the source files
it was made from (their names, sizes and modification times) and the sha256 of each of its files. An entry is
used only when that record is readable, its fingerprint is the source's as it is now and every file still has
its sha256; anything else (no record or an unreadable one, a changed source, a file altered in place, even one
tensor value re-saved) makes the caller rebuild the entry from the source. The cache is keyed by the source's
path, so without this check a damaged copy would silently change results.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Iterable

from ..hashing import sha256


def temp_path(path: Path) -> Path:
    """A temporary name for ``path``, private to this process (two processes may fill the cache at once)."""
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")


def source_fingerprint(sources: Iterable[Path], root: Path) -> str:
    """A hash of the source files' names (relative to ``root``), sizes and modification times."""
    h, prefix = hashlib.sha256(), os.fspath(root) + os.sep
    for name in sorted(map(os.fspath, sources)):  # strings: tens of thousands of files in a second
        st = os.stat(name)
        h.update(f"{name.removeprefix(prefix)}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def record_path(entry: Path) -> Path:
    return entry.with_name(entry.name + ".json")


def verified(entry: Path, members: list[Path], source: str) -> bool:
    """Whether the cache entry ``entry`` (its files ``members``) was made from ``source`` and is unaltered."""
    try:
        record = json.loads(record_path(entry).read_text())
        return record["source"] == source and all(record["sha256"][m.name] == sha256(m) for m in members)
    except (OSError, ValueError, KeyError, TypeError):  # no record, an unreadable one, a missing file
        return False


def seal(entry: Path, members: list[Path], source: str) -> None:
    """Record what ``entry`` was made from and the sha256 of its files (after they are written)."""
    record = {"source": source, "sha256": {m.name: sha256(m) for m in members}}
    tmp = temp_path(record_path(entry))
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(record_path(entry))
