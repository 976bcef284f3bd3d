"""Reading a YAML file a person wrote (a configuration, a profile page): strictly, with one-line errors.

A file that is not UTF-8 text, is not YAML, is empty, holds something other than a mapping, or repeats a key
raises :class:`~evosynth_lib.config.ConfigError` naming the file (a repeated key would otherwise silently keep
the last value).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from .config import ConfigError


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping with a repeated key."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(f"line {key_node.start_mark.line + 1}: key {key!r} is given twice")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def parse_yaml(text: str, what: str) -> Any:
    """``text`` parsed as YAML (repeated keys refused); ``what`` names it in errors."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except ConfigError as e:
        raise ConfigError(f"{what}: {e}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{what} is not valid YAML: {' '.join(str(e).split())}") from None


def read_mapping(path: str | os.PathLike) -> dict[str, Any]:
    """The mapping a YAML file holds; an error names the file and what is wrong with it."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a YAML file")
    if not path.is_file():
        raise FileNotFoundError(f"no configuration file {path}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a text (UTF-8) YAML file") from None
    if "\x00" in text:
        raise ConfigError(f"{path} is not a text YAML file (it holds NUL bytes)")
    d = parse_yaml(text, str(path))
    if d is None:
        raise ConfigError(f"{path} is empty: give at least the fields that differ from the defaults (e.g. dataset)")
    if not isinstance(d, dict):
        raise ConfigError(f"{path} must hold a mapping of configuration fields, not {type(d).__name__}")
    return d
