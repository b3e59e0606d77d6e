"""The stimulus part of the spec: the input x(t) and a sampled target."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analogvle.model import checks as c
from analogvle.model.checks import Value

INPUT_KINDS = ("sines", "square", "file")


def load_samples(path: str | Path, key: str) -> np.ndarray:
    """A numeric T or T×channels .npy array of finite values, as a read-only (T, channels) array."""
    path = Path(path)
    if not path.is_file():
        raise c.fail(key, f"file not found: {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise c.fail(key, f"not a .npy array file: {path} ({exc})") from exc
    if not np.issubdtype(data.dtype, np.number) or data.ndim not in (1, 2) or len(data) == 0:
        raise c.fail(key, f"expected a numeric T or T×channels array in {path}, got {data.dtype} {data.shape}")
    data = np.asarray(data, dtype=float)
    if not np.all(np.isfinite(data)):
        raise c.fail(key, f"{path} holds non-finite values")
    return c.frozen(data.reshape(len(data), -1))


@dataclass(frozen=True, eq=False)
class InputSpec(Value):
    """The signal driving layer 0 (see :mod:`analogvle.model.inputs` for its values).

    ``sines``: x_c(t) = Σ_k amplitudes[c][k]·sin(omegas[c][k]·t + phases[c][k]);
    ``omegas`` is one list for every channel or one list per channel (rad per
    time unit). ``square``: ±amplitude, period, Gaussian ``smooth_sigma``.
    ``file``: samples at dt read from the .npy at ``path``.
    """

    kind: str
    channels: int = 1
    omegas: Any = ()
    amplitudes: Any = 1.0
    phases: Any = 0.0
    period: float | None = None
    amplitude: float = 1.0
    smooth_sigma: float = 0.0
    path: str | Path | None = None
    data: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        c.choice(self.kind, "kind", INPUT_KINDS)
        self._set("channels", c.integer(self.channels, "channels", minimum=1))
        used = {"sines": {"omegas", "amplitudes", "phases"}, "square": {"period", "amplitude", "smooth_sigma"},
                "file": {"path", "data"}}[self.kind]
        defaults = InputSpec.__dataclass_fields__
        for name in ("omegas", "amplitudes", "phases", "period", "amplitude", "smooth_sigma", "path", "data"):
            if name not in used and not c.same(getattr(self, name), defaults[name].default):
                raise c.fail(name, f"not used by input kind {self.kind!r}")
        if self.kind == "sines":
            omegas = c.rows_of_numbers(self.omegas, "omegas", self.channels, None)
            lengths = [len(o) for o in omegas]
            self._set("omegas", omegas)
            self._set("amplitudes", c.rows_of_numbers(self.amplitudes, "amplitudes", self.channels, lengths))
            self._set("phases", c.rows_of_numbers(self.phases, "phases", self.channels, lengths))
            return
        self._set("omegas", ())
        self._set("amplitudes", ())
        self._set("phases", ())
        if self.kind == "square":
            if self.period is None:
                raise c.fail("period", "missing required key")
            self._set("period", c.number(self.period, "period", positive=True))
            self._set("amplitude", c.number(self.amplitude, "amplitude"))
            self._set("smooth_sigma", c.number(self.smooth_sigma, "smooth_sigma", nonneg=True))
            return
        if self.path is None:
            raise c.fail("path", "missing required key")
        path = Path(c.string(str(self.path), "path")).absolute()
        self._set("path", path)
        self._set("data", load_samples(path, "path") if self.data is None else c.frozen(self.data))
        if self.data.ndim != 2 or self.data.shape[1] != self.channels:
            raise c.fail("path", f"expected {self.channels} channel(s) in {path}, got {self.data.shape[1:]}")


@dataclass(frozen=True, eq=False)
class TargetSpec(Value):
    """A sampled target (T, n_L) at dt, read from the .npy at ``path``."""

    path: str | Path
    data: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        path = Path(c.string(str(self.path), "path")).absolute()
        self._set("path", path)
        self._set("data", load_samples(path, "path") if self.data is None else c.frozen(self.data))
