"""How a configuration value is checked: :class:`ConfigError` and the one-line message that names the value."""
from __future__ import annotations

import math
from typing import Any


class ConfigError(ValueError):
    """A configuration value is of the wrong type, out of range, or unknown; the message names it."""


_is_int = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731 (True is not an integer here)
_is_number = lambda v: (_is_int(v) or isinstance(v, float)) and math.isfinite(v)  # noqa: E731


def _check(owner: str, name: str, value: Any, ok: bool, why: str) -> None:
    if not ok:
        raise ConfigError(f"invalid {owner}{name}={value!r}: {why}")
