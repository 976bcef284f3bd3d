"""Shared fixtures: a tiny model, the real data (skipped where absent), a Parse-27k schema fixture."""
import random
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
import torch
from torch import nn

from evosynth_lib.tasks.data_dir import data_root


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Writes of the data layer go to a temporary cache, never to the user's."""
    monkeypatch.setenv("EVOSYNTH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


class TinyNet(nn.Module):
    """Conv (2->4, 3x3) then a Linear reading the 4x2x2 map (a conv-like FC), then a plain Linear."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 6), nn.ReLU(),
                                    nn.Linear(6, 3))
        self.input_shape = (2, 4, 4)
        self.layer_names = ["conv", "fc_conv", "fc"]

    def forward(self, x):
        return self.layers(x)


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return TinyNet()


@pytest.fixture
def mnist_dir() -> Path:
    """The data folder (tasks/data_dir.py's resolution) when it holds the real MNIST; the test skips otherwise."""
    d = data_root()
    if not (d / "MNIST" / "raw").is_dir():
        pytest.skip(f"real MNIST not in {d} (set EVOSYNTH_DATA)")
    return d


@pytest.fixture
def pennfudan_dir() -> Path:
    d = data_root() / "PennFudanPed"
    if not d.is_dir():
        pytest.skip(f"Penn-Fudan not in {d} (set EVOSYNTH_DATA)")
    return d


@pytest.fixture(scope="session")
def parse27k_root(tmp_path_factory) -> Path:
    return make_parse27k_fixture(tmp_path_factory.mktemp("parse27k"), n_images_per_sequence=2, seed=0)


def make_parse27k_fixture(root, n_images_per_sequence: int = 2, seed: int = 0) -> Path:
    """Write a tiny fake Parse-27k (8 sequences, ``annotations.sqlite3`` in the real schema, small
    PNG frames of 96 x 128 pixels with 1-2 bright boxes each) under ``root``; return ``root``.

    The drawn rectangles are exactly the annotated boxes, so loaders can be checked against pixels.
    """

    root = Path(root)
    rng = random.Random(seed)
    (root / "sequences").mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(root / "annotations.sqlite3")
    try:
        conn.executescript(
            """
            DROP TABLE IF EXISTS Pedestrian; DROP TABLE IF EXISTS Image;
            DROP TABLE IF EXISTS Sequence; DROP TABLE IF EXISTS AttributeSet;
            CREATE TABLE Sequence (sequenceID INTEGER PRIMARY KEY, directory TEXT NOT NULL);
            CREATE TABLE Image (imageID INTEGER PRIMARY KEY, filename TEXT NOT NULL,
                                sequenceID INTEGER NOT NULL REFERENCES Sequence(sequenceID));
            CREATE TABLE AttributeSet (attributeSetID INTEGER PRIMARY KEY, orientationID INTEGER,
                                       genderID INTEGER, postureID INTEGER);
            CREATE TABLE Pedestrian (pedestrianID INTEGER PRIMARY KEY,
                                     imageID INTEGER NOT NULL REFERENCES Image(imageID),
                                     attributeSetID INTEGER REFERENCES AttributeSet(attributeSetID),
                                     box_min_x INTEGER, box_min_y INTEGER,
                                     box_max_x INTEGER, box_max_y INTEGER);
            """
        )
        h, w = 96, 128
        image_id = ped_id = 0
        for seq in range(1, 9):
            directory = f"seq{seq:02d}"
            (root / "sequences" / directory).mkdir(exist_ok=True)
            conn.execute("INSERT INTO Sequence VALUES (?, ?)", (seq, directory))
            for k in range(n_images_per_sequence):
                image_id += 1
                filename = f"frame{k:05d}.png"
                conn.execute("INSERT INTO Image VALUES (?, ?, ?)", (image_id, filename, seq))
                arr = np.full((h, w, 3), 40, dtype=np.uint8)
                for _ in range(rng.randint(1, 2)):
                    ped_id += 1
                    bw, bh = rng.randint(8, 20), rng.randint(24, 50)
                    x0, y0 = rng.randint(0, w - bw), rng.randint(0, h - bh)
                    arr[y0 : y0 + bh, x0 : x0 + bw] = (200, 180, 160)
                    conn.execute("INSERT INTO AttributeSet VALUES (?, 1, 1, 2)", (ped_id,))
                    conn.execute(
                        "INSERT INTO Pedestrian VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (ped_id, image_id, ped_id, x0, y0, x0 + bw, y0 + bh),
                    )
                Image.fromarray(arr).save(root / "sequences" / directory / filename)
        conn.commit()
    finally:
        conn.close()
    return root


