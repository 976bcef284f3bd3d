"""Model shapes, cluster views and the fp16 synaptic precision restriction."""
import torch

from evosynth_lib.clusters import cluster_view, live_clusters, total_clusters
from evosynth_lib.masking import full_masks, prunable_modules
from evosynth_lib.metrics import architecture_metrics
from evosynth_lib.models import AlexNetCIFAR, LeNet5
from evosynth_lib.precision import is_fp16_representable, restrict_to_fp16


def test_lenet5_is_caffes():
    m = LeNet5()
    shapes = [tuple(mod.weight.shape) for mod in prunable_modules(m).values()]
    assert shapes == [(20, 1, 5, 5), (50, 20, 5, 5), (500, 800), (10, 500)]
    assert total_clusters(m) == {"conv1": 20, "conv2": 1000, "ip1": 25_000, "ip2": 5_000}
    assert m(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_lenet5_for_stl10_adapts_ip1():
    m = LeNet5((3, 96, 96))
    assert tuple(m.layers[5].weight.shape) == (500, 50 * 21 * 21)
    assert m.layers[5].cluster_input_shape == (50, 21, 21)
    assert m(torch.randn(1, 3, 96, 96)).shape == (1, 10)


def test_alexnet_cifar_shapes():
    m = AlexNetCIFAR()
    assert sum(mod.weight.numel() for mod in prunable_modules(m).values()) == 4_819_648
    assert list(total_clusters(m)) == ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7"]
    assert m.layers[0].weight.shape[1:] == (3, 5, 5)
    assert m(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_cluster_granularities():
    m = LeNet5()
    ip1 = m.layers[5]
    assert cluster_view(ip1.weight, ip1).shape == (25_000, 16)
    assert cluster_view(ip1.weight, ip1, "filter").shape == (500, 800)
    assert cluster_view(ip1.weight, ip1, "synapse").shape == (400_000, 1)
    ip2 = m.layers[7]
    assert cluster_view(ip2.weight, ip2).shape == (5_000, 1)


def test_metrics_count_weights_not_biases():
    m = LeNet5()
    masks = full_masks(m)
    masks["layers.0.weight"][0, 0, 0, 0] = False  # one synapse of one conv1 kernel: kernel still alive
    masks["layers.2.weight"][0, 0] = False  # a whole conv2 kernel
    row = architecture_metrics(m, masks, 430_500, "kernel")
    assert row["synapses"] == 430_500 - 1 - 25
    assert row["clusters_conv1"] == 20 and row["clusters_conv2"] == 999
    assert row["cluster_efficiency_conv2"] == 1000 / 999
    assert live_clusters(m, masks)["ip1"] == 25_000


def test_fp16_restriction_is_idempotent_and_exact():
    torch.manual_seed(0)
    m = LeNet5()
    with torch.no_grad():
        m.layers[0].weight[0, 0, 0, 0] = 0.1  # not representable in fp16
        m.layers[0].weight[0, 0, 0, 1] = 0.0
    assert not is_fp16_representable(m.layers[0].weight)
    restrict_to_fp16(m)
    once = {k: v.clone() for k, v in m.state_dict().items()}
    assert all(is_fp16_representable(v) for v in once.values())
    assert m.layers[0].weight[0, 0, 0, 1] == 0.0  # pruned synapses stay exactly zero
    assert abs(m.layers[0].weight[0, 0, 0, 0].item() - 0.1) < 1e-4
    restrict_to_fp16(m)
    assert all(torch.equal(once[k], v) for k, v in m.state_dict().items())
