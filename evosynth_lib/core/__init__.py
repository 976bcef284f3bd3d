"""Paper 1's method, torch only, no I/O: what a network's DNA is and how an offspring is drawn from it.

``masks`` (which synapses live), ``clusters`` (what a synaptic cluster is), ``encoding`` (eq. 1, 4, 5),
``environment`` (eq. 2-3), ``synthesis`` (``synthesize_offspring``), ``restriction`` (paper 2's synaptic
precision restriction to fp16), ``metrics`` (Tables 1-3), ``compaction`` (the physically smaller equivalent network) and
``seeding`` (every draw seeded from (seed, generation, purpose)). Nothing here imports ``tasks``, ``run`` or
``book``.
"""
