"""The cluster-driven genetic encoding: the network's probabilistic "DNA" (seed paper, eq. 1, 4, 5).

Everything works on ``|w|`` of the parent (generation g-1), layer by layer:

* eq. 4, :func:`cluster_probability`:  P(cluster c) = exp( sum_{i in c} trunc(|w_i|) / Z - 1 ),
  where trunc(|w|) = |w| if |w| >= tau else 0.
* eq. 5, :func:`synapse_probability`:  P(synapse i) = exp( |w_i| / z - 1 ).
* eq. 1, :func:`synaptic_probability`: the synapse survives when its cluster and itself are drawn, so its
  marginal keep-probability is P(cluster) * P(synapse).

Normalisers ``Z`` (over the layer's live cluster sums) and ``z`` (over the layer's live |w|), see
:func:`normaliser`:

* ``"max"`` - the literal reading: Z = max, so every probability is <= 1 and the strongest cluster/synapse is
  kept with probability exp(0) = 1 while a zero one is kept with exp(-1) = 0.37.
* ``"quantile"`` - the q-quantile (nearest rank) of the live values; probabilities are clipped to 1, so
  everything above the quantile is kept for sure.
* ``"mean"`` - the mean of the live values, clipped to 1.

A synapse that is dead in the parent has probability 0 (it never comes back), and so has a cluster with no
live synapse.
"""
from __future__ import annotations

import math

import torch

from ..config import NORMALISERS


def normaliser(values: torch.Tensor, kind: str = "max", quantile: float = 0.5) -> float:
    """The normalisation constant of ``values`` (a 1-D tensor of live, non-negative values).

    Returns 0.0 for an empty tensor. ``quantile`` uses the nearest-rank definition:
    the ``ceil(q * n)``-th smallest value.
    """
    values = values.detach().reshape(-1).float()
    if values.numel() == 0:
        return 0.0
    if kind == "max":
        return float(values.max())
    if kind == "mean":
        return float(values.mean())
    if kind == "quantile":
        k = max(1, math.ceil(quantile * values.numel()))
        return float(torch.kthvalue(values.cpu(), k).values)
    raise ValueError(f"invalid normaliser={kind!r}: choose one of {', '.join(NORMALISERS)}")


def _exp_prob(x: torch.Tensor, norm: float) -> torch.Tensor:
    """exp(x / norm - 1) clipped to [0, 1]; a zero normaliser (all values zero) gives exp(-1)."""
    ratio = x / norm if norm > 0 else torch.zeros_like(x)
    return torch.exp(ratio - 1.0).clamp(max=1.0)


def cluster_probability(
    clusters: torch.Tensor,
    tau: float = 0.0,
    kind: str = "max",
    quantile: float = 0.5,
    live: torch.Tensor | None = None,
) -> torch.Tensor:
    """Eq. 4 for one layer. ``clusters``: ``[n_clusters, cluster_size]`` weights (signed or |w|).

    ``live``: bool mask of the same shape (the parent's live synapses); dead synapses count as 0 and a cluster
    without a live synapse gets probability 0. ``Z`` is computed over the live clusters' truncated sums.
    Returns ``[n_clusters]`` probabilities in [0, 1].
    """
    a = clusters.detach().abs().float()
    if live is None:
        live = torch.ones_like(a, dtype=torch.bool)
    a = a * live
    truncated = torch.where(a >= tau, a, torch.zeros_like(a))
    sums = truncated.sum(dim=1)
    alive = live.any(dim=1)
    z_big = normaliser(sums[alive], kind, quantile)
    return _exp_prob(sums, z_big) * alive


def synapse_probability(
    weights: torch.Tensor,
    kind: str = "max",
    quantile: float = 0.5,
    live: torch.Tensor | None = None,
) -> torch.Tensor:
    """Eq. 5 for one layer: ``exp(|w| / z - 1)`` elementwise, ``z`` over the layer's live ``|w|``.

    Dead synapses (``live`` False) get probability 0. Returns a tensor shaped like ``weights``.
    """
    a = weights.detach().abs().float()
    if live is None:
        live = torch.ones_like(a, dtype=torch.bool)
    z_small = normaliser(a[live], kind, quantile)
    return _exp_prob(a, z_small) * live


def synaptic_probability(cluster_p: torch.Tensor, synapse_p_clustered: torch.Tensor) -> torch.Tensor:
    """Eq. 1 as the marginal keep-probability of every synapse: P(its cluster) * P(itself).

    ``cluster_p``: ``[n_clusters]``; ``synapse_p_clustered``: ``[n_clusters, cluster_size]``.
    """
    return cluster_p[:, None] * synapse_p_clustered
