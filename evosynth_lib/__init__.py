"""evosynth_lib: evolutionary synthesis of deep neural networks (Shafiee & Wong), reproduced.

Modules, one idea each: ``config`` (the run's dataclass), ``models`` (LeNet-5, AlexNet), ``clusters``
(synaptic clusters), ``encoding`` (eq. 1, 4, 5), ``environment`` (eq. 2-3), ``synthesis``
(``synthesize_offspring``), ``training``, ``precision`` (fp16 restriction, paper 2), ``metrics``,
``compaction``, ``data``, ``tasks``, ``evolution`` (loop and run store); ``detection``, ``pedestrians`` and
``speed`` for paper 2's detector.
"""
from .config import EvolutionConfig
from .encoding import cluster_probability, synapse_probability, synaptic_probability
from .environment import environmental_factor
from .evolution import CorruptCheckpointError, evolve, load_generations
from .synthesis import genetic_encoding, synthesize_offspring

__all__ = [
    "EvolutionConfig", "evolve", "load_generations", "CorruptCheckpointError", "synthesize_offspring",
    "genetic_encoding", "cluster_probability", "synapse_probability", "synaptic_probability",
    "environmental_factor",
]
__version__ = "0.1.0"
