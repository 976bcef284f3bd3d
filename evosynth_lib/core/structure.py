"""What the core needs to know of a network, read from its dependency graph rather than from conventions.

Any torch network whose weighted layers are ``Conv2d`` and ``Linear`` can be evolved, residual (added) and
concatenating branches included. It meets the :class:`Evolvable` protocol when it states the shape of one input
(``input_shape``) and a short name per weighted layer (``layer_names``); :func:`evolvable` adds both to any
module. From one traced forward pass, Torch-Pruning's ``DependencyGraph`` tells which layers' channels are
coupled (a residual sum couples the output channels of every layer that feeds it; a ``Linear`` after a
flatten reads each channel of the map as a block of ``h x w`` inputs). :func:`network_structure` turns that into
a :class:`Structure`:

* per weighted layer (:class:`Layer`), in the module's definition order (the order the masks are drawn in):
  how many input channels its weight reads (a ``Linear`` after a ``C x h x w`` map reads ``C``, so its synaptic
  clusters are ``h x w`` kernels, ``clusters.py``), and whether it feeds the network's output (its output
  channels are fixed by the task: never removed, and never drawn as whole filters);
* per channel group (:class:`ChannelGroup`): the output channels that must be kept or removed together, with
  the layers that produce them and the layers that read them (``compaction.py`` removes channels through it).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

import torch
import torch_pruning as tp
from torch import nn

WEIGHTED = (nn.Conv2d, nn.Linear)


@runtime_checkable
class Evolvable(Protocol):
    """A network the core can evolve: a forward pass, the shape of one input, a short name per weighted layer."""

    input_shape: tuple[int, ...]
    layer_names: Sequence[str]

    def forward(self, x: torch.Tensor) -> torch.Tensor: ...


def evolvable(model: nn.Module, input_shape: Sequence[int], layer_names: Sequence[str] | None = None) -> nn.Module:
    """Make ``model`` meet :class:`Evolvable` (in place; returns it). Names default to ``layer1``, ``layer2``..."""
    n = sum(isinstance(m, WEIGHTED) for m in model.modules())
    names = list(layer_names) if layer_names is not None else [f"layer{i + 1}" for i in range(n)]
    if len(names) != n:
        raise ValueError(f"{len(names)} layer names for {n} weighted layers (Conv2d / Linear)")
    model.input_shape, model.layer_names = tuple(int(s) for s in input_shape), names
    return model


@dataclass(frozen=True)
class Layer:
    param: str  # the weight's parameter name, the key of its mask
    module: nn.Module
    name: str  # short name for tables: conv1, ip1...
    input_channels: int  # channels its weight reads (a Linear after a C x h x w map: C)
    output: bool  # feeds the network's output: its output channels are fixed


@dataclass(frozen=True)
class ChannelGroup:
    """Output channels removed together: ``producers``/``readers`` map a layer's parameter name to the index, in
    its output (producers) or input (readers) dimension, of each of the group's channels (``[n, k]``: ``k``
    indices per channel, e.g. the ``h x w`` inputs of a ``Linear`` reading a flattened map)."""

    root: str
    size: int
    producers: dict[str, torch.Tensor]
    readers: dict[str, torch.Tensor]


@dataclass(frozen=True)
class Structure:
    layers: dict[str, Layer]
    groups: list[ChannelGroup]
    graph: tp.DependencyGraph

    def names(self) -> dict[str, str]:
        return {k: l.name for k, l in self.layers.items()}


def _out_fn(module: nn.Module):
    return tp.prune_conv_out_channels if isinstance(module, nn.Conv2d) else tp.prune_linear_out_channels


def _feeds_output(graph: tp.DependencyGraph, module: nn.Module) -> bool:
    """Whether the module's output reaches the network's output without passing through a weighted layer."""
    seen, todo = set(), list(graph.module2node[module].outputs)
    while todo:
        node = todo.pop()
        if id(node) in seen or isinstance(node.module, WEIGHTED):
            continue
        seen.add(id(node))
        if not node.outputs:
            return True
        todo.extend(node.outputs)
    return not graph.module2node[module].outputs


def _group(graph: tp.DependencyGraph, root: nn.Module, names: dict[nn.Module, str]) -> ChannelGroup:
    n = root.weight.shape[0]
    found = graph.get_pruning_group(root, _out_fn(root), idxs=list(range(n)))
    producers, readers = {}, {}
    for item in found.items:
        module, handler = item.dep.target.module, item.dep.handler
        if module not in names:
            continue
        idxs = torch.tensor([int(i) for i in item.idxs])
        roots = torch.tensor([int(i) for i in item.root_idxs])
        order = torch.argsort(roots * (len(idxs) + 1) + torch.arange(len(idxs)), stable=True)
        table = idxs[order].reshape(n, -1)
        is_out = getattr(handler, "__name__", "") == "prune_out_channels"
        (producers if is_out else readers)[names[module]] = table
    return ChannelGroup(names[root], n, producers, readers)


def _build(model: nn.Module) -> Structure:
    if not isinstance(model, Evolvable):
        raise TypeError(f"{type(model).__name__} does not state input_shape and layer_names: wrap it with "
                        "evosynth_lib.core.structure.evolvable(model, input_shape)")
    weighted = {f"{n}.weight": m for n, m in model.named_modules() if isinstance(m, WEIGHTED)}
    if len(model.layer_names) != len(weighted):
        raise ValueError(f"model declares {len(model.layer_names)} layer names for {len(weighted)} weighted layers")
    p = next(model.parameters())
    example = torch.zeros(1, *model.input_shape, device=p.device, dtype=p.dtype)
    was_training = model.training
    inplace = [m for m in model.modules() if getattr(m, "inplace", False) is True]
    model.eval()
    try:  # the graph is traced through autograd, which in-place activations hide
        for m in inplace:
            m.inplace = False
        with torch.inference_mode(False), torch.enable_grad():
            graph = tp.DependencyGraph().build_dependency(model, example_inputs=example)
    finally:
        model.train(was_training)
        for m in inplace:
            m.inplace = True
    missing = [k for k, m in weighted.items() if m not in graph.module2node]
    if missing:
        raise ValueError(f"layers {', '.join(missing)} are not on the traced forward pass from an input of shape "
                         f"{tuple(model.input_shape)}: every Conv2d / Linear must be used")
    by_module = {m: k for k, m in weighted.items()}
    groups, grouped = [], set()
    outputs = {k: _feeds_output(graph, m) for k, m in weighted.items()}
    for key, module in weighted.items():
        if key in grouped:
            continue
        group = _group(graph, module, by_module)
        grouped.update(group.producers)
        if any(outputs[k] for k in group.producers):  # coupled to the output: fixed
            outputs.update({k: True for k in group.producers})
        else:
            groups.append(group)
    channels = {k: m.weight.shape[1] for k, m in weighted.items()}
    for g in groups:  # a reader of k indices per channel reads (its inputs / k) channels
        for k, table in g.readers.items():
            if isinstance(weighted[k], nn.Linear):
                channels[k] = weighted[k].weight.shape[1] // table.shape[1]
    layers = {k: Layer(k, m, name, channels[k], outputs[k])
              for (k, m), name in zip(weighted.items(), model.layer_names)}
    return Structure(layers, groups, graph)


_CACHE: "weakref.WeakKeyDictionary[nn.Module, tuple[tuple, Structure]]" = weakref.WeakKeyDictionary()


def network_structure(model: nn.Module) -> Structure:
    """The model's :class:`Structure` (cached per model while its layers' shapes stay the same)."""
    key = tuple((id(m), tuple(m.weight.shape)) for m in model.modules() if isinstance(m, WEIGHTED))
    cached = _CACHE.get(model)
    if cached is None or cached[0] != key:
        cached = (key, _build(model))
        _CACHE[model] = cached
    return cached[1]
