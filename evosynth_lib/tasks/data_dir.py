"""Where datasets live, and where decoded copies go: the one resolution used by the CLI, the book and the tests.

* data folder (read only): the ``data_dir`` argument, else the ``EVOSYNTH_DATA`` environment variable, else
  ``~/.cache/evosynth/data`` (where torchvision downloads go when allowed). ``make`` sets ``EVOSYNTH_DATA``
  to ``../shared/data`` when that folder exists and the variable is unset.
* cache (written): ``EVOSYNTH_CACHE``, else ``~/.cache/evosynth``; MNIST gunzipped, CIFAR-10 PNGs decoded.
* downloads: only with ``EVOSYNTH_DOWNLOAD=1`` or ``download=True``.

A dataset that is not there raises :class:`DataNotFoundError` naming the folder and the variable.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "EVOSYNTH_DATA"
CACHE_ENV = "EVOSYNTH_CACHE"
DOWNLOAD_ENV = "EVOSYNTH_DOWNLOAD"


class DataNotFoundError(FileNotFoundError):
    """The dataset is not in the data folder and may not be downloaded."""


def data_root(data_dir: str | os.PathLike | None = None) -> Path:
    """The data folder: ``data_dir``, else ``$EVOSYNTH_DATA``, else ``~/.cache/evosynth/data``."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
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
