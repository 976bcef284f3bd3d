"""Synaptic precision restriction (paper 2): after each generation's training, weights are rounded to fp16.

Training itself stays in fp32; the next generation is synthesised from the restricted weights. Rounding is
round-to-nearest-even (``tensor.half()``), stored back as fp32 values that are exactly representable in fp16.
Values beyond fp16's range (|w| > 65504) would become inf; :func:`restrict_to_fp16` refuses them.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

FP16_MAX = float(torch.finfo(torch.float16).max)


@torch.no_grad()
def restrict_to_fp16(model: nn.Module) -> nn.Module:
    """Round every floating-point parameter and buffer of ``model`` to fp16 precision, in place (idempotent)."""
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        if t.is_floating_point():
            if t.abs().max() > FP16_MAX if t.numel() else False:
                raise ValueError(f"{name} has values beyond fp16's range (|x| > {FP16_MAX}); cannot restrict")
            t.copy_(t.half().to(t.dtype))
    return model


def is_fp16_representable(t: torch.Tensor) -> bool:
    """True when every value of ``t`` survives a round trip through fp16 unchanged."""
    return bool(torch.equal(t.half().to(t.dtype), t))


def supports_half(device: torch.device | str) -> bool:
    """Whether a half-precision conv runs on ``device`` (tried, not assumed)."""
    try:
        conv = nn.Conv2d(1, 1, 3).to(device).half()
        conv(torch.zeros(1, 1, 8, 8, device=device, dtype=torch.float16))
        return True
    except (RuntimeError, NotImplementedError):
        return False


class HalfPrecisionInference(nn.Module):
    """A copy of ``model`` run in ``dtype`` (float16 by default): inputs are cast in, outputs back to float32.

    For evaluating a network in half precision with code written for float32 (``evolve`` does this when
    ``config.extra["half_inference"]`` is set and :func:`supports_half` says the device runs it).
    """

    def __init__(self, model: nn.Module, dtype: torch.dtype = torch.float16):
        super().__init__()
        self.model = copy.deepcopy(model).to(dtype)
        self.dtype = dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.to(self.dtype)).float()
