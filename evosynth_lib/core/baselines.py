"""Baselines at equal synapses (beyond the papers): plain pruning to the evolution's synapse counts.

Is evolutionary synthesis better than plain pruning at the same size and the same training budget? These
offspring have *exactly* the requested number of synapses (``config.targets[g - 1]`` for generation ``g``, the
counts of the evolution they are compared with) and are trained exactly like an evolution's offspring:

* ``magnitude``: iterative global magnitude pruning, ``torch.nn.utils.prune.global_unstructured`` with
  ``L1Unstructured``: the smallest ``|w|`` among the live synapses of all layers go;
* ``random``: ``RandomUnstructured`` over the live synapses, seeded by (seed, generation).

(The third baseline, the synapse-only encoding of the group's 2016 paper, is a reading of the encoding itself:
``pruning: synapse_only`` in ``synthesis.genetic_encoding``.) A dead synapse never comes back.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import prune

from ..config import EvolutionConfig
from .masks import Masks, prunable_modules
from .seeding import generator


def baseline_masks(model: nn.Module, masks: Masks, config: EvolutionConfig, generation: int) -> tuple[Masks, dict]:
    """Masks of generation ``generation`` for ``config.pruning`` in (magnitude, random): exactly the target count."""
    target = config.targets[generation - 1]
    parent = int(sum(int(m.sum()) for m in masks.values()))
    if target > parent:
        raise ValueError(f"invalid targets[{generation - 1}]={target}: more than the parent's {parent} synapses")
    work = copy.deepcopy(model).cpu().to(memory_format=torch.contiguous_format)  # bf16 training leaves channels-last
    modules = prunable_modules(work)
    for name, m in modules.items():  # the parent's dead synapses stay dead: prune only among the live ones
        prune.custom_from_mask(m, "weight", masks[name].cpu())
    method = {"magnitude": prune.L1Unstructured, "random": prune.RandomUnstructured}[config.pruning]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(generator(config.seed, generation, "baseline").initial_seed())
        prune.global_unstructured([(m, "weight") for m in modules.values()], pruning_method=method,
                                  amount=parent - target)
    child = {name: m.weight_mask.detach().bool().clone() for name, m in modules.items()}
    kept = int(sum(int(m.sum()) for m in child.values()))
    return child, {"parent_synapses": parent, "budget": target, "expected_synapses": float(target),
                   "synapses": kept, "environmental_factor": 1.0, "F_c": 1.0, "F_s": 1.0}
