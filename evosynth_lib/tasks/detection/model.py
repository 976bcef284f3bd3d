"""DetectNet (NVIDIA DIGITS), small: the detector paper 2 evolves. Outputs are decoded in ``boxes.py``."""
from __future__ import annotations

import math

import torch
from torch import nn

class DetectNet(nn.Module):
    """A small fully convolutional DetectNet: 3x3 conv + ReLU layers with 2x2 max-pooling, then a 1x1
    conv to 5 output channels (coverage logit + 4 box offsets). No BatchNorm, no Linear layer: every
    weight is a conv kernel, i.e. a synaptic cluster. Biases everywhere.

    Layers for ``width = w`` (``stride=8``; ``stride=16``, the default as in DetectNet, adds a 2x2
    max-pool after conv5; the receptive field of an output cell is then 118 pixels, 78 with stride 8)::

        conv1  w  @3x3x3    pool   conv2 2w @3x3xw   pool
        conv3 4w  @3x3x2w          conv4 4w @3x3x4w  pool        (stride 8 here)
        conv5 8w  @3x3x4w          conv6 8w @3x3x8w  conv7 8w @3x3x8w
        cvg_bbox 5 @1x1x8w

    ``w = 16`` has 429,616 weights (biases excluded). The input height and width must be multiples of
    ``stride``; inputs are RGB in ``[0, 1]``. As the classifiers (``classification/models.py``), it meets the core's
    ``Evolvable`` protocol: ``input_shape`` (one input the network is traced with: it is fully convolutional, any
    size that is a multiple of ``stride`` works) and ``layer_names``.
    """

    def __init__(self, width: int = 16, stride: int = 16, in_channels: int = 3, cover_prior: float = 0.02):
        super().__init__()
        if stride not in (8, 16):
            raise ValueError(f"stride must be 8 or 16, got {stride!r}")
        if width < 1:
            raise ValueError(f"width must be >= 1, got {width!r}")
        self.stride, self.width = stride, width
        w = width

        def conv(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]

        pool = [nn.MaxPool2d(2, 2)]
        layers = (
            conv(in_channels, w) + pool + conv(w, 2 * w) + pool
            + conv(2 * w, 4 * w) + conv(4 * w, 4 * w) + pool
            + conv(4 * w, 8 * w) + (pool if stride == 16 else [])
            + conv(8 * w, 8 * w) + conv(8 * w, 8 * w)
            + [nn.Conv2d(8 * w, 5, 1)]
        )
        self.layers = nn.Sequential(*layers)
        self.input_shape = (in_channels, 4 * stride, 4 * stride)
        self.layer_names = ["conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "conv7", "cvg_bbox"]
        for m in self.layers:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        head = self.layers[-1]
        nn.init.normal_(head.weight, std=0.01)
        with torch.no_grad():  # start with coverage ~ cover_prior everywhere (stable early training)
            head.bias[0] = math.log(cover_prior / (1 - cover_prior))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
