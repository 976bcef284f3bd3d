"""Synthesis of an offspring network from its parent's DNA (seed paper, eq. 1-5; paper 2, eq. 1).

:func:`genetic_encoding` computes, layer by layer, the cluster (eq. 4) and synapse (eq. 5) probabilities from
the parent's weights; :func:`synthesize_offspring` draws the offspring's masks under the environmental factor
(``environment.py``) and builds the offspring. Same config seed and generation -> same masks, bit for bit.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from ..config import EvolutionConfig
from .baselines import baseline_masks
from .clusters import layer_clusters
from .encoding import cluster_probability, synapse_probability, synaptic_probability
from .compaction import compact, count_flops
from .environment import (compute_environmental_factor, environmental_factor, factor_split, survival_thresholds,
                          synapse_budget)
from .masks import Masks, apply_masks, prunable_modules
from .seeding import generator
from .structured import close_dead_channels, structured_masks


@dataclass
class LayerDNA:
    """One layer's genetic encoding: ``p_cluster`` ``[n_clusters]``, ``p_synapse`` ``[n_clusters, size]``."""

    p_cluster: torch.Tensor
    p_synapse: torch.Tensor

    @property
    def p_keep(self) -> torch.Tensor:
        """Eq. 1: every synapse's marginal keep-probability, ``[n_clusters, size]``."""
        return synaptic_probability(self.p_cluster, self.p_synapse)


def genetic_encoding(model: nn.Module, masks: Masks, config: EvolutionConfig) -> dict[str, LayerDNA]:
    """The network's DNA: eq. 4 and eq. 5 per prunable layer, on the CPU, from ``|w|`` and the live masks."""
    dna = {}
    for name, module in prunable_modules(model).items():
        w = layer_clusters(model, name, module.weight.detach().cpu(), config.granularity)
        live = layer_clusters(model, name, masks[name].cpu(), config.granularity)
        p_cluster = (cluster_probability(w, config.tau, config.normaliser, config.quantile, live)
                     if config.pruning != "synapse_only" else live.any(dim=1).float())  # 2016: no cluster factor
        dna[name] = LayerDNA(
            p_cluster=p_cluster,
            p_synapse=synapse_probability(w, config.normaliser, config.quantile, live),
        )
    return dna


def sample_masks(
    model: nn.Module, masks: Masks, config: EvolutionConfig, gen: torch.Generator
) -> tuple[Masks, dict]:
    """Draw the offspring's masks from the DNA under the environmental factor. Returns ``(masks, info)``."""
    modules = prunable_modules(model)
    dna = genetic_encoding(model, masks, config)
    thresholds = {}
    for name, d in dna.items():  # one uniform per cluster and per synapse, in a fixed layer order
        u_c = torch.rand(d.p_cluster.shape, generator=gen)
        u_s = torch.rand(d.p_synapse.shape, generator=gen)
        thresholds[name] = survival_thresholds(d.p_cluster, d.p_synapse, u_c, u_s, config.factor_level)
    parent_synapses = int(sum(int(m.sum()) for m in masks.values()))

    def sample(f: float) -> Masks:  # a synapse dead in the parent never comes back
        child = {name: (t < f).reshape(modules[name].weight.shape) & masks[name].cpu() for name, t in thresholds.items()}
        return close_dead_channels(model, child) if config.environment == "flops" else child

    every = torch.cat([t.reshape(-1) for t in thresholds.values()])
    extra = {}
    if config.environment == "flops":  # the compacted offspring's FLOPs <= cap x the parent's
        example = torch.zeros(1, *model.input_shape, device=next(model.parameters()).device)
        flops_at = lambda f: count_flops(compact(model, sample(f)), example)  # noqa: E731
        parent_flops = count_flops(compact(model, masks), example)
        budget = math.floor(config.cap * parent_flops)
        f = compute_environmental_factor(every, flops_at, budget)
        extra = {"parent_flops": parent_flops, "flops_budget": budget}
    else:
        budget = synapse_budget(parent_synapses, config.cap)
        f = environmental_factor(every, budget)
    child = sample(f)
    kept = int(sum(int(m.sum()) for m in child.values()))
    f_c, f_s = factor_split(f, config.factor_level)
    info = {**extra,
        "parent_synapses": parent_synapses,
        "budget": budget,
        "expected_synapses": float(sum(float(d.p_keep.sum()) for d in dna.values())),
        "synapses": kept,
        "environmental_factor": f,
        "F_c": f_c,
        "F_s": f_s,
    }
    return child, info


def synthesize_offspring(
    parent: nn.Module, masks: Masks, config: EvolutionConfig, generation: int
) -> tuple[nn.Module, Masks, dict]:
    """Offspring of ``parent`` for ``generation`` (>= 2): new masks (``config.pruning``), and its weights.

    With ``config.inherit`` the offspring keeps the parent's surviving weights (and biases); otherwise every
    layer is re-initialised (seeded by config seed and generation) before masking. Dead synapses are exactly 0.
    """
    if config.pruning in ("magnitude", "random"):  # the baselines at equal synapses (baselines.py)
        child_masks, info = baseline_masks(parent, masks, config, generation)
    elif config.pruning == "structured":  # the baseline at equal FLOPs (structured.py)
        child_masks, info = structured_masks(parent, masks, config, generation)
    else:
        child_masks, info = sample_masks(parent, masks, config, generator(config.seed, generation, "synthesis"))
    child = copy.deepcopy(parent)
    if not config.inherit:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(generator(config.seed, generation, "reinit").initial_seed())
            for m in prunable_modules(child).values():
                m.reset_parameters()
    device = next(child.parameters()).device
    child_masks = {k: v.to(device) for k, v in child_masks.items()}
    apply_masks(child, child_masks)
    return child, child_masks, info
