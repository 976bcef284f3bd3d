"""Decoded copies of datasets are used only once verified (tasks/data_cache.py): a copy altered in place (one
tensor value re-saved, one byte of a gunzipped file), an unreadable record or a changed source is rebuilt from
the source, never used; an intact copy is used without decoding again."""
import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets
from PIL import Image

from evosynth_lib.tasks import data_cache
from evosynth_lib.tasks.classification.data import _decode_image_folder, _mnist_root, load_mnist


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EVOSYNTH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _image_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(root / c / f"{i:05d}.png")
    return root


def test_an_altered_image_cache_is_rebuilt_and_an_intact_one_used(tmp_path, cache, monkeypatch):
    folder = _image_folder(tmp_path / "train")
    x, y = _decode_image_folder(folder)
    [cached] = cache.glob("imagefolder-*.pt")
    assert data_cache.record_path(cached).exists()
    with monkeypatch.context() as m:  # intact: read from the cache, not decoded again
        m.setattr(torchvision.datasets, "ImageFolder", lambda *a: pytest.fail("decoded again"))
        assert torch.equal(_decode_image_folder(folder)[0], x)
    altered = x.clone()
    altered[0, 0, 0, 0] += 1
    torch.save((altered, y), cached)  # a valid file, one value changed
    again, labels = _decode_image_folder(folder)
    assert torch.equal(again, x) and torch.equal(labels, y)
    assert torch.equal(torch.load(cached)[0], x)  # the copy itself was rebuilt
    data_cache.record_path(cached).write_text("{not json")
    assert torch.equal(_decode_image_folder(folder)[0], x)
    changed = np.zeros((8, 8, 3), dtype=np.uint8)  # the source changes: the copy follows it
    Image.fromarray(changed).save(folder / "cat" / "00000.png")
    assert torch.equal(_decode_image_folder(folder)[0][0], torch.from_numpy(changed).permute(2, 0, 1))


def _idx(path: Path, magic: int, data: np.ndarray) -> None:
    header = np.array([magic, *data.shape], dtype=">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + data.astype(np.uint8).tobytes())


def test_an_altered_mnist_copy_is_rebuilt(tmp_path, cache):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 3), ("t10k", 2)):
        _idx(raw / f"{split}-images-idx3-ubyte.gz", 2051, rng.integers(0, 256, (n, 28, 28)))
        _idx(raw / f"{split}-labels-idx1-ubyte.gz", 2049, rng.integers(0, 10, n))
    x, y = load_mnist(tmp_path / "data", train=True)
    copy = _mnist_root(tmp_path / "data", False) / "MNIST" / "raw" / "train-images-idx3-ubyte"
    good = copy.read_bytes()
    damaged = bytearray(good)
    damaged[16 + 100] ^= 0xFF  # one pixel of the first image
    copy.write_bytes(bytes(damaged))
    again, labels = load_mnist(tmp_path / "data", train=True)
    assert torch.equal(again, x) and torch.equal(labels, y) and copy.read_bytes() == good
    os.utime(raw / "train-images-idx3-ubyte.gz", ns=(0, 0))  # a source that changed is decompressed again
    inode = copy.stat().st_ino
    _mnist_root(tmp_path / "data", False)
    assert copy.stat().st_ino != inode and copy.read_bytes() == good
