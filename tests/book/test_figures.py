"""The book's figures are readable at page width: at most PAGE_WIDTH inches wide, two panels a row, no tiny fonts."""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from evosynth_lib.book import plots  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "notebooks").glob("*.py")) + [ROOT / "evosynth_lib" / "book" / "plots.py"]


def test_figures_fit_the_page_and_fonts_are_readable():
    for path in SOURCES:
        text = path.read_text()
        for width in re.findall(r"figsize=\(\s*([\d.]+)\s*,", text):
            assert float(width) <= plots.PAGE_WIDTH, f"{path.name}: a figure {width} inches wide"
        for n in re.findall(r"plt\.subplots\(\s*\d+\s*,\s*(\d+)", text):
            assert int(n) <= 2, f"{path.name}: {n} panels side by side"
        for size in re.findall(r"fontsize=(\d+)", text):
            assert int(size) >= 9, f"{path.name}: fontsize={size}"


def test_importing_plots_sets_the_book_style():
    matplotlib.rcParams["font.size"] = 7
    plots.use_book_style()
    assert matplotlib.rcParams["font.size"] == plots.BOOK_STYLE["font.size"] >= 11
    assert matplotlib.rcParams["legend.fontsize"] >= 10


def test_detection_runs_plot_stacks_its_panels():
    import pandas as pd

    d = pd.DataFrame({"generation": [1, 2], "synapses": [100, 50], "precision": [0.5, 0.6], "recall": [0.4, 0.5]})
    fig = plots.plot_detection_runs({"seed 0": d}, "test")
    assert len(fig.axes) == 3 and fig.get_figwidth() <= plots.PAGE_WIDTH
    assert len({round(ax.get_position().x0, 3) for ax in fig.axes}) == 1  # one column
