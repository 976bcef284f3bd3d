"""Pedestrian detection (paper 2): ``model`` (DetectNet), ``boxes`` (targets, loss, decoding), ``metrics``
(precision / recall), ``data`` (Parse-27k, Penn-Fudan), ``scenes`` (synthetic scenes), ``task`` (the Task)."""
from ..base import register
from .task import DetectionTask, detector_for

register("detection", DetectionTask, detector_for)
