"""Datasets: MNIST, CIFAR-10, STL-10 (via torchvision's formats) and synthetic images of any shape.

Where data lives and where decoded copies go: ``tasks/data_dir.py`` (the data folder is only read); a decoded
copy is used only once verified against its source and its own sha256 (``tasks/data_cache.py``).
Missing data raises :class:`~evosynth_lib.tasks.data_dir.DataNotFoundError` naming the folder and the variable.

Layouts understood (under the data directory):

* MNIST: ``MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`` (torchvision's layout);
* CIFAR-10: ``cifar10/{train,test}/<class>/<index>.png`` (``ImageFolder`` layout) or torchvision's
  ``cifar-10-batches-py/``;
* STL-10: torchvision's ``stl10_binary/{train,test}_{X,y}.bin``.

All images are held in memory as tensors (these datasets are small), normalised per channel.
"""
from __future__ import annotations

import gzip
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import BatchSampler, Dataset, RandomSampler, Subset, TensorDataset

from ..base import subset
from ..data_cache import seal, source_fingerprint, temp_path, verified
from ..data_dir import cache_dir, data_root, download_allowed, missing_data

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
NORMALISATION = {
    "mnist": ((0.1307,), (0.3081,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "stl10": ((0.4467, 0.4398, 0.4066), (0.2603, 0.2566, 0.2713)),
}
SHAPES = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32), "stl10": (3, 96, 96)}


@dataclass
class DataSpec:
    name: str
    in_shape: tuple[int, int, int]
    num_classes: int
    augment: str | None  # "crop_flip" for CIFAR-10 / STL-10 training, None otherwise


# ---------------------------------------------------------------------------------------------------- MNIST
def _mnist_root(root: Path, download: bool) -> Path:
    """A folder torchvision's ``MNIST`` can read: the data dir itself, or a cache copy with the files gunzipped."""
    raw = root / "MNIST" / "raw"
    if all((raw / f).exists() for f in MNIST_FILES):
        return root
    if all((raw / f"{f}.gz").exists() for f in MNIST_FILES):
        key = hashlib.sha256(str(raw.resolve()).encode()).hexdigest()[:10]
        cached = cache_dir() / f"mnist-{key}"
        out = cached / "MNIST" / "raw"
        members = [out / f for f in MNIST_FILES]
        source = source_fingerprint([raw / f"{f}.gz" for f in MNIST_FILES], raw)
        if not verified(cached, members, source):  # absent, or not what these files decompress to: rebuilt
            out.mkdir(parents=True, exist_ok=True)
            for f in MNIST_FILES:
                tmp = temp_path(out / f)
                with gzip.open(raw / f"{f}.gz", "rb") as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                tmp.replace(out / f)
            seal(cached, members, source)
        return cached
    if download:
        return root
    raise missing_data("MNIST", root, "MNIST/raw/*-ubyte[.gz]")


def load_mnist(root: Path, train: bool, download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision.datasets import MNIST

    ds = MNIST(str(_mnist_root(root, download)), train=train, download=download)
    return ds.data[:, None].clone(), ds.targets.clone()


# ------------------------------------------------------------------------------------------------- CIFAR-10
def _decode_image_folder(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """All images of an ``ImageFolder`` tree as uint8 ``[N, C, H, W]``, cached after the first decode."""
    from torchvision.datasets import ImageFolder

    files = sorted(folder.glob("*/*.png"))
    key = hashlib.sha256(f"{folder.resolve()}:{len(files)}".encode()).hexdigest()[:12]
    cached = cache_dir() / f"imagefolder-{key}.pt"
    source = source_fingerprint(files, folder)
    if verified(cached, [cached], source):
        try:
            x, y = torch.load(cached)
            return x, y
        except Exception:  # noqa: BLE001 - a cache that does not load is rebuilt, never used
            pass
    ds = ImageFolder(str(folder))
    x = torch.from_numpy(np.stack([np.asarray(ds.loader(p)) for p, _ in ds.samples])).permute(0, 3, 1, 2).contiguous()
    y = torch.tensor([t for _, t in ds.samples])
    tmp = temp_path(cached)
    torch.save((x, y), tmp)
    tmp.replace(cached)
    seal(cached, [cached], source)
    return x, y


def load_cifar10(root: Path, train: bool, download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    folder = root / "cifar10" / ("train" if train else "test")
    if folder.is_dir():
        return _decode_image_folder(folder)
    if (root / "cifar-10-batches-py").is_dir() or download:
        from torchvision.datasets import CIFAR10

        ds = CIFAR10(str(root), train=train, download=download)
        return torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous(), torch.tensor(ds.targets)
    raise missing_data("CIFAR-10", root, "cifar10/{train,test}/<class>/*.png or cifar-10-batches-py/")


# --------------------------------------------------------------------------------------------------- STL-10
def read_stl10_binary(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """STL-10's own binary format: ``{split}_X.bin`` uint8 column-major 3x96x96, ``{split}_y.bin`` labels 1-10."""
    x = np.fromfile(folder / f"{split}_X.bin", dtype=np.uint8)
    if x.size % (3 * 96 * 96):
        raise ValueError(f"{folder / f'{split}_X.bin'} is truncated: {x.size} bytes is not a multiple of 3*96*96")
    x = x.reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2)  # stored column-major per channel
    y = np.fromfile(folder / f"{split}_y.bin", dtype=np.uint8).astype(np.int64) - 1
    if len(y) != len(x):
        raise ValueError(f"STL-10 {split}: {len(x)} images but {len(y)} labels in {folder}")
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)


def load_stl10(root: Path, train: bool, download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    folder = root / "stl10_binary"
    split = "train" if train else "test"
    if not (folder / f"{split}_X.bin").exists():
        if not download:
            raise missing_data("STL-10", root, "stl10_binary/{train,test}_{X,y}.bin")
        from torchvision.datasets import STL10

        STL10(str(root), split=split, download=True)
    return read_stl10_binary(folder, split)


# ------------------------------------------------------------------------------------------------ synthetic
class SyntheticImages(TensorDataset):
    """A learnable synthetic classification set of any shape, deterministic by seed.

    Each class has a random template; an example is its class template plus Gaussian noise (std ``noise``).
    """

    def __init__(self, n: int, shape=(1, 28, 28), num_classes: int = 10, seed: int = 0, noise: float = 0.5):
        g = torch.Generator().manual_seed(seed)
        templates = torch.randn(num_classes, *shape, generator=g)
        y = torch.randint(0, num_classes, (n,), generator=g)
        x = templates[y] + noise * torch.randn(n, *shape, generator=g)
        super().__init__(x, y)


# ------------------------------------------------------------------------------------------------- assembly
def _normalise(x: torch.Tensor, name: str) -> torch.Tensor:
    mean, std = NORMALISATION[name]
    x = x.float().div_(255.0)
    return (x - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)


LOADERS = {"mnist": load_mnist, "cifar10": load_cifar10, "stl10": load_stl10}


def get_datasets(
    name: str, data_dir=None, train_subset: int | None = None, test_subset: int | None = None,
    download: bool | None = None, synthetic_shape=(1, 28, 28), synthetic_size: tuple[int, int] = (512, 256),
) -> tuple[Dataset, Dataset, DataSpec]:
    """``(train, test, spec)`` for ``name``; tensors already normalised (augmentation is applied per batch)."""
    if name == "synthetic":
        shape = tuple(synthetic_shape)
        # one draw split in two, so train and test share the class templates
        g_all = SyntheticImages(sum(synthetic_size), shape, seed=1)
        train = TensorDataset(*(t[: synthetic_size[0]] for t in g_all.tensors))
        test = TensorDataset(*(t[synthetic_size[0]:] for t in g_all.tensors))
        spec = DataSpec(name, shape, 10, None)
    elif name in LOADERS:
        root = data_root(data_dir)
        allowed = download_allowed(download)
        tensors = []
        for train_split in (True, False):
            x, y = LOADERS[name](root, train_split, allowed)
            tensors.append(TensorDataset(_normalise(x, name), y.long()))
        train, test = tensors
        spec = DataSpec(name, SHAPES[name], 10, None if name == "mnist" else "crop_flip")
    else:
        raise ValueError(f"invalid dataset={name!r}: not a classification dataset (mnist | cifar10 | stl10 | synthetic)")
    return subset(train, train_subset), subset(test, test_subset, what="test_subset"), spec


def dataset_tensors(ds: TensorDataset | Subset) -> tuple[torch.Tensor, ...]:
    """The tensors of a ``TensorDataset``, or of (nested) ``Subset`` s of one, indexed once."""
    if isinstance(ds, Subset):
        idx = torch.as_tensor(ds.indices)
        return tuple(t[idx] for t in dataset_tensors(ds.dataset))
    return ds.tensors


class TensorBatches:
    """Shuffled mini-batches of in-memory tensors, sliced by index: no per-example ``__getitem__``, no collate.

    Batch for batch (and draw for draw on ``generator``) the same as ``DataLoader(TensorDataset(x, y),
    batch_size, shuffle=True, generator=generator)``: it uses the same sampler and draws the same per-epoch
    base seed, so runs made with either are identical (checked by the tests).
    """

    def __init__(self, dataset: TensorDataset | Subset, batch_size: int, generator: torch.Generator):
        self.tensors = dataset_tensors(dataset)
        self.generator = generator
        self.sampler = BatchSampler(RandomSampler(range(len(self.tensors[0])), generator=generator), batch_size,
                                    drop_last=False)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self):
        torch.empty((), dtype=torch.int64).random_(generator=self.generator)  # DataLoader's per-epoch base seed
        for idx in self.sampler:
            idx = torch.as_tensor(idx)
            yield tuple(t[idx] for t in self.tensors)


def crop_flip(x: torch.Tensor, generator: torch.Generator | None = None, pad: int = 4) -> torch.Tensor:
    """Batch augmentation: random crop with zero padding ``pad``, random horizontal flip; one gather per batch.

    Draws from ``generator`` (the task passes one seeded by (seed, generation), so the augmentation of every
    epoch is fixed by the seed), or from the global torch RNG when ``None``.
    """
    n, c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    rows = dy[:, None] + torch.arange(h)
    cols = dx[:, None] + torch.arange(w)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    return padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]
