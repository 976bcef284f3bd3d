"""The baseline at equal compute: Torch-Pruning's group L1 ranking, pruned to a FLOP target, as masks."""
import pytest
import torch

from evosynth_lib.config import ConfigError, EvolutionConfig
from evosynth_lib.core.compaction import compact, count_flops
from evosynth_lib.core.masks import full_masks
from evosynth_lib.core.structured import channel_ranking
from evosynth_lib.core.synthesis import synthesize_offspring
from evosynth_lib.tasks.classification.models import LeNet5
from evosynth_lib.tasks.detection.model import DetectNet


def _flops(model, masks, shape):
    return count_flops(compact(model, masks), torch.zeros(1, *shape))


@pytest.mark.parametrize("make,shape", [(LeNet5, (1, 28, 28)), (lambda: DetectNet(width=4), (3, 64, 64))])
def test_it_hits_its_flop_target_generation_by_generation(make, shape):
    torch.manual_seed(0)
    model = make()
    masks = full_masks(model)
    full = _flops(model, masks, shape)
    targets = (full, int(full * 0.7), int(full * 0.45), int(full * 0.3))
    config = EvolutionConfig(pruning="structured", targets=targets, generations=4)
    for generation in (2, 3, 4):
        model, masks, info = synthesize_offspring(model, masks, config, generation)
        flops = _flops(model, masks, shape)
        assert flops <= targets[generation - 1]
        assert flops >= 0.85 * targets[generation - 1]  # close to it: channels go one at a time
    assert info["removed_channels"] > 0
    x = torch.rand(2, *shape)
    with torch.no_grad():  # whole channels went: compaction keeps the masked network's outputs
        assert float((model(x) - compact(model, masks)(x)).abs().max()) <= 1e-5


def test_targets_counted_at_another_input_size_are_read_as_fractions_of_the_ancestor():
    """A detector's targets come from its evolution's ``flops_compact``, counted at the training size, not at the
    network's ``input_shape``: the same fractions of the ancestor are pruned either way."""
    torch.manual_seed(0)
    model = DetectNet(width=4)
    masks = full_masks(model)
    small, large = (3, 64, 64), (3, 128, 128)
    full_large = _flops(model, masks, large)
    targets = (full_large, int(full_large * 0.6))
    config = EvolutionConfig(pruning="structured", targets=targets, generations=2)
    child, child_masks, _ = synthesize_offspring(model, masks, config, 2)
    kept = _flops(child, child_masks, large)
    assert 0.85 * targets[1] <= kept <= targets[1]
    assert _flops(child, child_masks, small) / _flops(model, masks, small) == pytest.approx(kept / full_large)


def test_the_ranking_takes_the_weakest_filter_first():
    torch.manual_seed(0)
    model = LeNet5()
    with torch.no_grad():
        model.layers[2].weight[7] *= 1e-3  # conv2's filter 7: by far the smallest
    ranking = channel_ranking(model, full_masks(model))
    assert ranking["layers.2.weight"][0] == 7
    assert sorted(ranking["layers.2.weight"]) == list(range(50))
    assert set(ranking) == {"layers.0.weight", "layers.2.weight", "layers.5.weight"}  # the output layer: never


def test_structured_pruning_needs_flop_targets():
    with pytest.raises(ConfigError, match="targets"):
        EvolutionConfig(pruning="structured").validate()
