"""Value checks shared by the spec's dataclasses: each returns the normalized value or raises
:class:`~analogvle.errors.SpecError` naming the key and what was expected."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from analogvle.errors import SpecError


def fail(key: str, message: str) -> SpecError:
    return SpecError(message, key=key)


def describe(value: Any) -> str:
    """How a wrong value is named in a message: ``a table``, ``a list of 3``, ``str '0.01'``."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"{type(value).__name__} {value!r}"


def number(value: Any, key: str, *, positive: bool = False, nonneg: bool = False) -> float:
    """A finite float (ints accepted, bools not)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise fail(key, f"expected a number, got {describe(value)}")
    out = float(value)
    if not math.isfinite(out):
        raise fail(key, f"expected a finite number, got {value}")
    if positive and out <= 0:
        raise fail(key, f"expected a positive number, got {value}")
    if nonneg and out < 0:
        raise fail(key, f"expected a non-negative number, got {value}")
    return out


def optional_number(value: Any, key: str, *, positive: bool = False) -> float | None:
    return None if value is None else number(value, key, positive=positive)


def integer(value: Any, key: str, *, minimum: int = 0) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise fail(key, f"expected an integer, got {describe(value)}")
    if value < minimum:
        raise fail(key, f"expected an integer >= {minimum}, got {value}")
    return int(value)


def boolean(value: Any, key: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise fail(key, f"expected true or false, got {describe(value)}")
    return bool(value)


def choice(value: Any, key: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise fail(key, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def string(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise fail(key, f"expected a non-empty string, got {describe(value)}")
    return value


def frozen(array: np.ndarray) -> np.ndarray:
    """``array`` as a read-only float64 copy (the spec's arrays never change)."""
    out = np.array(array, dtype=float, copy=True)
    out.flags.writeable = False
    return out


def per_neuron(value: Any, key: str, size: int, *, positive: bool = False) -> np.ndarray:
    """A number (broadcast) or one number per neuron, as a read-only (size,) array."""
    if isinstance(value, (list, tuple, np.ndarray)):
        values = np.asarray(value, dtype=object).ravel() if isinstance(value, np.ndarray) else value
        if len(values) != size or (isinstance(value, np.ndarray) and value.ndim != 1):
            raise fail(key, f"expected a number or a list of {size} (one per neuron), got {describe(value)}")
        return frozen([number(v, f"{key}[{i}]", positive=positive) for i, v in enumerate(values)])
    return frozen(np.full(size, number(value, key, positive=positive)))


def matrix(value: Any, key: str, rows: int, cols: int | None) -> np.ndarray:
    """A rows × cols matrix of finite numbers (size × fan-in), read-only; ``cols`` None: any, the same per row."""
    if isinstance(value, np.ndarray):
        value = value.tolist() if value.ndim == 2 else value
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(row, (list, tuple)) for row in value):
        raise fail(key, f"expected a {rows} × {cols or 'fan-in'} (size × fan-in) list of lists, got {describe(value)}")
    cols = len(value[0]) if cols is None else cols
    shape = f"{rows} × {cols} (size × fan-in)"
    got_cols = {len(row) for row in value}
    if len(value) != rows or got_cols != {cols}:
        got = f"{len(value)} × {'/'.join(map(str, sorted(got_cols))) or 0}"
        raise fail(key, f"expected {shape}, got {got}")
    return frozen([[number(v, f"{key}[{i}][{j}]") for j, v in enumerate(row)] for i, row in enumerate(value)])


def rows_of_numbers(value: Any, key: str, channels: int, lengths: Sequence[int] | None) -> tuple[tuple[float, ...], ...]:
    """A number, a list (the same for every channel), or one list per channel; as a tuple of tuples."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(r, (list, tuple)) for r in value):
        if len(value) != channels:
            raise fail(key, f"expected one list per input channel ({channels}), got {len(value)}")
        rows = [[number(v, f"{key}[{c}][{i}]") for i, v in enumerate(r)] for c, r in enumerate(value)]
    elif isinstance(value, (list, tuple)):
        rows = [[number(v, f"{key}[{i}]") for i, v in enumerate(value)]] * channels
    elif lengths is not None:
        one = number(value, key)
        rows = [[one] * n for n in lengths]
    else:
        raise fail(key, f"expected a list of numbers, got {describe(value)}")
    for c, row in enumerate(rows):
        if not row:
            raise fail(key, "expected at least one value")
        if lengths is not None and len(row) != lengths[c]:
            raise fail(key, f"expected {lengths[c]} values (one per omega), got {len(row)}")
    return tuple(tuple(r) for r in rows)


def is_multiple(value: float, step: float) -> bool:
    """``value`` is a whole number (≥ 1) of ``step`` up to round-off."""
    ratio = value / step
    return math.isfinite(ratio) and abs(ratio - round(ratio)) < 1e-9 * max(1.0, ratio) and round(ratio) >= 1


def same(a: Any, b: Any) -> bool:
    """Equality that compares arrays element by element (and by shape)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and bool(
            np.array_equal(a, b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


class Value:
    """Frozen value semantics: equal when every compared field is equal (arrays by value)."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self) if f.compare)

    __hash__ = None  # type: ignore[assignment]

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)


def nested(prefix: str, build):
    """``build()``; a SpecError from it gets ``prefix`` (e.g. ``network.layer.2``) before its key."""
    try:
        return build()
    except SpecError as exc:
        raise exc.within(prefix) from None
