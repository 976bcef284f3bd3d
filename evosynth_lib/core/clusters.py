"""Synaptic clusters: how a layer's weights group into clusters (the seed paper: one kernel = one cluster).

``cluster_view`` reshapes a weight (or its mask) to ``[n_clusters, cluster_size]``:

* ``Conv2d`` ``(O, I, k, k)``: a cluster is the ``k x k`` kernel linking input channel ``i`` to output ``o``.
* ``Linear`` after a conv/pool stage (its dependency graph says it reads a ``C x h x w`` map, ``structure.py``): it
  acts as a conv whose kernel covers the map, so a cluster is the ``h x w`` weights from input channel ``c`` to
  unit ``o``.
* ``Linear`` after a ``Linear``: a 1x1 "kernel", i.e. one synapse per cluster.

``granularity="filter"`` makes all kernels of one output channel one cluster (the paper's "set of kernels"),
except in the network's output layer, whose units are fixed by the task (a class, the coverage map): there a
cluster stays a kernel, so one draw never removes an output whole (:func:`layer_granularities`; the output
layers are those the dependency graph finds feeding the network's output). ``"synapse"`` makes every
synapse its own cluster (the cluster factor then acts per synapse).
"""
from __future__ import annotations

import torch
from torch import nn

from ..config import GRANULARITIES
from .masks import Masks
from .structure import network_structure


def cluster_view(weight: torch.Tensor, input_channels: int, granularity: str = "kernel") -> torch.Tensor:
    """``weight`` (or a mask of its shape) as ``[n_clusters, cluster_size]``; a view where possible.

    ``input_channels``: how many input channels the weight reads (``structure.Layer.input_channels``): a
    conv's ``I``, the ``C`` of the map a ``Linear`` reads, or a plain ``Linear``'s inputs (1x1 kernels).
    """
    if granularity == "synapse":
        return weight.reshape(-1, 1)
    out = weight.shape[0]
    if granularity == "filter":
        return weight.reshape(out, -1)
    if granularity != "kernel":
        raise ValueError(f"invalid granularity={granularity!r}: choose one of {', '.join(GRANULARITIES)}")
    return weight.reshape(out * input_channels, -1)


def layer_granularities(model: nn.Module, granularity: str = "kernel") -> dict[str, str]:
    """``{parameter name: granularity}``: ``granularity`` everywhere, but ``filter`` -> ``kernel`` in output layers."""
    layers = network_structure(model).layers
    return {k: "kernel" if granularity == "filter" and l.output else granularity for k, l in layers.items()}


def layer_clusters(model: nn.Module, key: str, weight: torch.Tensor, granularity: str = "kernel") -> torch.Tensor:
    """:func:`cluster_view` of ``weight`` (or a mask) of the layer whose weight is ``key``."""
    layer = network_structure(model).layers[key]
    return cluster_view(weight, layer.input_channels, layer_granularities(model, granularity)[key])


def live_clusters(model: nn.Module, masks: Masks, granularity: str = "kernel") -> dict[str, int]:
    """``{layer name: number of clusters with at least one live synapse}``."""
    layers = network_structure(model).layers
    return {l.name: int(layer_clusters(model, k, masks[k], granularity).any(dim=1).sum()) for k, l in layers.items()}


def total_clusters(model: nn.Module, granularity: str = "kernel") -> dict[str, int]:
    """``{layer name: number of clusters}`` of the architecture (dead or alive)."""
    layers = network_structure(model).layers
    return {l.name: layer_clusters(model, k, l.module.weight, granularity).shape[0] for k, l in layers.items()}
