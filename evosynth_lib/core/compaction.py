"""Compaction (beyond the papers): the physically smaller dense network equivalent to a masked one.

The papers report *potential* speed-ups (cluster efficiency). To measure real ones we rebuild the network
without what the masks killed. The unit is a *channel group* of the network's dependency graph
(``structure.py``): output channels that exist together (one layer's, or those of every layer feeding the same
residual sum), with the layers that read them. A group's channel is removed when

* no layer reads it any more (every reader's weights on it are dead), or
* every layer producing it is dead on it, so it carries a constant (its bias, through ReLU, pooling,
  normalisation): the constant is folded into the readers' biases where that is exact (the reader is fully
  connected, or a convolution without zero padding), a zero constant needs no fold; then nobody reads it.

Removing a channel zeroes what its producers spent on it, which can leave more channels unread or dead; this
repeats until nothing changes. The network's input channels and the channels of layers that feed its output are
never touched, so the compact network computes the same function (checked to 1e-5 by the tests, and on a
random input by :func:`compact` itself). Channels are removed physically by Torch-Pruning's dependency graph.

Hardware alignment (``align=m``): matrix units and vectorised kernels run fastest on channel counts that are
multiples of 8 or 16; a compacted layer with 41 channels can be slower than the full one with 64. With
``align=m`` each group keeps ``ceil(kept / m) * m`` channels (never more than it had): the extra ones are
removed channels put back as *zero channels* (nobody reads them), so the function is unchanged. Which ``m`` is
fastest is a property of the device and engine: ``run/deploy.py`` chooses it by measurement.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .masks import Masks, apply_masks
from .structure import ChannelGroup, Structure, _out_fn, network_structure


def _align_alive(alive: torch.Tensor, align: int) -> None:
    """Put back the lowest-index dropped channels until the kept count is a multiple of ``align`` (in place)."""
    kept, total = int(alive.sum()), alive.numel()
    target = min(total, -(-kept // align) * align)
    if target > kept:
        dropped = torch.nonzero(~alive).flatten()[: target - kept]
        alive[dropped] = True


def _example(model: nn.Module) -> torch.Tensor:
    p = next(model.parameters())
    g = torch.Generator().manual_seed(0)  # never the global generator: compaction must not change training
    return torch.rand(2, *model.input_shape, generator=g).to(p.device, p.dtype)


def _reader_inputs(model: nn.Module, s: Structure) -> dict[str, torch.Tensor]:
    """What each layer reads, on a fixed random input (only the constant channels' values are used)."""
    seen, handles = {}, []
    for key, layer in s.layers.items():
        handles.append(layer.module.register_forward_pre_hook(
            lambda _m, args, key=key: seen.__setitem__(key, args[0].detach().clone())))
    try:
        model(_example(model))
    finally:
        for h in handles:
            h.remove()
    return seen


def _foldable(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear) or all(p == 0 for p in module.padding)


def _remove_channel(s: Structure, g: ChannelGroup, o: int, inputs) -> bool:
    """Make channel ``o`` of group ``g`` unread (module docstring); False when it must stay."""
    layers = s.layers
    readers = {k: (layers[k].module, t[o]) for k, t in g.readers.items()}
    read = any(bool(m.weight[:, i].any()) for m, i in readers.values())
    if read:
        if any(bool(layers[k].module.weight[t[o]].any()) for k, t in g.producers.items()):
            return False  # alive and read
        inputs = inputs()
        values = [inputs[k][:, i] for k, (_, i) in readers.items()]
        c = values[0].flatten()[0]
        if not all(bool((v == c).all()) for v in values):
            return False
        if c != 0:
            if not all(_foldable(m) for m, _ in readers.values()):
                return False
            for m, i in readers.values():
                w = m.weight[:, i]
                m.bias += c * w.reshape(w.shape[0], -1).sum(dim=1)
        for m, i in readers.values():
            m.weight[:, i] = 0
    for k, t in g.producers.items():
        m = layers[k].module
        m.weight[t[o]] = 0
        m.bias[t[o]] = 0
    return True


@torch.no_grad()
def compact(model: nn.Module, masks: Masks | None = None, align: int = 1) -> nn.Module:
    """A dense copy of ``model`` (masks applied) without dead or unread channels; same outputs.

    ``align``: round each channel group's kept channels up to a multiple of it with zero channels (module
    docstring); 1 (the default) keeps exactly the live ones.
    """
    if not isinstance(align, int) or isinstance(align, bool) or align < 1:
        raise ValueError(f"align must be an integer >= 1, got {align!r}")
    model = copy.deepcopy(model).eval()
    if masks is not None:
        apply_masks(model, masks)
    s = network_structure(model)
    for layer in s.layers.values():  # a fold needs a bias
        m = layer.module
        if m.bias is None:
            m.bias = nn.Parameter(torch.zeros(m.weight.shape[0], device=m.weight.device, dtype=m.weight.dtype))
    reference = model(_example(model))
    cache = {}

    def inputs():  # folds keep every live value, so one pass serves the whole loop
        if not cache:
            cache.update(_reader_inputs(model, s))
        return cache

    alive = {g.root: torch.ones(g.size, dtype=torch.bool) for g in s.groups}
    changed = True
    while changed:
        changed = False
        for g in s.groups:
            for o in torch.nonzero(alive[g.root]).flatten().tolist():
                if _remove_channel(s, g, o, inputs):
                    alive[g.root][o] = False
                    changed = True
    for g in s.groups:
        keep = alive[g.root]
        if not keep.any():  # never leave a layer empty
            keep[0] = True
        if align > 1:
            _align_alive(keep, align)
        removed = torch.nonzero(~keep).flatten().tolist()
        if removed:
            root = s.layers[g.root].module
            s.graph.get_pruning_group(root, _out_fn(root), idxs=removed).prune()
    difference = float((model(_example(model)) - reference).abs().max()) if reference.numel() else 0.0
    if not difference <= 1e-4 * max(1.0, float(reference.abs().max())):
        raise RuntimeError(f"compaction changed the network's outputs by {difference:.3g}: a structure the "
                           "dependency graph does not describe exactly")
    return model


def dense_weights(model: nn.Module) -> int:
    """Weights (biases excluded) of every Conv2d/Linear, dead or alive."""
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


@torch.no_grad()
def count_flops(model: nn.Module, example_input: torch.Tensor) -> int:
    """FLOPs of one forward pass, counted by ``torch.utils.flop_counter`` (a multiply-add = 2 FLOPs)."""
    was_training = model.training
    model.eval()
    with FlopCounterMode(display=False) as counter:
        model(example_input)
    model.train(was_training)
    return int(counter.get_total_flops())
