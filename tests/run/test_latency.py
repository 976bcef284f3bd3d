"""Side-by-side latency: every network of a comparison timed in one process, in interleaved rounds."""
import pytest
import torch
from torch import nn

from evosynth_lib.run.engines import Variant
from evosynth_lib.run.export import export_onnx
from evosynth_lib.run.latency import side_by_side


def _net(width):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, 4, 1)).eval()


@pytest.mark.parametrize("engine", ["onnxruntime", "openvino"])
def test_every_network_is_timed_in_every_round(tmp_path, engine):
    x = torch.rand(1, 3, 32, 32)
    files = {"wide": export_onnx(_net(128), x, tmp_path / "wide.onnx"),
             "narrow": export_onnx(_net(4), x, tmp_path / "narrow.onnx")}
    t = side_by_side(files, Variant(engine), (1, 3, 32, 32), rounds=3, repetitions=4)
    assert set(t) == {"wide", "narrow"}
    for v in t.values():
        assert v["passes"] == 12 and 0 < v["ms_q1"] <= v["ms_median"] <= v["ms_q3"]
    assert t["narrow"]["ms_median"] < t["wide"]["ms_median"]  # 32x fewer FLOPs


def test_only_exported_networks(tmp_path):
    with pytest.raises(ValueError, match="not an ONNX engine"):
        side_by_side({}, Variant("pytorch"), (1, 3, 8, 8))
