"""Where the companion's files are: the repository (found from the working directory, not from this
package's location, so an installed package works too), its profiles, published results, run store and log.

The repository root is ``$EVOSYNTH_ROOT`` when set, else the nearest folder at or above the working directory
that holds ``_config.yml`` and ``profiles/`` (papermill runs the notebooks there; JupyterLab runs them in
``notebooks/``, one level below).
"""
from __future__ import annotations

import os
from pathlib import Path

from ..locations import ROOT_ENV, repo_root, resolve  # noqa: F401  (the one definition)


def relative(path: str | os.PathLike) -> Path:
    """``path`` relative to the repository root when inside it (for messages and provenance)."""
    p = Path(path).resolve()
    try:
        return p.relative_to(repo_root())
    except (ValueError, FileNotFoundError):
        return p


def profiles_dir() -> Path:
    return repo_root() / "profiles"


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def executed_dir() -> Path:
    """Where ``python -m evosynth_lib.book`` writes the executed notebooks (the book's pages) and the run log."""
    return repo_root() / "book" / "notebooks"


RESULTS = "results"  # published results, relative to the repository root
RUNS = "runs"  # the run store
RUN_LOG = "book/notebooks/run_log.json"


def book_command(profile: str, page: str) -> str:
    """The command that (re)runs one page of the book, with its training."""
    return f"python -m evosynth_lib.book --profile {profile} --only {page}"
