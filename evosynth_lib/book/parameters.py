"""Notebook parameters: an unknown one (papermill's ``-p generation 5`` for ``generations``) is an error.

Each notebook's parameters cell ends with ``_declared = set(dir())``; papermill injects its values in a cell
after it; the next cell calls :func:`check_parameters`, which fails on any name the injection added that the
parameters cell does not declare, naming it and the known ones (modules and functions the notebook imports
are not parameters).
"""
from __future__ import annotations

import inspect
from typing import Any


class UnknownParameterError(NameError):
    """A notebook was given a parameter its parameters cell does not declare."""


def check_parameters(namespace: dict[str, Any], declared: set[str]) -> None:
    unknown = sorted(k for k, v in namespace.items() if not k.startswith("_") and k not in declared
                     and not (inspect.ismodule(v) or callable(v)))  # papermill injects data, not code
    if unknown:
        known = sorted(k for k in declared if not k.startswith("_") and k not in _IPYTHON)
        raise UnknownParameterError(f"unknown parameter(s) {', '.join(unknown)}; this notebook's parameters are: "
                                    f"{', '.join(known)}")


_IPYTHON = {"In", "Out", "get_ipython", "exit", "quit", "open"}
