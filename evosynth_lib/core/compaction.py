"""Compaction (beyond the papers): the physically smaller dense network equivalent to a masked one.

The papers report *potential* speed-ups (cluster efficiency). To measure real ones we rebuild the network
without what the masks killed:

* an output channel (unit) that the next layer no longer reads is dropped;
* an output channel whose weights are all dead outputs a constant (its bias, through ReLU/max-pooling); it is
  dropped and, when that is exact, its constant is folded into the next layer's bias (next layer fully
  connected, or a convolution without zero padding); a zero constant is simply dropped;
* dropping a layer's output channel removes the matching input channel of the next layer, which can make
  more channels unread; this repeats until nothing changes.

The input channels of the first layer and the outputs of the last layer are never touched, so the compact
network computes the same function (checked to 1e-5 by the tests). Needs the model's weighted layers in one
``nn.Sequential`` called ``layers`` with only ReLU, max-pooling, dropout and flatten between them.

Hardware alignment (``align=m``): matrix units and vectorised kernels run fastest on channel counts that are
multiples of 8 or 16; a compacted layer with 41 channels can be slower than the full one with 64. With
``align=m`` each layer whose outputs are not the network's keeps ``ceil(kept / m) * m`` output channels (never
more than it had): the extra ones are dropped channels put back as *zero channels* (zero weights, zero bias,
and zero weights in the next layer reading them), so the function is unchanged. Which ``m`` is fastest is a
property of the device and engine: ``run/deploy.py`` chooses it by measurement.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .masks import Masks, apply_masks

_BETWEEN = (nn.ReLU, nn.MaxPool2d, nn.Dropout, nn.Flatten, nn.Identity)


def _in_view(layer: nn.Module, w: torch.Tensor) -> torch.Tensor:
    """The weight as ``[out, in_channels, rest]`` where an input channel is what the previous layer outputs."""
    if isinstance(layer, nn.Conv2d):
        return w.reshape(w.shape[0], w.shape[1], -1)
    shape = getattr(layer, "cluster_input_shape", None)
    if shape is not None:
        return w.reshape(w.shape[0], shape[0], -1)
    return w.reshape(w.shape[0], w.shape[1], 1)


def _new_layer(layer: nn.Module, w: torch.Tensor, b: torch.Tensor, keep_in: torch.Tensor, keep_out: torch.Tensor):
    w = _in_view(layer, w)[keep_out][:, keep_in]
    if isinstance(layer, nn.Conv2d):
        new = nn.Conv2d(int(keep_in.sum()), int(keep_out.sum()), layer.kernel_size, layer.stride, layer.padding,
                        layer.dilation, bias=True)
        new.weight.data = w.reshape(w.shape[0], w.shape[1], *layer.kernel_size).contiguous()
    else:
        new = nn.Linear(w.shape[1] * w.shape[2], w.shape[0], bias=True)
        new.weight.data = w.reshape(w.shape[0], -1).contiguous()
        shape = getattr(layer, "cluster_input_shape", None)
        if shape is not None:
            new.cluster_input_shape = (int(keep_in.sum()), shape[1], shape[2])
    new.bias.data = b[keep_out].clone()
    return new.to(layer.weight.device, layer.weight.dtype)


def _align_alive(alive: torch.Tensor, align: int) -> None:
    """Put back the lowest-index dropped channels until the kept count is a multiple of ``align`` (in place)."""
    kept, total = int(alive.sum()), alive.numel()
    target = min(total, -(-kept // align) * align)
    if target > kept:
        dropped = torch.nonzero(~alive).flatten()[: target - kept]
        alive[dropped] = True


@torch.no_grad()
def compact(model: nn.Module, masks: Masks | None = None, align: int = 1) -> nn.Module:
    """A dense copy of ``model`` (masks applied) without dead or unread channels; same outputs.

    ``align``: round each hidden layer's kept output channels up to a multiple of it with zero channels
    (module docstring); 1 (the default) keeps exactly the live ones.
    """
    if not isinstance(align, int) or isinstance(align, bool) or align < 1:
        raise ValueError(f"align must be an integer >= 1, got {align!r}")
    model = copy.deepcopy(model).eval()
    if masks is not None:
        apply_masks(model, masks)
    seq = model.layers
    idx = [i for i, l in enumerate(seq) if isinstance(l, (nn.Conv2d, nn.Linear))]
    for a, b in zip(idx, idx[1:]):
        for op in seq[a + 1: b]:
            if not isinstance(op, _BETWEEN) or (isinstance(op, nn.MaxPool2d) and op.ceil_mode):
                raise NotImplementedError(f"compaction does not handle {type(op).__name__} between layers")
    layers = [seq[i] for i in idx]
    W = [l.weight.detach().clone() for l in layers]
    B = [l.bias.detach().clone() if l.bias is not None else torch.zeros(l.weight.shape[0], device=l.weight.device,
                                                                        dtype=l.weight.dtype) for l in layers]
    alive = [torch.ones(w.shape[0], dtype=torch.bool, device=w.device) for w in W]
    changed = True
    while changed:
        changed = False
        for k in range(len(layers) - 1):
            between = seq[idx[k] + 1: idx[k + 1]]
            relu = any(isinstance(op, nn.ReLU) for op in between)
            nxt = layers[k + 1]
            exact_fold = isinstance(nxt, nn.Linear) or all(p == 0 for p in nxt.padding)
            wn = _in_view(nxt, W[k + 1])  # a view: edits go to W[k+1]
            read = wn.abs().sum(dim=(0, 2)) > 0
            dead = W[k].reshape(W[k].shape[0], -1).abs().sum(dim=1) == 0
            for o in torch.nonzero(alive[k]).flatten().tolist():
                if read[o] and not dead[o]:
                    continue
                if read[o]:  # dead but read: its output is a constant
                    v = torch.relu(B[k][o]) if relu else B[k][o]
                    if v != 0:
                        if not exact_fold:
                            continue
                        B[k + 1] += v * wn[:, o].sum(dim=1)
                    wn[:, o] = 0
                alive[k][o] = False
                W[k][o] = 0
                B[k][o] = 0
                changed = True
    for k in range(len(layers)):  # never leave a layer empty
        if not alive[k].any():
            alive[k][0] = True
        if align > 1 and k < len(layers) - 1:  # dropped channels have zero weights, bias and readers
            _align_alive(alive[k], align)
    for k, i in enumerate(idx):
        keep_in = alive[k - 1] if k > 0 else torch.ones(_in_view(layers[0], W[0]).shape[1], dtype=torch.bool,
                                                        device=W[0].device)
        seq[i] = _new_layer(layers[k], W[k], B[k], keep_in, alive[k])
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
