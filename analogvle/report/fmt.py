"""Small formatting helpers shared by the reports."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

from matplotlib.figure import Figure

from analogvle.files import write_atomic

T_LABEL = "t [model time units]"
DPI = 110


def save_figure(fig: Figure, path: str | Path, *, dpi: int = DPI) -> Path:
    """Write ``fig`` as a PNG, atomically; returns ``path``."""
    return write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=dpi))


def layer_index(name: str) -> int:
    match = re.match(r"layer(\d+)/", name)
    return int(match.group(1)) if match else 0


def num(value: float) -> float | None:
    """A finite float, or None (JSON null) for nan and inf."""
    return float(value) if math.isfinite(value) else None


def fmt(value: float, spec: str = ".3g") -> str:
    return format(value, spec) if math.isfinite(value) else "n/a"


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape) if shape else "scalar"


def producer_text(meta: Mapping) -> str:
    producer = meta.get("producer")
    if not producer:
        return "producer not recorded"
    if isinstance(producer, Mapping):
        return ", ".join(f"{k} {v}" for k, v in producer.items() if not isinstance(v, (dict, list)))
    return str(producer)
