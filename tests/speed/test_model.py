"""The fps harness returns sane numbers; half-precision support is measured, not assumed."""
import pytest
import torch
from torch import nn

from evosynth_lib.speed.model import half_precision_support, measure_fps

torch.set_num_threads(1)


def _tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 5, 1))


def test_measure_fps_sane():
    model = _tiny()
    before = torch.get_num_threads()
    r = measure_fps(model, torch.randn(1, 3, 32, 32), batch_size=4, warmup=2, repetitions=7, threads=1)
    assert r["repetitions"] == 7 and len(r["ms_all"]) == 7 and r["warmup"] == 2
    assert r["batch_size"] == 4 and r["threads"] == 1 and r["dtype"] == "float32" and r["device"] == "cpu"
    assert r["ms_median"] > 0 and r["ms_iqr"] >= 0 and r["ms_q1"] <= r["ms_median"] <= r["ms_q3"]
    assert r["fps_median"] == pytest.approx(4 / (r["ms_median"] / 1000))
    assert all(t > 0 for t in r["ms_all"])
    assert torch.get_num_threads() == before  # restored


def test_measure_fps_leaves_model_alone_and_bf16():
    model = _tiny()
    ref = model[0].weight.detach().clone()
    r = measure_fps(model, torch.randn(2, 3, 16, 16), warmup=0, repetitions=1, dtype=torch.bfloat16)
    assert r["dtype"] == "bfloat16" and r["fps_median"] > 0 and r["batch_size"] == 1
    assert model[0].weight.dtype == torch.float32 and torch.equal(model[0].weight, ref)


def test_measure_fps_bad_arguments():
    with pytest.raises(ValueError):
        measure_fps(_tiny(), torch.randn(1, 3, 8, 8), repetitions=0)
    with pytest.raises(ValueError):
        measure_fps(_tiny(), torch.randn(1, 3, 8, 8), threads=0)


def test_half_precision_support_reports_measurements():
    r = half_precision_support("cpu", shape=(1, 8, 16, 16), channels_out=8, repetitions=3)
    assert r["float32_ms_median"] > 0
    for name in ("float16", "bfloat16"):
        e = r[name]
        assert isinstance(e["runs"], bool)
        if e["runs"]:
            assert e["ms_median"] > 0 and e["speedup_vs_fp32"] > 0 and e["error"] is None
            assert e["max_abs_diff_vs_fp32"] < 0.5  # the low-precision result is close to fp32
        else:
            assert e["error"]


def test_measure_fps_reports_the_protocol_s_statistics(monkeypatch):
    """measure_fps times by ``protocol.time_passes``: its median makes the fps."""
    import evosynth_lib.speed.model as model_speed

    calls = []

    def fake(call, warmup, repetitions):
        calls.append((warmup, repetitions))
        call()
        return {"ms_median": 4.0, "ms_q1": 3.0, "ms_q3": 6.0, "ms_iqr": 3.0, "ms_all": [3.0, 4.0, 6.0]}

    monkeypatch.setattr(model_speed, "time_passes", fake)
    r = measure_fps(_tiny(), torch.randn(1, 3, 8, 8), batch_size=2, warmup=1, repetitions=3)
    assert calls == [(1, 3)] and r["fps_median"] == pytest.approx(2 / 0.004) and r["ms_iqr"] == 3.0


def test_measure_fps_restores_the_threads_when_the_model_fails():
    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("cannot run")

    before = torch.get_num_threads()
    with pytest.raises(RuntimeError):
        measure_fps(Broken(), torch.randn(1, 3, 8, 8), threads=before + 1)
    assert torch.get_num_threads() == before
