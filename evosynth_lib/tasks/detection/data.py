"""Pedestrian detection data: Parse-27k (the paper's dataset) and Penn-Fudan (the stand-in we can ship);
procedural scenes are in ``scenes.py``.

Every dataset here yields ``(image, boxes)``:

* ``image``: ``float32`` tensor ``[3, H, W]`` with values in ``[0, 1]`` (no mean/std normalisation);
* ``boxes``: ``float32`` tensor ``[N, 4]`` of ``(x_min, y_min, x_max, y_max)`` in pixel coordinates of
  the *resized* image, continuous convention (pixel ``i`` covers ``[i, i + 1)``), ``N >= 0``.

Resizing is a **letterbox**: the image is scaled by ``s = min(H / h, W / w)`` (aspect ratio kept,
bilinear, antialiased), placed in the centre of an ``H x W`` canvas filled with grey ``0.5``; boxes are
mapped by ``x' = s * x + pad_x``, ``y' = s * y + pad_y``. ``image_size`` may be an ``int`` (square) or an
``(H, W)`` pair.

Use :func:`collate_detection` as the ``DataLoader`` ``collate_fn`` (images are stacked, boxes stay a list
because images hold different numbers of pedestrians).
"""
from __future__ import annotations

import os
import random
import re
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ..data_dir import missing_data

PAD_VALUE = 0.5

# ----------------------------------------------------------------------------------- common helpers


def size_hw(image_size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        hw = (image_size, image_size)
    elif isinstance(image_size, (tuple, list)) and len(image_size) == 2:
        hw = (int(image_size[0]), int(image_size[1]))
    else:
        raise ValueError(f"image_size must be an int or an (H, W) pair, got {image_size!r}")
    if min(hw) < 8:
        raise ValueError(f"image_size must be >= 8 pixels on each side, got {image_size!r}")
    return hw


def _load_rgb(path: Path) -> torch.Tensor:
    """Read an image file as a ``uint8`` tensor ``[3, h, w]``."""
    from PIL import Image

    if not path.is_file():
        raise missing_data("image file", path)
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def letterbox(image: torch.Tensor, boxes: torch.Tensor, image_size: int | Sequence[int]):
    """Letterbox ``image`` (``uint8`` or float ``[3, h, w]``) to ``image_size``; map ``boxes`` alike.

    Returns ``(float image [3, H, W] in [0, 1], boxes [N, 4])``. See the module docstring.
    """
    H, W = size_hw(image_size)
    img = image.float() / 255.0 if image.dtype == torch.uint8 else image.float()
    h, w = img.shape[-2:]
    s = min(H / h, W / w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    img = F.interpolate(img[None], size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)[0]
    img = img.clamp_(0.0, 1.0)
    top, left = (H - nh) // 2, (W - nw) // 2
    canvas = torch.full((3, H, W), PAD_VALUE, dtype=torch.float32)
    canvas[:, top : top + nh, left : left + nw] = img
    # use the per-axis scale actually applied (rounding makes it differ from s by < 1 pixel)
    b = boxes.float().reshape(-1, 4).clone()
    b[:, 0::2] = b[:, 0::2] * (nw / w) + left
    b[:, 1::2] = b[:, 1::2] * (nh / h) + top
    return canvas, b


def hflip(image: torch.Tensor, boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mirror an image ``[3, H, W]`` and its boxes left-right."""
    W = image.shape[-1]
    b = boxes.clone()
    b[:, 0], b[:, 2] = W - boxes[:, 2], W - boxes[:, 0]
    return image.flip(-1), b


def augment_sample(image: torch.Tensor, boxes: torch.Tensor, generator: torch.Generator, jitter: float = 0.2):
    """Training augmentation of one example: horizontal flip with probability 0.5, then brightness and
    contrast factors drawn uniformly from ``[1 - jitter, 1 + jitter]`` (about the image mean), clamped to
    ``[0, 1]``. Exactly three draws from ``generator`` per call, so results are reproducible."""
    flip, brightness, contrast = torch.rand(3, generator=generator).tolist()
    if flip < 0.5:
        image, boxes = hflip(image, boxes)
    brightness, contrast = 1 - jitter + 2 * jitter * brightness, 1 - jitter + 2 * jitter * contrast
    mean = image.mean()
    image = ((image - mean) * contrast + mean * brightness).clamp_(0.0, 1.0)
    return image, boxes


def augment_batch(images: torch.Tensor, boxes: list[torch.Tensor], generator: torch.Generator, jitter: float = 0.2):
    """:func:`augment_sample` applied to every example of a collated batch, in order."""
    out = [augment_sample(img, b, generator, jitter) for img, b in zip(images, boxes)]
    return torch.stack([o[0] for o in out]), [o[1] for o in out]


def collate_detection(batch):
    """``DataLoader`` collate: ``[(img, boxes), ...] -> (images [B, 3, H, W], [boxes_i [N_i, 4], ...])``."""
    images, boxes = zip(*batch)
    return torch.stack(images, 0), list(boxes)


# ----------------------------------------------------------------------------------------- Parse-27k

PARSE27K_SPLITS = {"train": (1, 4, 5), "val": (2, 7, 8), "test": (3, 6)}
"""Sequence ids per split, as in the dataset's public tools (``DataPreprocessorPARSE``)."""


def _id_column(conn: sqlite3.Connection, table: str, preferred: str) -> str:
    """Primary-key column of ``table``: ``preferred`` (e.g. ``imageID``, the real schema) or ``id``."""
    cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    if not cols:
        raise ValueError(f"annotations database has no table {table!r}")
    for c in (preferred, "id"):
        if c in cols:
            return c
    raise ValueError(f"table {table!r} has neither a {preferred!r} nor an 'id' column (columns: {cols})")


class Parse27k(Dataset):
    """Parse-27k pedestrian boxes for detection, read from the dataset's own layout.

    ``root`` holds ``annotations.sqlite3`` and ``sequences/<Sequence.directory>/<Image.filename>``.
    Schema used (as in the public tools): ``Pedestrian(pedestrianID, imageID, attributeSetID,
    box_min_x, box_min_y, box_max_x, box_max_y)``, ``Image(imageID, filename, sequenceID)``,
    ``Sequence(sequenceID, directory)``; a plain ``id`` primary-key column is accepted as well.

    * split: ``train`` = sequences 1, 4, 5; ``val`` = 2, 7, 8; ``test`` = 3, 6 (:data:`PARSE27K_SPLITS`).
    * an example is one *frame* that has at least one ``Pedestrian`` row; its targets are *all*
      pedestrian boxes of that frame (the attribute tool drops "sitting" people; for detection we keep
      every annotated person). Frames are ordered by (sequence id, filename).
    * the database boxes are taken as continuous ``xyxy`` pixel coordinates of the original frame, then
      letterboxed to ``image_size`` (module docstring). Frames are read lazily (no cache).
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", image_size=(240, 320)):
        self.root = Path(root)
        if split not in PARSE27K_SPLITS:
            raise ValueError(f"split must be one of {sorted(PARSE27K_SPLITS)}, got {split!r}")
        self.split, self.image_size = split, size_hw(image_size)
        db = self.root / "annotations.sqlite3"
        if not self.root.is_dir():
            raise missing_data("Parse-27k root folder", self.root)
        if not db.is_file():
            raise missing_data("Parse-27k annotation database", db)
        self.sequence_ids = PARSE27K_SPLITS[split]
        self.items = self._read(db)  # list of (path, boxes [N, 4] in original pixels)

    def _read(self, db: Path):
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            img_id = _id_column(conn, "Image", "imageID")
            seq_id = _id_column(conn, "Sequence", "sequenceID")
            marks = ",".join("?" * len(self.sequence_ids))
            rows = conn.execute(
                f"""SELECT s.directory, i.filename, i.{img_id}, i.sequenceID,
                           p.box_min_x, p.box_min_y, p.box_max_x, p.box_max_y
                    FROM Pedestrian p
                    JOIN Image i ON p.imageID = i.{img_id}
                    JOIN Sequence s ON s.{seq_id} = i.sequenceID
                    WHERE i.sequenceID IN ({marks})
                    ORDER BY i.sequenceID, i.filename, p.rowid""",
                self.sequence_ids,
            ).fetchall()
        finally:
            conn.close()
        frames: dict[tuple, list] = {}
        for directory, filename, image_id, sequence_id, *box in rows:
            frames.setdefault((sequence_id, filename, image_id, directory), []).append(box)
        items = []
        for (sequence_id, filename, _, directory), boxes in frames.items():
            b = torch.tensor(boxes, dtype=torch.float32)
            if (b[:, 2] < b[:, 0]).any() or (b[:, 3] < b[:, 1]).any():
                raise ValueError(f"Parse-27k box with max < min in {directory}/{filename}")
            items.append((self.root / "sequences" / directory / filename, int(sequence_id), b))
        return items

    def __len__(self) -> int:
        return len(self.items)

    def sequence_of(self, index: int) -> int:
        """Sequence id of example ``index`` (for split checks)."""
        return self.items[index][1]

    def __getitem__(self, index: int):
        path, _, boxes = self.items[index]
        return letterbox(_load_rgb(path), boxes, self.image_size)


# ---------------------------------------------------------------------------------------- Penn-Fudan

_PF_BOX = re.compile(
    r'Bounding box for object (\d+) "[^"]*" \(Xmin, Ymin\) - \(Xmax, Ymax\)\s*:\s*'
    r"\((\d+),\s*(\d+)\)\s*-\s*\((\d+),\s*(\d+)\)"
)
PENNFUDAN_N_TEST = 50
PENNFUDAN_SPLIT_SEED = 0


def parse_pennfudan_annotation(text: str) -> torch.Tensor:
    """Boxes ``[N, 4]`` (``float32``, continuous ``xyxy``, 0-based) from one Penn-Fudan annotation file.

    The files state 1-based inclusive pixel coordinates ("Top left pixel co-ordinates : (1, 1)"), so
    ``(Xmin, Ymin) - (Xmax, Ymax)`` becomes ``(Xmin - 1, Ymin - 1, Xmax, Ymax)``. Objects keep the order
    of their index. Raises ``ValueError`` on a box with ``Xmax < Xmin`` or ``Ymax < Ymin``.
    """
    found = sorted((int(m[0]), [int(v) for v in m[1:]]) for m in _PF_BOX.findall(text))
    if not found:
        return torch.zeros((0, 4), dtype=torch.float32)
    b = torch.tensor([v for _, v in found], dtype=torch.float32)
    if (b[:, 2] < b[:, 0]).any() or (b[:, 3] < b[:, 1]).any():
        raise ValueError("Penn-Fudan annotation has a box with max < min")
    b[:, :2] -= 1.0
    return b


def pennfudan_split(names: Sequence[str], split: str) -> list[str]:
    """The fixed Penn-Fudan split: sort the image names, shuffle them with ``random.Random(0)``
    (stdlib, stable across Python versions); the first ``len - 50`` are ``train``, the last 50 ``test``
    (120 / 50 for the 170-image release). Returned names are sorted."""
    if split not in ("train", "test"):
        raise ValueError(f"Penn-Fudan split must be 'train' or 'test', got {split!r}")
    order = sorted(names)
    if len(order) <= PENNFUDAN_N_TEST:
        raise ValueError(f"Penn-Fudan needs more than {PENNFUDAN_N_TEST} images, found {len(order)}")
    random.Random(PENNFUDAN_SPLIT_SEED).shuffle(order)
    part = order[: len(order) - PENNFUDAN_N_TEST] if split == "train" else order[-PENNFUDAN_N_TEST:]
    return sorted(part)


class PennFudan(Dataset):
    """Penn-Fudan pedestrians (the stand-in for Parse-27k) from the original layout under ``root``
    (``PNGImages/*.png``, ``Annotation/*.txt``; ``PedMasks`` is not used). The folder is only read.

    * boxes come from the ``Annotation`` files (regex on the "Bounding box for object" lines). The
      release's 170 annotation files hold **423 boxes** (FudanPed 74 images, PennPed 96). The 78 objects
      listed in ``added-object-list.txt`` (the small / occluded people labelled after the ACCV paper)
      are **already in those files** (checked: every listed ``(image, index)`` has its box line), so
      nothing is added from that list.
    * split: :func:`pennfudan_split`, 120 train / 50 test images.
    * images are letterboxed to ``image_size`` (default 160 x 160) and cached in memory as ``uint8``.
    * training batches are augmented by the task (:func:`augment_batch`), not here.
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", image_size=160):
        self.root = Path(root)
        for sub in ("", "PNGImages", "Annotation"):
            if not (self.root / sub).is_dir():
                raise missing_data("Penn-Fudan folder", self.root / sub)
        self.split, self.image_size = split, size_hw(image_size)
        names = [p.name for p in (self.root / "PNGImages").glob("*.png")]
        self.names = pennfudan_split(names, split)
        self.boxes = []
        for n in self.names:
            ann = self.root / "Annotation" / (Path(n).stem + ".txt")
            if not ann.is_file():
                raise missing_data("Penn-Fudan annotation file", ann)
            self.boxes.append(parse_pennfudan_annotation(ann.read_text(errors="replace")))
        self._cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self.names)

    def _letterboxed(self, index: int):
        if index not in self._cache:
            img, boxes = letterbox(_load_rgb(self.root / "PNGImages" / self.names[index]), self.boxes[index],
                                   self.image_size)
            self._cache[index] = ((img * 255).round().to(torch.uint8), boxes)
        img, boxes = self._cache[index]
        return img.float() / 255.0, boxes.clone()

    def __getitem__(self, index: int):
        return self._letterboxed(index)
