"""The ancestor classifiers: Caffe's LeNet-5 and the paper's AlexNet for CIFAR-10."""
import torch

from evosynth_lib.core.clusters import total_clusters
from evosynth_lib.core.masks import prunable_modules
from evosynth_lib.core.structure import network_structure
from evosynth_lib.tasks.classification.models import AlexNetCIFAR, LeNet5


def test_lenet5_is_caffes():
    m = LeNet5()
    shapes = [tuple(mod.weight.shape) for mod in prunable_modules(m).values()]
    assert shapes == [(20, 1, 5, 5), (50, 20, 5, 5), (500, 800), (10, 500)]
    assert total_clusters(m) == {"conv1": 20, "conv2": 1000, "ip1": 25_000, "ip2": 5_000}
    assert m(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_lenet5_for_stl10_adapts_ip1():
    m = LeNet5((3, 96, 96))
    assert tuple(m.layers[5].weight.shape) == (500, 50 * 21 * 21)
    assert network_structure(m).layers["layers.5.weight"].input_channels == 50  # a 50 x 21 x 21 map
    assert total_clusters(m)["ip1"] == 500 * 50
    assert m(torch.randn(1, 3, 96, 96)).shape == (1, 10)


def test_alexnet_cifar_shapes():
    m = AlexNetCIFAR()
    assert sum(mod.weight.numel() for mod in prunable_modules(m).values()) == 4_819_648
    assert list(total_clusters(m)) == ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7"]
    assert m.layers[0].weight.shape[1:] == (3, 5, 5)
    assert m(torch.randn(2, 3, 32, 32)).shape == (2, 10)
