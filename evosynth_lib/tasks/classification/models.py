"""The ancestor networks of the seed paper.

Each meets the core's :class:`~evosynth_lib.core.structure.Evolvable` protocol: it states the shape of one input
(``input_shape``) and a short name per weighted layer (``layer_names``); the rest (which layer reads a flattened
``C x h x w`` map, which feeds the output) the core reads from the network's dependency graph.
"""
from __future__ import annotations

import torch
from torch import nn


def _linear_after_map(in_shape: tuple[int, int, int], out_features: int) -> nn.Linear:
    c, h, w = in_shape
    return nn.Linear(c * h * w, out_features)


def _conv_stage_shape(stage: nn.Module, in_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    with torch.no_grad():
        out = stage(torch.zeros(1, *in_shape))
    return tuple(out.shape[1:])


class LeNet5(nn.Module):
    """Caffe's LeNet (the "LeNet-5" of Han et al. 2015 and Dynamic Network Surgery).

    conv1 20@5x5 -> max-pool 2 -> conv2 50@5x5 -> max-pool 2 -> ip1 (800 -> 500) -> ReLU -> ip2 (500 -> 10).
    As in Caffe there is no non-linearity after the convolutions. On 1x28x28 MNIST it has
    500 + 25,000 + 400,000 + 5,000 = 430,500 weights (biases excluded). For STL-10 (3x96x96) the same
    layers are used and ip1 adapts to the 50x21x21 map (22,050 -> 500).
    """

    def __init__(self, in_shape: tuple[int, int, int] = (1, 28, 28), num_classes: int = 10):
        super().__init__()
        convs = nn.Sequential(
            nn.Conv2d(in_shape[0], 20, 5), nn.MaxPool2d(2, 2),
            nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2),
        )
        map_shape = _conv_stage_shape(convs, in_shape)
        self.layers = nn.Sequential(
            *convs, nn.Flatten(),
            _linear_after_map(map_shape, 500), nn.ReLU(inplace=True),
            nn.Linear(500, num_classes),
        )
        self.input_shape = tuple(in_shape)
        self.layer_names = ["conv1", "conv2", "ip1", "ip2"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class AlexNetCIFAR(nn.Module):
    """AlexNet for 32x32 CIFAR-10, first layer with 5x5x3 kernels as in the seed paper.

    The seed's Table 3 lists seven layers (five convolutional, two fully connected), so the classifier has two
    fully connected layers: fc6 (hidden) and fc7 (the 10-way classifier). Shapes:

    ====== ===================================== ==========
    layer  shape                                 weights
    ====== ===================================== ==========
    conv1  64 @ 5x5x3, pad 2      -> 64x32x32    4,800
    pool   3x3 stride 2           -> 64x15x15
    conv2  192 @ 5x5x64, pad 2    -> 192x15x15   307,200
    pool   3x3 stride 2           -> 192x7x7
    conv3  384 @ 3x3x192, pad 1                  663,552
    conv4  256 @ 3x3x384, pad 1                  884,736
    conv5  256 @ 3x3x256, pad 1   -> 256x7x7     589,824
    pool   3x3 stride 2           -> 256x3x3
    fc6    2304 -> 1024 (a conv over 256x3x3)     2,359,296
    fc7    1024 -> 10                            10,240
    ====== ===================================== ==========

    4,819,648 weights. The convolutional part is AlexNet's (channel widths as in torchvision's AlexNet, ReLU
    after every layer, overlapping 3x3/2 max-pooling); local response normalisation is left out, as in most
    modern re-implementations. fc6 has 1024 rather than 4096 units: on a 3x3 map a 4096-wide layer would hold
    80% of the weights and dominate the synapse count; 1024 keeps the conv layers' share realistic and the
    CPU budget feasible. Dropout 0.5 precedes fc6.
    """

    def __init__(self, in_shape: tuple[int, int, int] = (3, 32, 32), num_classes: int = 10, hidden: int = 1024):
        super().__init__()
        convs = nn.Sequential(
            nn.Conv2d(in_shape[0], 64, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        )
        map_shape = _conv_stage_shape(convs, in_shape)
        self.layers = nn.Sequential(
            *convs, nn.Flatten(), nn.Dropout(0.5),
            _linear_after_map(map_shape, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )
        self.input_shape = tuple(in_shape)
        self.layer_names = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def build_classifier(name: str, in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    if name == "lenet5":
        return LeNet5(in_shape, num_classes)
    if name == "alexnet":
        return AlexNetCIFAR(in_shape, num_classes)
    raise ValueError(f"invalid model={name!r}: not a classifier (lenet5 | alexnet)")
