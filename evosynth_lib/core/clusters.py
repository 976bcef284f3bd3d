"""Synaptic clusters: how a layer's weights group into clusters (the seed paper: one kernel = one cluster).

``cluster_view`` reshapes a weight (or its mask) to ``[n_clusters, cluster_size]``:

* ``Conv2d`` ``(O, I, k, k)``: a cluster is the ``k x k`` kernel linking input channel ``i`` to output ``o``.
* ``Linear`` after a conv/pool stage (it carries ``cluster_input_shape = (C, h, w)``): it acts as a conv whose
  kernel covers the ``C x h x w`` map, so a cluster is the ``h x w`` weights from input channel ``c`` to unit ``o``.
* ``Linear`` after a ``Linear``: a 1x1 "kernel", i.e. one synapse per cluster.

``granularity="filter"`` makes all kernels of one output channel one cluster (the paper's "set of kernels"),
except in the network's output layer, whose units are fixed by the task (a class, the coverage map): there a
cluster stays a kernel, so one draw never removes an output whole (:func:`layer_granularities`). ``"synapse"`` makes every
synapse its own cluster (the cluster factor then acts per synapse).
"""
from __future__ import annotations

import torch
from torch import nn

from ..config import GRANULARITIES
from .masks import Masks, layer_names, prunable_modules


def cluster_view(weight: torch.Tensor, module: nn.Module, granularity: str = "kernel") -> torch.Tensor:
    """``weight`` (or a mask of its shape) as ``[n_clusters, cluster_size]``; a view where possible."""
    if granularity == "synapse":
        return weight.reshape(-1, 1)
    out = weight.shape[0]
    if granularity == "filter":
        return weight.reshape(out, -1)
    if granularity != "kernel":
        raise ValueError(f"invalid granularity={granularity!r}: choose one of {', '.join(GRANULARITIES)}")
    if weight.dim() == 4:  # conv: (O, I, kh, kw)
        return weight.reshape(out * weight.shape[1], -1)
    shape = getattr(module, "cluster_input_shape", None)
    if shape is not None:  # linear reading a C x h x w map
        c, h, w = shape
        return weight.reshape(out * c, h * w)
    return weight.reshape(-1, 1)


def layer_granularities(model: nn.Module, granularity: str = "kernel") -> dict[str, str]:
    """``{parameter name: granularity}``: ``granularity`` everywhere, but ``filter`` -> ``kernel`` in the output layer."""
    keys = list(prunable_modules(model))
    return {k: "kernel" if granularity == "filter" and k == keys[-1] else granularity for k in keys}


def live_clusters(model: nn.Module, masks: Masks, granularity: str = "kernel") -> dict[str, int]:
    """``{layer name: number of clusters with at least one live synapse}``."""
    modules, names, g = prunable_modules(model), layer_names(model), layer_granularities(model, granularity)
    return {names[k]: int(cluster_view(masks[k], modules[k], g[k]).any(dim=1).sum()) for k in modules}


def total_clusters(model: nn.Module, granularity: str = "kernel") -> dict[str, int]:
    """``{layer name: number of clusters}`` of the architecture (dead or alive)."""
    modules, names, g = prunable_modules(model), layer_names(model), layer_granularities(model, granularity)
    return {names[k]: cluster_view(m.weight, m, g[k]).shape[0] for k, m in modules.items()}
