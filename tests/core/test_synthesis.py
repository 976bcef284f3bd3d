"""The environmental factor's hard cap, keep-rates vs eq. 1, determinism, and heredity."""
import math

import pytest
import torch

from evosynth_lib.config import EvolutionConfig
from evosynth_lib.core.environment import environmental_factor, survival_thresholds
from evosynth_lib.core.masks import full_masks, prunable_weights
from evosynth_lib.core.synthesis import genetic_encoding, sample_masks, synthesize_offspring
from evosynth_lib.core.seeding import generator


def count(masks):
    return sum(int(m.sum()) for m in masks.values())


@pytest.mark.parametrize("level", ["synapse", "cluster", "both"])
def test_cap_holds_on_every_one_of_thousands_of_samples(tiny, level):
    # quantile 0.1 keeps nearly everything, so the 80 % cap must bind
    cfg = EvolutionConfig(normaliser="quantile", quantile=0.1, cap=0.8, factor_level=level)
    masks = full_masks(tiny)
    n = count(masks)
    bound = 0
    for i in range(1500):
        child, info = sample_masks(tiny, masks, cfg, torch.Generator().manual_seed(i))
        assert count(child) <= math.floor(0.8 * n)
        bound += info["environmental_factor"] < 1
    assert bound > 1000  # the environment really acted


def test_cap_holds_along_a_lineage(tiny):
    cfg = EvolutionConfig(normaliser="quantile", quantile=0.05, cap=0.8)
    model, masks = tiny, full_masks(tiny)
    for g in range(2, 12):
        parent = count(masks)
        model, masks, info = synthesize_offspring(model, masks, cfg, g)
        assert count(masks) <= 0.8 * parent
        assert info["synapses"] == count(masks)


def test_empirical_keep_rates_match_eq1(tiny):
    """cap = 1 (no environment): each synapse survives with P(cluster) * P(synapse).

    n = 4000 samples; per synapse the binomial std is <= 0.5/sqrt(n) = 0.0079; we allow 5 std (0.04) on the
    worst of the 118 synapses (chance of a false failure ~ 1e-4).
    """
    cfg = EvolutionConfig(normaliser="max", cap=1.0)
    masks = full_masks(tiny)
    dna = genetic_encoding(tiny, masks, cfg)
    expected = torch.cat([d.p_keep.reshape(-1) for d in dna.values()])
    n = 4000
    hits = torch.zeros_like(expected)
    for i in range(n):
        child, info = sample_masks(tiny, masks, cfg, torch.Generator().manual_seed(10_000 + i))
        assert info["environmental_factor"] == 1.0
        hits += torch.cat([m.reshape(-1).float() for m in child.values()])
    assert float((hits / n - expected).abs().max()) < 5 * 0.5 / math.sqrt(n)


def test_cluster_draw_is_shared_by_its_synapses():
    # one cluster of 3 synapses with P(cluster) = 0.5, P(synapse) = 1: all three live or die together
    pc, ps = torch.tensor([0.5]), torch.ones(1, 3)
    alive_counts = set()
    for i in range(200):
        g = torch.Generator().manual_seed(i)
        t = survival_thresholds(pc, ps, torch.rand(1, generator=g), torch.rand(1, 3, generator=g))
        alive_counts.add(int((t < 1).sum()))
    assert alive_counts == {0, 3}


def test_environmental_factor_is_largest_admissible():
    t = torch.tensor([0.1, 0.2, 0.2, 0.5, 0.9, math.inf], dtype=torch.float64)
    assert environmental_factor(t, 10) == 1.0
    f = environmental_factor(t, 2)
    assert int((t < f).sum()) <= 2 and f == pytest.approx(0.2)
    f = environmental_factor(t, 3)
    assert int((t < f).sum()) == 3
    assert int((t < environmental_factor(t, 0)).sum()) == 0


def test_same_seed_same_masks_bit_for_bit(tiny):
    cfg = EvolutionConfig(normaliser="max", seed=7)
    masks = full_masks(tiny)
    _, a, _ = synthesize_offspring(tiny, masks, cfg, 2)
    _, b, _ = synthesize_offspring(tiny, masks, cfg, 2)
    _, c, _ = synthesize_offspring(tiny, masks, cfg.replace(seed=8), 2)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_dead_synapses_never_come_back(tiny):
    cfg = EvolutionConfig(normaliser="quantile", quantile=0.01, cap=1.0)
    torch.manual_seed(1)
    masks = {k: torch.rand(w.shape) < 0.5 for k, w in prunable_weights(tiny).items()}
    for g in range(2, 30):
        _, child, _ = synthesize_offspring(tiny, masks, cfg, g)
        assert all(not bool((child[k] & ~masks[k]).any()) for k in masks)


def test_offspring_inherits_or_reinitialises(tiny):
    masks = full_masks(tiny)
    child, cm, _ = synthesize_offspring(tiny, masks, EvolutionConfig(normaliser="max"), 2)
    for k, w in prunable_weights(child).items():
        parent_w = prunable_weights(tiny)[k]
        assert torch.equal(w, parent_w * cm[k])  # inherited, masked exactly to zero
    fresh, fm, _ = synthesize_offspring(tiny, masks, EvolutionConfig(normaliser="max", inherit=False), 2)
    k = next(iter(fm))
    assert torch.equal(fm[k], cm[k])  # same DNA draw ...
    assert not torch.equal(prunable_weights(fresh)[k], prunable_weights(child)[k])  # ... new weights
    assert bool((prunable_weights(fresh)[k][~fm[k]] == 0).all())


def test_seeded_generators_are_independent_of_global_state():
    torch.manual_seed(123)
    a = torch.rand(3, generator=generator(0, 2, "synthesis"))
    torch.manual_seed(456)
    b = torch.rand(3, generator=generator(0, 2, "synthesis"))
    assert torch.equal(a, b)
