"""The baseline at equal compute (beyond the papers): structured filter pruning to the evolution's FLOP counts.

Where the compute environment (``environment.py``) caps each offspring's FLOPs, the strongest plain alternative
is the field's standard structured pruning: L1-norm filter pruning (Li et al., 2017) through Torch-Pruning's
dependency graph (``structure.py``) and its group importance (``GroupMagnitudeImportance(p=1)``: a channel's score
is the mean L1 norm of the weights its group couples). Every channel group loses the same fraction ``r`` of its
channels, the lowest-scoring first, with ``r`` the smallest (by bisection) whose compacted network's dense FLOPs
are at most the target (``config.targets[g - 1]``, the FLOPs of the evolution it is compared with). A uniform
fraction rather than one global ranking: scores of layers of different sizes do not compare, and a global ranking
empties the wide fully connected layers long before it touches the convolutions that hold the FLOPs.

A removed channel is expressed as masks: its producers' weights *and* its readers' weights on it are dead, so
compaction removes it physically (the network's function loses the channel, bias included, as a physically
pruned network does). The channels of layers that feed the output are never ranked. The offspring is trained
exactly like an evolution's offspring; a dead synapse never comes back.
"""
from __future__ import annotations

import copy

import torch
import torch_pruning as tp
from torch import nn

from ..config import EvolutionConfig
from .compaction import compact, count_flops
from .masks import Masks, apply_masks
from .structure import _out_fn, network_structure


def channel_ranking(model: nn.Module, masks: Masks) -> dict[str, list[int]]:
    """Per channel group (its root's parameter name): its channels, least important (group L1 norm) first."""
    work = copy.deepcopy(model).cpu().float().to(memory_format=torch.contiguous_format)
    apply_masks(work, masks)
    s = network_structure(work)
    importance = tp.importance.GroupMagnitudeImportance(p=1, group_reduction="mean", normalizer=None)
    ranking = {}
    for g in s.groups:
        root = s.layers[g.root].module
        values = importance(s.graph.get_pruning_group(root, _out_fn(root), idxs=list(range(g.size))))
        ranking[g.root] = torch.argsort(values.cpu(), stable=True).tolist()
    return ranking


def _first(ranking: dict[str, list[int]], step: int, steps: int) -> list[tuple[str, int]]:
    return [(k, o) for k, order in ranking.items() for o in order[: len(order) * step // steps]]


def without_channels(model: nn.Module, masks: Masks, channels: list[tuple[str, int]]) -> Masks:
    """``masks`` with each ``(group root, channel)`` removed: its producers' and readers' synapses dead."""
    s, out = network_structure(model), {k: v.clone() for k, v in masks.items()}
    groups = {g.root: g for g in s.groups}
    for root, o in channels:
        g = groups[root]
        for k, table in g.producers.items():
            out[k][table[o]] = False
        for k, table in g.readers.items():
            out[k][:, table[o]] = False
    return out


def close_dead_channels(model: nn.Module, masks: Masks) -> Masks:
    """``masks`` where every channel whose producers are all dead is unread too (its readers' synapses on it dead).

    A dead filter outputs a constant (its bias through the activation); a padded convolution reading it cannot
    absorb that constant into its bias, so compaction would have to keep the channel. Killing what reads it lets
    compaction remove it: the compute environment's reading of a dead cluster (``environment.py``).
    """
    s, dead = network_structure(model), []
    for g in s.groups:
        alive = torch.zeros(g.size, dtype=torch.bool)
        for k, table in g.producers.items():
            rows = masks[k].reshape(masks[k].shape[0], -1).any(dim=1).cpu()
            alive |= rows[table].any(dim=1)
        dead += [(g.root, int(o)) for o in torch.nonzero(~alive).flatten()]
    return without_channels(model, masks, dead) if dead else masks


def structured_masks(model: nn.Module, masks: Masks, config: EvolutionConfig, generation: int) -> tuple[Masks, dict]:
    """Masks of generation ``generation`` for ``pruning: structured``: compacted FLOPs <= ``targets[g - 1]``.

    ``targets[0]`` is the ancestor's FLOPs, counted at whatever input the targets were (the paired run's
    ``flops_compact``, at its task's input); here they are counted at ``model.input_shape``, so each target is
    scaled by the ancestor's FLOPs at that shape over ``targets[0]`` (exact for a fully convolutional network,
    whose FLOPs grow with the input's area; 1 when the shapes agree)."""
    example = torch.zeros(1, *model.input_shape, device=next(model.parameters()).device)
    target = config.targets[generation - 1] * count_flops(model, example) / config.targets[0]  # the dense ancestor
    ranking, steps = channel_ranking(model, masks), 4096
    flops_at = lambda n: count_flops(compact(model, without_channels(model, masks, _first(ranking, n, steps))),  # noqa: E731
                                     example)
    lo, hi = 0, steps  # the smallest fraction lo / steps whose FLOPs meet the target
    if flops_at(hi) > target:
        raise ValueError(f"invalid targets[{generation - 1}]={target}: fewer FLOPs than removing every removable "
                         f"channel leaves ({flops_at(hi)})")
    while lo < hi:
        mid = (lo + hi) // 2
        if flops_at(mid) <= target:
            hi = mid
        else:
            lo = mid + 1
    removed = _first(ranking, lo, steps)
    child = without_channels(model, masks, removed)
    parent, kept = (int(sum(int(m.sum()) for m in d.values())) for d in (masks, child))
    return child, {"parent_synapses": parent, "budget": config.targets[generation - 1], "expected_synapses": float(kept), "synapses": kept,
                   "environmental_factor": 1.0, "F_c": 1.0, "F_s": 1.0, "removed_channels": len(removed)}
