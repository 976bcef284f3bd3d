"""Image classification (paper 1): ``models`` (LeNet-5, AlexNet), ``data`` (MNIST, CIFAR-10, STL-10,
synthetic images), ``task`` (the Task)."""
from ..base import register
from .task import ClassificationTask, classifier_for

register("classification", ClassificationTask, classifier_for)
