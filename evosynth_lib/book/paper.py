"""The papers' reported numbers, as reference data (labelled "paper" wherever they are shown).

Copied by hand from the two papers' texts (``../shared/papers/``); nothing here is computed.

- Main paper: Shafiee & Wong, "Evolutionary Synthesis of Deep Neural Networks via Synaptic
  Cluster-driven Genetic Encoding" (``000_1ee60e884049c993.txt``): Tables 1-3.
- Paper 2: Shafiee, Li & Wong, "Exploring the Imposition of Synaptic Precision Restrictions For
  Evolutionary Synthesis of Deep Neural Networks", arXiv:1707.00095 (``003_d1771171bd592a72.txt``):
  end points of Figures 2-3 as stated in its text (the figures themselves are not in the text).

Accuracies are fractions (0.9947 = 99.47 %); efficiencies are the "N X" factors without the X.
"""

from __future__ import annotations

MAIN_PAPER = "Shafiee & Wong, Synaptic Cluster-driven Genetic Encoding (Tables 1-3)"
FP16_PAPER = "Shafiee, Li & Wong, Synaptic Precision Restrictions, arXiv:1707.00095"

# Table 1: "Architectural efficiency vs. test accuracy for different generations of synthesized
# networks." Rows: (Gen., A-E, ACC.).
TABLE1: dict[str, list[tuple[int, float, float]]] = {
    "mnist": [
        (1, 1.00, 0.9947),
        (5, 5.20, 0.9941),
        (7, 12.09, 0.9928),
        (9, 32.23, 0.9884),
        (11, 62.74, 0.9849),
        (13, 125.09, 0.9775),
    ],
    "stl10": [
        (1, 1.00, 0.5774),
        (3, 2.37, 0.5933),
        (5, 5.81, 0.6039),
        (7, 14.99, 0.6051),
        (9, 38.22, 0.5744),
        (10, 56.27, 0.5658),
    ],
    "cifar10": [
        (1, 1.00, 0.8669),
        (2, 1.64, 0.8814),
        (3, 2.82, 0.8766),
        (4, 5.06, 0.8688),
        (5, 8.39, 0.8588),
        (6, 14.39, 0.8459),
    ],
}

# Ancestor architecture per dataset (Section 3: LeNet-5 for MNIST and STL-10, AlexNet with 5x5x3
# first-layer kernels for CIFAR-10).
MODELS = {"mnist": "lenet5", "stl10": "lenet5", "cifar10": "alexnet"}

# Tables 2 and 3: cluster efficiency per layer (kernels in the ancestor's layer / kernels in the
# offspring's layer) at the first and last reported generations, with the overall E.
# Table 2: "convolutional layers (layers 1-3) and fully connected layer (layer 4)" for LeNet-5
# (layer 3 is Caffe's ip1, a fully connected layer over a 50x4x4 map, treated as a conv).
# Table 3: "convolutional layers (layers 1-5) and fully connected layers (layers 6-7)" for AlexNet.
# Table 3 prints layer 3 of generation 6 as "3.50" without the X; it is read as 3.50X.
TABLE2_3: dict[str, dict[int, dict]] = {
    "mnist": {  # Table 2, left
        1: {"accuracy": 0.9947, "layers": [1.0, 1.0, 1.0, 1.0], "E": 1.0},
        13: {"accuracy": 0.9775, "layers": [3.6, 12.96, 8.83, 13.47], "E": 9.71},
    },
    "stl10": {  # Table 2, right
        1: {"accuracy": 0.5774, "layers": [1.0, 1.0, 1.0, 1.0], "E": 1.0},
        10: {"accuracy": 0.5658, "layers": [3.31, 8.46, 5.49, 6.56], "E": 5.96},
    },
    "cifar10": {  # Table 3
        1: {"accuracy": 0.8669, "layers": [1.0] * 7, "E": 1.0},
        6: {"accuracy": 0.8459, "layers": [2.01, 3.10, 3.50, 3.40, 3.29, 2.97, 1.51], "E": 2.82},
    },
}

# Which table each dataset's cluster efficiencies come from.
TABLE2_3_SOURCE = {"mnist": "Table 2", "stl10": "Table 2", "cifar10": "Table 3"}

# Paper 2 (fp16 synaptic precision restriction), Parse-27k on a Jetson TX1 with Caffe + TensorRT,
# 13 generations. From the "Preliminary Results" text and the captions of Figures 2-3:
# "the inference speed is increased from 7 fps to 37 fps over generations"; "a ten-fold decrease in
# synapses"; "increase of ~2% in precision and decrease ~2% in recall from first generation".
PARSE27K = {
    "generations": 13,
    "fps_first": 7.0,
    "fps_last": 37.0,
    "synapse_reduction": 10.0,  # ~ten-fold fewer synapses at generation 13 than at generation 1
    "precision_change": +0.02,  # ~ +2 % (absolute, generation 13 minus generation 1)
    "recall_change": -0.02,  # ~ -2 %
    "dataset": "Parse-27k",
    # the paper's setting: "on the Jetson TX1 within Caffe framework and TensorRT, which supports accelerated
    # half-precision operations"; it does not say which engine or precision produced the 7 and 37 fps
    "hardware": "Jetson TX1",
}

# Retention per generation implied by Table 1 (A-E ratio between reported generations).
CAP = 0.8  # Section 3: "an offspring ... should not have more than 80% of the total number of synapses"


def table1_retention(dataset: str) -> float:
    """Geometric-mean fraction of synapses kept per generation implied by Table 1 (first to last row)."""
    rows = TABLE1[dataset]
    (g0, ae0, _), (g1, ae1, _) = rows[0], rows[-1]
    return (ae0 / ae1) ** (1.0 / (g1 - g0))


def table1_frame(dataset: str):
    """Table 1 rows for ``dataset`` as a DataFrame (generation, architectural_efficiency, accuracy)."""
    import pandas as pd

    return pd.DataFrame(TABLE1[dataset], columns=["generation", "architectural_efficiency", "accuracy"])
