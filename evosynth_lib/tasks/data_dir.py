"""Where datasets live, and where decoded copies go: the one resolution used by the CLI, the book and the tests.

* data folder (read only): the ``data_dir`` argument (a relative one is read from the repository root, so a
  notebook in JupyterLab and papermill at the root mean the same folder), else the ``EVOSYNTH_DATA`` environment
  variable, else the first of :data:`NEARBY` that exists beside the repository (``data/`` in it,
  ``../data`` or ``../shared/data`` beside it), else ``~/.cache/evosynth/data`` (where torchvision downloads go
  when allowed). ``make``, papermill, JupyterLab and the tests all find it the same way.
* cache (written): ``EVOSYNTH_CACHE``, else ``~/.cache/evosynth``; MNIST gunzipped, CIFAR-10 PNGs decoded.
* downloads: only with ``EVOSYNTH_DOWNLOAD=1`` or ``download=True``.

A dataset that is not there raises :class:`DataNotFoundError` naming the folder and the variable.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..locations import find_repo_root, resolve

DATA_ENV = "EVOSYNTH_DATA"
CACHE_ENV = "EVOSYNTH_CACHE"
DOWNLOAD_ENV = "EVOSYNTH_DOWNLOAD"


class DataNotFoundError(FileNotFoundError):
    """The dataset is not in the data folder and may not be downloaded."""


NEARBY = ("data", "../data", "../shared/data")  # relative to the repository root


def data_root(data_dir: str | os.PathLike | None = None) -> Path:
    """The data folder: ``data_dir``, else ``$EVOSYNTH_DATA``, else a :data:`NEARBY` folder, else
    ``~/.cache/evosynth/data``."""
    if data_dir:
        return resolve(data_dir)
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    root = find_repo_root()
    for near in NEARBY if root is not None else ():
        if (root / near).is_dir():
            return (root / near).resolve()
    return Path("~/.cache/evosynth/data").expanduser()


def cache_dir() -> Path:
    path = Path(os.environ.get(CACHE_ENV) or "~/.cache/evosynth").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def download_allowed(download: bool | None = None) -> bool:
    return bool(download) if download is not None else os.environ.get(DOWNLOAD_ENV, "") == "1"


def missing_data(what: str, path: Path, expected: str = "") -> DataNotFoundError:
    """The error for a dataset (or one of its files) that is not where it should be."""
    return DataNotFoundError(
        f"{what} not found: {path}" + (f" (expected {expected})" if expected else "")
        + f". Point the {DATA_ENV} environment variable (or data_dir) at the folder that holds it"
        + (f", or allow downloading with {DOWNLOAD_ENV}=1." if expected else ".")
    )
