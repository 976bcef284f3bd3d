"""Known-answer tests of eq. 4 (cluster probability) and eq. 5 (synapse probability)."""
import math

import pytest
import torch

from evosynth_lib.core.encoding import cluster_probability, normaliser, synapse_probability, synaptic_probability

# three clusters of two synapses; signs must not matter (the encoding works on |w|)
W = torch.tensor([[0.5, -0.1], [0.2, 0.2], [0.0, -0.05]])
E = math.exp


def close(a, b):
    assert torch.allclose(a, torch.tensor(b, dtype=a.dtype), atol=1e-6), (a, b)


def test_cluster_probability_max_no_truncation():
    # sums 0.6, 0.4, 0.05; Z = max = 0.6
    close(cluster_probability(W, tau=0.0, kind="max"), [1.0, E(0.4 / 0.6 - 1), E(0.05 / 0.6 - 1)])


def test_cluster_probability_max_with_truncation():
    # tau = 0.15 zeroes 0.1, 0.0, 0.05: sums 0.5, 0.4, 0; Z = 0.5
    close(cluster_probability(W, tau=0.15, kind="max"), [1.0, E(0.4 / 0.5 - 1), E(-1)])


def test_cluster_probability_quantile_and_mean():
    # nearest-rank median of (0.05, 0.4, 0.6) is 0.4; probabilities clip at 1
    close(cluster_probability(W, kind="quantile", quantile=0.5), [1.0, 1.0, E(0.05 / 0.4 - 1)])
    z = (0.6 + 0.4 + 0.05) / 3
    close(cluster_probability(W, kind="mean"), [1.0, 1.0, E(0.05 / z - 1)])
    # with truncation tau = 0.15: sums 0.5, 0.4, 0 -> median 0.4, mean 0.3
    close(cluster_probability(W, tau=0.15, kind="quantile"), [1.0, 1.0, E(-1)])
    close(cluster_probability(W, tau=0.15, kind="mean"), [1.0, 1.0, E(-1)])


def test_synapse_probability_every_normaliser():
    a = W.abs()
    close(synapse_probability(W, "max"), torch.exp(a / 0.5 - 1).tolist())
    # sorted |w|: 0, .05, .1, .2, .2, .5 -> nearest-rank median (3rd) = 0.1
    close(synapse_probability(W, "quantile", 0.5), torch.exp(a / 0.1 - 1).clamp(max=1).tolist())
    close(synapse_probability(W, "mean"), torch.exp(a / (1.05 / 6) - 1).clamp(max=1).tolist())


def test_dead_synapses_have_zero_probability_and_leave_the_normaliser():
    live = torch.tensor([[False, True], [True, True], [False, False]])
    ps = synapse_probability(W, "max", live=live)
    # live |w|: 0.1, 0.2, 0.2 -> z = 0.2
    close(ps, [[0.0, E(0.1 / 0.2 - 1)], [1.0, 1.0], [0.0, 0.0]])
    pc = cluster_probability(W, kind="max", live=live)
    # live sums: 0.1, 0.4, (dead cluster) -> Z = 0.4, dead cluster 0
    close(pc, [E(0.1 / 0.4 - 1), 1.0, 0.0])


def test_eq1_is_the_product():
    pc = cluster_probability(W)
    ps = synapse_probability(W)
    close(synaptic_probability(pc, ps), (pc[:, None] * ps).tolist())


def test_all_zero_layer_gives_exp_minus_one():
    z = torch.zeros(2, 3)
    close(cluster_probability(z), [E(-1)] * 2)
    close(synapse_probability(z), [[E(-1)] * 3] * 2)


def test_probabilities_are_in_unit_interval_for_every_normaliser():
    w = torch.randn(50, 9)
    for kind in ("max", "quantile", "mean"):
        for tau in (0.0, 0.5):
            p = synaptic_probability(cluster_probability(w, tau, kind), synapse_probability(w, kind))
            assert float(p.min()) >= 0 and float(p.max()) <= 1


def test_unknown_normaliser():
    with pytest.raises(ValueError, match="normaliser"):
        normaliser(torch.ones(3), "median-ish")
