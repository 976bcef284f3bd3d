"""``python -m evosynth_lib <subcommand>``: the ``evosynth`` command (``command.py``)."""
import sys

from .command import main

sys.exit(main())
