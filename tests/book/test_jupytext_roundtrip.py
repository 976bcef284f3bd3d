"""JupyterLab round trip: `jupytext --sync` (the README's JupyterLab step) leaves the committed sources unchanged."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupytext_sync_leaves_sources_byte_identical(tmp_path, path):
    from jupytext.cli import jupytext as jupytext_cli

    shutil.copy(ROOT / "jupytext.toml", tmp_path)
    (tmp_path / "notebooks").mkdir()
    src = tmp_path / "notebooks" / path.name
    shutil.copy(path, src)
    original = path.read_bytes()

    jupytext_cli(["--sync", str(src)])  # first sync: writes the .ipynb (and rewrites the .py)
    assert src.with_suffix(".ipynb").is_file()
    assert src.read_bytes() == original, f"jupytext --sync rewrote {path.name}"

    # a save in JupyterLab: the .ipynb is newer than the .py, so the next sync writes the .py from it
    later = time.time() + 5
    os.utime(src.with_suffix(".ipynb"), (later, later))
    jupytext_cli(["--sync", str(src)])
    assert src.read_bytes() == original, f"a JupyterLab save (sync from the .ipynb) rewrote {path.name}"
