"""Notebook parameters: unknown names are errors, and values are read strictly by the type of their default.

Each notebook's parameters cell ends with ``_defaults = dict(globals())`` (older pages: ``_declared =
set(dir())``); papermill injects its values in a cell after it; the next cell calls :func:`check_parameters`,
which

* fails on any name the injection added that the parameters cell does not declare, naming it and the known ones
  (modules and functions the notebook imports are not parameters);
* reads each value by the type of its default: papermill's ``-p flag false`` arrives as the *string* ``"false"``
  (only ``True``/``False`` are converted), so a boolean parameter accepts a bool or exactly one of
  ``true``/``false``/``yes``/``no``/``1``/``0`` (any case), a list parameter a list or a string holding a YAML
  list (``-p seeds "[0, 1]"``); anything else is an error naming the parameter and the value. The converted
  values are written back into the notebook's namespace.
"""
from __future__ import annotations

import inspect
from typing import Any

import yaml

TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")


class UnknownParameterError(NameError):
    """A notebook was given a parameter its parameters cell does not declare."""


class ParameterTypeError(TypeError):
    """A notebook parameter's value cannot be read as the type of its default."""


def strict_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise ParameterTypeError(f"invalid {name}={value!r}: must be true or false")


def strict_list(name: str, value: Any) -> list:
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise ParameterTypeError(f"invalid {name}={value!r}: not a YAML list ({str(e).splitlines()[0]})") from None
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        raise ParameterTypeError(f"invalid {name}={value!r}: must be a list (papermill: -y '{name}: [...]')")
    return value


def check_parameters(namespace: dict[str, Any], declared: set[str] | dict[str, Any]) -> None:
    names = set(declared)
    unknown = sorted(k for k, v in namespace.items() if not k.startswith("_") and k not in names
                     and not (inspect.ismodule(v) or callable(v)))  # papermill injects data, not code
    if unknown:
        known = sorted(k for k in names if not k.startswith("_") and k not in _IPYTHON)
        raise UnknownParameterError(f"unknown parameter(s) {', '.join(unknown)}; this notebook's parameters are: "
                                    f"{', '.join(known)}")
    if not isinstance(declared, dict):
        return
    for name, default in declared.items():
        if name.startswith("_") or name in _IPYTHON or name not in namespace:
            continue
        if isinstance(default, bool):
            namespace[name] = strict_bool(name, namespace[name])
        elif isinstance(default, list) and namespace[name] is not None:
            namespace[name] = strict_list(name, namespace[name])


_IPYTHON = {"In", "Out", "get_ipython", "exit", "quit", "open"}
