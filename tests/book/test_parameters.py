"""An unknown notebook parameter fails the papermill run, naming it and the known ones (book/parameters.py)."""
from pathlib import Path

import papermill
import pytest

from evosynth_lib.book import build
from evosynth_lib.book.parameters import UnknownParameterError, check_parameters

ROOT = Path(__file__).resolve().parents[2]


def test_check_parameters_names_the_unknown_and_the_known():
    declared = {"generations", "seed", "_declared"}
    check_parameters({"generations": 3, "seed": 0, "np": Path, "_x": 1}, declared)  # code and private names pass
    with pytest.raises(UnknownParameterError, match=r"unknown parameter\(s\) generation; .*: generations, seed"):
        check_parameters({"generations": 3, "seed": 0, "generation": 5}, declared)


def test_papermill_fails_on_a_misspelt_parameter(tmp_path):
    ipynb = build.convert(ROOT / "notebooks" / "evolve.py")
    with pytest.raises(papermill.PapermillExecutionError, match="unknown parameter.*generation"):
        papermill.execute_notebook(str(ipynb), str(tmp_path / "out.ipynb"), parameters={"generation": 5},
                                   cwd=str(ROOT), progress_bar=False, kernel_name="python3")
