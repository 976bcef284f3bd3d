"""The compute environment: each offspring's compacted FLOPs at most cap x its parent's, the draws unchanged."""
import math

import pytest
import torch

from evosynth_lib.config import ConfigError, EvolutionConfig
from evosynth_lib.core.compaction import compact, count_flops
from evosynth_lib.core.environment import compute_environmental_factor
from evosynth_lib.core.masks import full_masks
from evosynth_lib.core.synthesis import synthesize_offspring
from evosynth_lib.tasks.classification.models import LeNet5
from evosynth_lib.tasks.detection.model import DetectNet


def test_the_factor_is_the_largest_within_the_budget():
    t = torch.tensor([0.1, 0.5, 0.2, 0.9, 0.7, 2.0])
    flops_at = lambda f: 10 * int((t < f).sum())  # noqa: E731  (10 FLOPs per kept synapse)
    for budget in range(0, 70, 5):
        f = compute_environmental_factor(t, flops_at, budget)
        assert flops_at(f) <= budget or f == 0.1  # 0.1 keeps nothing: the smallest sample
        larger = [v for v in t.tolist() + [1.0] if v > f]
        assert f == 1.0 or flops_at(min(larger)) > budget  # the next sample would exceed it
    assert compute_environmental_factor(t, flops_at, 1000) == 1.0


def _flops(model, masks, shape):
    return count_flops(compact(model, masks), torch.zeros(1, *shape))


@pytest.mark.parametrize("granularity", ["filter", "kernel"])
@pytest.mark.parametrize("make,shape", [(LeNet5, (1, 28, 28)), (lambda: DetectNet(width=4), (3, 64, 64))])
def test_the_cap_on_flops_is_never_exceeded(make, shape, granularity):
    torch.manual_seed(0)
    model = make()
    masks = full_masks(model)
    config = EvolutionConfig(environment="flops", granularity=granularity, cap=0.7, normaliser="quantile")
    parent, factors = _flops(model, masks, shape), []
    for generation in (2, 3, 4):
        model, masks, info = synthesize_offspring(model, masks, config, generation)
        child = _flops(model, masks, shape)
        assert info["parent_flops"] == parent and info["flops_budget"] == math.floor(0.7 * parent)
        assert child <= 0.7 * parent
        parent = child
        factors.append(info["environmental_factor"])
    assert min(factors) < 1  # the environment acted


def test_synapse_environment_is_the_default_and_keeps_run_ids():
    assert EvolutionConfig().environment == "synapses"
    assert EvolutionConfig(environment="synapses").run_id() == EvolutionConfig().run_id()
    assert EvolutionConfig(environment="flops").run_id() != EvolutionConfig().run_id()
    with pytest.raises(ConfigError, match="environment"):
        EvolutionConfig(environment="energy").validate()


def test_a_dead_filter_takes_its_readers_along_so_compaction_removes_it():
    torch.manual_seed(0)
    model = DetectNet(width=4)  # padded convolutions: a dead filter's constant output cannot be folded
    masks = full_masks(model)
    config = EvolutionConfig(environment="flops", granularity="filter", factor_level="cluster", cap=0.6)
    model, masks, _ = synthesize_offspring(model, masks, config, 2)
    conv1, conv2 = masks["layers.0.weight"], masks["layers.3.weight"]
    dead = ~conv1.reshape(conv1.shape[0], -1).any(dim=1)
    assert dead.any()
    assert not conv2[:, dead].any()  # nothing reads a dead filter
    assert compact(model, masks).layers[0].weight.shape[0] == int((~dead).sum())
