"""``python -m evosynth_lib.book --profile quick``: execute the book's notebooks and build the HTML (``build.py``)."""
import sys

from .build import main

sys.exit(main())
