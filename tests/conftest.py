import os
from pathlib import Path

import pytest
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Writes of the data layer go to a temporary cache, never to the user's."""
    monkeypatch.setenv("EVOSYNTH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


class TinyNet(nn.Module):
    """Conv (2->4, 3x3) then a Linear reading the 4x2x2 map (a conv-like FC), then a plain Linear."""

    def __init__(self):
        super().__init__()
        fc = nn.Linear(16, 6)
        fc.cluster_input_shape = (4, 2, 2)
        self.layers = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Flatten(), fc, nn.ReLU(), nn.Linear(6, 3))
        self.layer_names = ["conv", "fc_conv", "fc"]

    def forward(self, x):
        return self.layers(x)


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return TinyNet()


def real_data_dir() -> Path | None:
    d = Path(os.environ.get("EVOSYNTH_DATA", SHARED_DATA))
    return d if (d / "MNIST" / "raw").is_dir() else None
