"""Where the companion's repository is, and how a relative path given by a user is read.

The repository root is ``$EVOSYNTH_ROOT`` when set, else the nearest folder at or above the working directory
that holds ``_config.yml`` and ``profiles/`` (papermill runs the notebooks there; JupyterLab runs them in
``notebooks/``, one level below). A relative path in a parameter (``data_dir``, ``runs_dir``, ``results_dir``)
means the same folder wherever it is run from: relative to that root.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT_ENV = "EVOSYNTH_ROOT"


def repo_root() -> Path:
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).expanduser().resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "profiles").is_dir():
            return folder
    raise FileNotFoundError(f"no evosynth repository (a folder with _config.yml and profiles/) at or above {here}; "
                            f"run from the repository or set {ROOT_ENV}")


def find_repo_root() -> Path | None:
    try:
        return repo_root()
    except FileNotFoundError:
        return None


def resolve(path: str | os.PathLike) -> Path:
    """A path from a parameter: absolute as given (``~`` expanded), relative to the repository root otherwise
    (to the working directory outside a repository)."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    root = find_repo_root()
    return (root / p) if root is not None else p
