"""Classification data: the layouts understood, errors naming the data folder, subsets, the real MNIST."""
import numpy as np
import pytest
import torch
from PIL import Image

from evosynth_lib.tasks.classification.data import get_datasets, read_stl10_binary
from evosynth_lib.tasks.classification.models import LeNet5
from evosynth_lib.tasks.data_dir import DataNotFoundError


def test_missing_data_names_directory_and_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("EVOSYNTH_DOWNLOAD", raising=False)
    for name in ("mnist", "cifar10", "stl10"):
        with pytest.raises(DataNotFoundError) as e:
            get_datasets(name, tmp_path / "nothing-here")
        assert str(tmp_path / "nothing-here") in str(e.value) and "EVOSYNTH_DATA" in str(e.value)


def test_data_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EVOSYNTH_DATA", str(tmp_path / "from-env"))
    with pytest.raises(DataNotFoundError, match="from-env"):
        get_datasets("mnist")


def _write_stl10(folder, n, seed):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    x = rng.integers(0, 256, (n, 3, 96, 96), dtype=np.uint8)
    y = rng.integers(1, 11, n, dtype=np.uint8)
    return x, y


def test_stl10_binary_format_on_synthetic_files(tmp_path):
    folder = tmp_path / "stl10_binary"
    for split, n in (("train", 6), ("test", 4)):
        x, y = _write_stl10(folder, n, n)
        x.transpose(0, 1, 3, 2).tofile(folder / f"{split}_X.bin")  # STL-10 stores column-major
        y.tofile(folder / f"{split}_y.bin")
    xs, ys = read_stl10_binary(folder, "train")
    x, y = _write_stl10(folder, 6, 6)
    assert xs.shape == (6, 3, 96, 96) and torch.equal(xs, torch.from_numpy(x))
    assert torch.equal(ys, torch.from_numpy(y.astype(np.int64) - 1))
    train, test, spec = get_datasets("stl10", tmp_path)
    assert len(train) == 6 and len(test) == 4 and spec.in_shape == (3, 96, 96)
    assert LeNet5(spec.in_shape)(train[0][0][None]).shape == (1, 10)
    (folder / "test_X.bin").write_bytes(b"\0" * 100)
    with pytest.raises(ValueError, match="truncated"):
        read_stl10_binary(folder, "test")


def test_cifar10_image_folder_layout(tmp_path):
    rng = np.random.default_rng(0)
    classes = ["airplane", "automobile", "bird"]
    for split in ("train", "test"):
        for c in classes:
            d = tmp_path / "cifar10" / split / c
            d.mkdir(parents=True)
            for i in range(3):
                Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(d / f"{i:05d}.png")
    train, test, spec = get_datasets("cifar10", tmp_path)
    x, y = train[0]
    assert x.shape == (3, 32, 32) and len(train) == 9 and spec.augment == "crop_flip"
    assert sorted({int(train[i][1]) for i in range(9)}) == [0, 1, 2]
    again, _, _ = get_datasets("cifar10", tmp_path)  # second read comes from the cache
    assert torch.equal(again.tensors[0], train.tensors[0])


def test_subset_is_declared_and_fixed():
    a, _, _ = get_datasets("synthetic", train_subset=100)
    b, _, _ = get_datasets("synthetic", train_subset=100)
    assert len(a) == 100 and all(torch.equal(a[i][0], b[i][0]) for i in range(5))


def test_real_mnist_from_gz_without_writing_to_data_dir(mnist_dir):
    train, test, spec = get_datasets("mnist", mnist_dir)
    assert len(train) == 60_000 and len(test) == 10_000 and train[0][0].shape == (1, 28, 28)
    assert int(train[0][1]) == 5  # the first MNIST training label
