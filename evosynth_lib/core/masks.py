"""Masks: which synapses are alive. A mask is a bool tensor shaped like the weight it gates.

``masks`` maps the *parameter name* of a weight (``"layers.0.weight"``) to its mask. Every ``Conv2d`` and
``Linear`` weight is prunable; biases are never masked and never counted as synapses.
"""
from __future__ import annotations

import torch
from torch import nn

from .structure import network_structure

Masks = dict[str, torch.Tensor]


def prunable_modules(model: nn.Module) -> dict[str, nn.Module]:
    """``{weight parameter name: module}`` for every Conv2d / Linear, in forward order."""
    return {f"{name}.weight": m for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}


def prunable_weights(model: nn.Module) -> dict[str, nn.Parameter]:
    return {name: m.weight for name, m in prunable_modules(model).items()}


def layer_names(model: nn.Module) -> dict[str, str]:
    """``{weight parameter name: short layer name}`` (``conv1``, ``ip1``...: the model's ``layer_names``)."""
    return network_structure(model).names()


def full_masks(model: nn.Module) -> Masks:
    """All synapses alive: the ancestor's masks."""
    return {name: torch.ones_like(w, dtype=torch.bool) for name, w in prunable_weights(model).items()}


@torch.no_grad()
def apply_masks(model: nn.Module, masks: Masks) -> None:
    """Zero every dead synapse (in place). Called after every optimizer step."""
    weights = prunable_weights(model)
    for name, mask in masks.items():
        weights[name].mul_(mask.to(weights[name].device, weights[name].dtype))


@torch.no_grad()
def mask_gradients(model: nn.Module, masks: Masks) -> None:
    """Zero the gradient of every dead synapse (in place), so momentum and weight decay never revive it."""
    weights = prunable_weights(model)
    for name, mask in masks.items():
        g = weights[name].grad
        if g is not None:
            g.mul_(mask.to(g.device, g.dtype))


def masks_to(masks: Masks, device: torch.device | str) -> Masks:
    return {k: v.to(device) for k, v in masks.items()}
