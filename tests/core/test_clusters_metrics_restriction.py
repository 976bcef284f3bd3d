"""Cluster views, architecture metrics and the fp16 synaptic precision restriction."""
import torch

from evosynth_lib.core.clusters import cluster_view, layer_clusters, live_clusters
from evosynth_lib.core.masks import full_masks
from evosynth_lib.core.metrics import architecture_metrics
from evosynth_lib.core.restriction import is_fp16_representable, restrict_to_fp16
from evosynth_lib.tasks.classification.models import LeNet5


def test_cluster_granularities():
    m = LeNet5()
    ip1 = m.layers[5]
    assert layer_clusters(m, "layers.5.weight", ip1.weight).shape == (25_000, 16)  # a 50 x 4 x 4 map: 4x4 kernels
    assert layer_clusters(m, "layers.5.weight", ip1.weight, "filter").shape == (500, 800)
    assert layer_clusters(m, "layers.5.weight", ip1.weight, "synapse").shape == (400_000, 1)
    ip2 = m.layers[7]
    assert layer_clusters(m, "layers.7.weight", ip2.weight).shape == (5_000, 1)
    assert layer_clusters(m, "layers.7.weight", ip2.weight, "filter").shape == (5_000, 1)  # the output layer
    assert cluster_view(ip1.weight, 50).shape == (25_000, 16)


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
