"""The environmental factor model F(E) (seed paper, eq. 2-3): offspring <= cap x parent's synapses, always.

The paper's environment requires that "an offspring deep neural network should not have more than 80% of the
total number of synapses in its direct ancestor network". We make that a hard guarantee on every sample, not
an expectation, without biasing the unconstrained case:

1. every cluster and every synapse draws one uniform number, ``u_c`` and ``u_s``;
2. with environmental factors ``F_c`` and ``F_s`` a synapse survives iff ``u_c < F_c P_c`` and ``u_s < F_s P_s``
   (eq. 3); with ``F_c = F_s = 1`` this is plain sampling from eq. 1;
3. ``F_c`` and ``F_s`` are driven by one scalar ``f`` in [0, 1] (``factor_level``): ``"synapse"`` ->
   ``F_s = f, F_c = 1``; ``"cluster"`` -> ``F_c = f, F_s = 1``; ``"both"`` -> ``F_c = F_s = sqrt(f)``.
   For fixed draws the number of survivors only grows with ``f``, so
4. :func:`environmental_factor` returns the largest ``f <= 1`` whose sample respects the budget. When the
   sample at ``f = 1`` is already within the budget the environment does nothing (``f = 1``).

Every synapse has a threshold ``t`` (:func:`survival_thresholds`): it survives iff ``t < f``. The largest
admissible ``f`` is then the (budget+1)-th smallest threshold, computed exactly (no bisection).

A compute environment (``environment: flops``, beyond the papers) keeps the same draws and the same
probabilities (eq. 4-5: heredity decides *which* clusters are likely to survive) and limits instead the
offspring's *compute*: the dense FLOPs of its compacted network (``compaction.py``) at most ``cap`` times its
parent's. FLOPs only grow with ``f`` too, so :func:`compute_environmental_factor` finds the largest admissible
``f`` by bisection over the sorted thresholds. Compaction removes a channel only when all of its filter's kernels
are dead (or nothing reads it), so with kernel clusters the factor must fall until whole filters die. A filter
that dies takes the synapses reading it along (``structured.close_dead_channels``): its constant output could
not be folded into a padded convolution's bias, so it would keep costing compute.
"""
from __future__ import annotations

import math

import torch

from typing import Callable

from ..config import FACTOR_LEVELS


def survival_thresholds(
    p_cluster: torch.Tensor, p_synapse: torch.Tensor, u_cluster: torch.Tensor, u_synapse: torch.Tensor,
    level: str = "synapse",
) -> torch.Tensor:
    """Per-synapse threshold ``t``: the synapse survives under factor ``f`` iff ``t < f``.

    Shapes: ``p_cluster, u_cluster``: ``[n_clusters]``; ``p_synapse, u_synapse``: ``[n_clusters, size]``.
    Returns float64 ``[n_clusters, size]``; ``inf`` where survival is impossible.
    """
    inf = torch.tensor(math.inf, dtype=torch.float64)
    pc, ps = p_cluster.double()[:, None], p_synapse.double()
    uc, us = u_cluster.double()[:, None], u_synapse.double()
    ratio_c = torch.where(pc > 0, uc / pc, inf).expand_as(ps)
    ratio_s = torch.where(ps > 0, us / ps, inf)
    if level == "synapse":
        return torch.where(ratio_c < 1, ratio_s, inf)
    if level == "cluster":
        return torch.where(ratio_s < 1, ratio_c, inf)
    if level == "both":
        return torch.maximum(ratio_c, ratio_s) ** 2
    raise ValueError(f"invalid factor_level={level!r}: choose one of {', '.join(FACTOR_LEVELS)}")


def synapse_budget(parent_synapses: int, cap: float) -> int:
    """The most synapses an offspring may have: ``floor(cap * parent)``."""
    if not 0 < cap <= 1:
        raise ValueError(f"invalid cap={cap!r}: must lie in (0, 1]")
    return math.floor(cap * parent_synapses)


def environmental_factor(thresholds: torch.Tensor, budget: int) -> float:
    """The largest ``f`` in [0, 1] such that ``#(thresholds < f) <= budget`` (all layers' thresholds at once)."""
    t = thresholds.reshape(-1)
    if int((t < 1.0).sum()) <= budget:
        return 1.0
    # #(t < t_(k)) <= k - 1 for the k-th smallest t_(k); k = budget + 1 is the largest admissible.
    return float(torch.kthvalue(t.cpu(), budget + 1).values)


def compute_environmental_factor(thresholds: torch.Tensor, flops_at: Callable[[float], int], budget: int) -> float:
    """The largest ``f`` in [0, 1] whose sample ``thresholds < f`` has ``flops_at(f) <= budget``.

    ``flops_at(f)``: the dense FLOPs of the compacted offspring that keeps the synapses with ``t < f``, a
    non-decreasing function of ``f``. When even the smallest sample exceeds the budget, that sample's ``f``.
    """
    if flops_at(1.0) <= budget:
        return 1.0
    candidates = torch.unique(thresholds.reshape(-1).cpu())  # sorted; f = candidates[i] keeps the i smallest
    candidates = candidates[candidates < 1.0]
    lo, hi = 0, len(candidates) - 1  # invariant: the answer is in [lo, hi] (candidates[0]: keep nothing)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if flops_at(float(candidates[mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return float(candidates[lo])


def factor_split(f: float, level: str) -> tuple[float, float]:
    """``(F_c, F_s)`` for the scalar factor ``f`` (for reporting)."""
    if level == "synapse":
        return 1.0, f
    if level == "cluster":
        return f, 1.0
    return math.sqrt(f), math.sqrt(f)
