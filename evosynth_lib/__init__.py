"""evosynth_lib: evolutionary synthesis of deep neural networks (Shafiee & Wong), reproduced.

Layers, each importing only those before it: ``config`` (the run's dataclasses, the one list of choices) ->
``core`` (paper 1's method: masks, clusters, encoding, environment, synthesis, fp16 precision, metrics,
compaction; torch only, no I/O) -> ``tasks`` (what is trained: classification, detection) -> ``run`` (run
store, the evolution loop, provenance, speed) -> ``book`` (the companion's tooling). ``cli`` runs one evolution.
"""
from .config import ConfigError, DetectionConfig, EvolutionConfig
from .core.encoding import cluster_probability, synapse_probability, synaptic_probability
from .core.environment import environmental_factor
from .core.synthesis import genetic_encoding, synthesize_offspring
from .run.evolve import evolve
from .run.store import CorruptCheckpointError, RunStoreError, load_generations

__all__ = [
    "EvolutionConfig", "DetectionConfig", "ConfigError", "evolve", "load_generations", "CorruptCheckpointError",
    "RunStoreError", "synthesize_offspring", "genetic_encoding", "cluster_probability", "synapse_probability",
    "synaptic_probability", "environmental_factor",
]
__version__ = "0.1.0"
