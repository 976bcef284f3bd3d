"""Baselines at equal synapses: exact synapse counts, dead synapses stay dead, magnitude keeps the largest |w|."""
import pytest
import torch

from evosynth_lib import EvolutionConfig
from evosynth_lib.config import ConfigError
from evosynth_lib.core.masks import full_masks
from evosynth_lib.core.synthesis import genetic_encoding, synthesize_offspring


def _count(masks):
    return sum(int(m.sum()) for m in masks.values())


@pytest.mark.parametrize("pruning", ["magnitude", "random"])
def test_baselines_reach_the_requested_synapse_counts_exactly(tiny, pruning):
    masks = full_masks(tiny)
    n = _count(masks)
    config = EvolutionConfig(pruning=pruning, generations=4, targets=(n, 80, 51, 50)).validate()
    model = tiny
    for g, target in ((2, 80), (3, 51), (4, 50)):
        child, child_masks, info = synthesize_offspring(model, masks, config, g)
        assert _count(child_masks) == info["synapses"] == target
        assert all((~child_masks[k] | masks[k]).all() for k in masks)  # never revived
        assert all((child.get_parameter(k)[~child_masks[k]] == 0).all() for k in masks)
        model, masks = child, child_masks
    again = synthesize_offspring(tiny, full_masks(tiny), config, 2)[1]
    first = synthesize_offspring(tiny, full_masks(tiny), config, 2)[1]
    assert all(torch.equal(again[k], first[k]) for k in again)  # seeded by (seed, generation)


def test_baselines_accept_a_channels_last_model(tiny):
    """bf16 training leaves conv weights channels-last; pruning must not depend on the memory format."""
    masks = full_masks(tiny)
    config = EvolutionConfig(pruning="magnitude", generations=2, targets=(_count(masks), 60)).validate()
    dense = synthesize_offspring(tiny, masks, config, 2)[1]
    cl = synthesize_offspring(tiny.to(memory_format=torch.channels_last), masks, config, 2)[1]
    assert all(torch.equal(dense[k], cl[k]) for k in dense)


def test_magnitude_pruning_keeps_the_largest_weights(tiny):
    masks = full_masks(tiny)
    n = _count(masks)
    config = EvolutionConfig(pruning="magnitude", generations=2, targets=(n, 40)).validate()
    _, child_masks, _ = synthesize_offspring(tiny, masks, config, 2)
    w = {k: tiny.get_parameter(k).detach().abs() for k in masks}
    kept = torch.cat([w[k][child_masks[k]] for k in w])
    gone = torch.cat([w[k][~child_masks[k]] for k in w])
    assert kept.min() >= gone.max()


def test_targets_are_checked():
    with pytest.raises(ConfigError, match="targets"):
        EvolutionConfig(pruning="magnitude", generations=3, targets=(10, 5)).validate()
    with pytest.raises(ConfigError, match="targets"):
        EvolutionConfig(targets=(10, 5)).validate()
    with pytest.raises(ConfigError, match="non-increasing"):
        EvolutionConfig(pruning="random", generations=2, targets=(5, 10)).validate()


def test_synapse_only_encoding_has_no_cluster_factor(tiny):
    dna = genetic_encoding(tiny, full_masks(tiny), EvolutionConfig(pruning="synapse_only").validate())
    assert all(bool((d.p_cluster == 1).all()) for d in dna.values())
    dna = genetic_encoding(tiny, full_masks(tiny), EvolutionConfig().validate())
    assert any(bool((d.p_cluster < 1).any()) for d in dna.values())


def test_filter_clusters_never_kill_a_whole_output_unit(tiny):
    """Filter clusters with the cluster-level factor kill whole hidden filters; the output layer keeps kernels."""
    from evosynth_lib.core.clusters import layer_granularities

    config = EvolutionConfig(granularity="filter", factor_level="cluster", cap=0.3).validate()
    keys = list(full_masks(tiny))
    assert layer_granularities(tiny, "filter") == {**{k: "filter" for k in keys[:-1]}, keys[-1]: "kernel"}
    model, masks = tiny, full_masks(tiny)
    for g in range(2, 5):
        model, masks, _ = synthesize_offspring(model, masks, config, g)
    hidden = masks[keys[0]].reshape(masks[keys[0]].shape[0], -1)
    assert (~hidden.any(dim=1)).any()  # whole hidden filters died
