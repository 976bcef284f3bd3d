"""Compaction gives the same outputs with fewer weights, on every model."""
import pytest
import torch

from evosynth_lib.core.compaction import compact, count_flops, dense_weights
from evosynth_lib.config import EvolutionConfig
from evosynth_lib.core.masks import full_masks
from evosynth_lib.tasks.classification.models import AlexNetCIFAR, LeNet5
from evosynth_lib.tasks.detection.model import DetectNet
from evosynth_lib.core.synthesis import synthesize_offspring


def evolved(model, generations, normaliser="max"):
    masks = full_masks(model)
    cfg = EvolutionConfig(normaliser=normaliser, granularity="filter")  # filter clusters kill whole channels
    for g in range(2, generations + 2):
        model, masks, _ = synthesize_offspring(model, masks, cfg, g)
    return model.eval(), masks


@pytest.mark.parametrize("make,shape,gens", [
    (lambda: LeNet5((1, 28, 28)), (1, 28, 28), 6),
    (lambda: LeNet5((3, 96, 96)), (3, 96, 96), 4),
    (lambda: AlexNetCIFAR((3, 32, 32)), (3, 32, 32), 4),
])
def test_compact_equals_masked(make, shape, gens):
    torch.manual_seed(0)
    model, masks = evolved(make(), gens)
    small = compact(model, masks)
    x = torch.randn(8, *shape)
    with torch.no_grad():
        assert float((model(x) - small(x)).abs().max()) <= 1e-5
    assert dense_weights(small) < dense_weights(model)
    assert count_flops(small, x[:1]) < count_flops(model, x[:1])


def test_dead_channel_with_bias_is_folded_exactly():
    torch.manual_seed(0)
    model = LeNet5().eval()
    masks = full_masks(model)
    masks["layers.0.weight"][3] = False  # conv1 output channel 3: all weights dead, bias != 0
    with torch.no_grad():
        model.layers[0].bias[3] = 0.7
    small = compact(model, masks)
    assert small.layers[0].out_channels == 19 and small.layers[2].in_channels == 19
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        model.layers[0].weight.mul_(masks["layers.0.weight"])
        assert float((model(x) - small(x)).abs().max()) <= 1e-5


def test_unread_channel_is_dropped_and_outputs_kept():
    torch.manual_seed(0)
    model = AlexNetCIFAR().eval()
    masks = full_masks(model)
    masks["layers.3.weight"][:, 5] = False  # conv2 reads nothing from conv1's channel 5
    small = compact(model, masks)
    assert small.layers[0].out_channels == 63
    assert small.layers[-1].out_features == 10  # outputs are never dropped
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        model.layers[3].weight.mul_(masks["layers.3.weight"])
        assert float((model(x) - small(x)).abs().max()) <= 1e-5


def test_dense_count_and_flops_of_lenet():
    model = LeNet5()
    assert dense_weights(model) == 430_500
    # conv1 24*24*500 + conv2 8*8*25000 + 400000 + 5000 multiply-adds, x2 FLOPs
    assert count_flops(model, torch.randn(1, 1, 28, 28)) == 2 * (24 * 24 * 500 + 8 * 8 * 25_000 + 400_000 + 5_000)


def _channel_counts(model):
    return [m.weight.shape[0] for m in model.layers if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]


@pytest.mark.parametrize("align", [8, 16])
@pytest.mark.parametrize("make,shape,gens", [
    (lambda: LeNet5((1, 28, 28)), (1, 28, 28), 6),
    (lambda: AlexNetCIFAR((3, 32, 32)), (3, 32, 32), 4),
    (lambda: DetectNet(width=4), (3, 32, 32), 5),
])
def test_aligned_compaction_is_exact_and_aligned(make, shape, gens, align):
    torch.manual_seed(0)
    model, masks = evolved(make(), gens)
    plain, aligned = compact(model, masks), compact(model, masks, align=align)
    full, small, counts = _channel_counts(model), _channel_counts(plain), _channel_counts(aligned)
    assert counts[-1] == full[-1]  # the network's outputs are never touched
    for n_full, n_small, n in zip(full[:-1], small[:-1], counts[:-1]):
        assert n_small <= n <= n_full
        assert n % align == 0 or n == n_full  # rounded up, but never past what the layer had
        assert n - n_small < align
    assert counts != small  # something was padded (the evolved layers have odd counts)
    x = torch.randn(4, *shape)
    with torch.no_grad():
        assert float((model(x) - aligned(x)).abs().max()) <= 1e-5
        assert float((plain(x) - aligned(x)).abs().max()) <= 1e-5


def test_align_one_is_the_default_and_bad_align_is_refused():
    torch.manual_seed(0)
    model, masks = evolved(LeNet5(), 4)
    a, b = compact(model, masks), compact(model, masks, align=1)
    assert _channel_counts(a) == _channel_counts(b)
    for bad in (0, -8, 2.5, True):
        with pytest.raises(ValueError):
            compact(model, masks, align=bad)
