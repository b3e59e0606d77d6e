"""Trajectories: the common currency of every producer (integrators, circuit simulation) and the comparator.

Names follow INTERFACES.md: ``t``, ``x``, ``target``, ``layer{l}/u``,
``layer{l}/uhat``, ``layer{l}/r``, ``layer{l}/v``, ``layer{l}/e``,
``layer{l}/W``, ``layer{l}/b``, and ``meta`` (a JSON string holding the spec
as :func:`~analogvle.model.toml.spec_to_dict` writes it, the producer,
versions and wall time). Everything is in model units on the save_dt grid.
Files are written atomically.
"""

from __future__ import annotations

import json
import platform
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analogvle.errors import SpecError, TrajectoryError
from analogvle.files import write_atomic
from analogvle.model.spec import Spec
from analogvle.model.terms import LAYER_SIGNALS, signal_name
from analogvle.model.toml import spec_from_dict, spec_to_dict
from analogvle.version import __version__

__all__ = ["LAYER_SIGNALS", "Trajectory", "load_trajectory", "producer_meta", "save_trajectory", "signal_name"]


@dataclass
class Trajectory:
    """Signals over time ``t`` (model time units); ``traj["layer1/r"]`` is a (T, n) array."""

    t: np.ndarray
    signals: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)
    spec: Spec | None = field(default=None, repr=False, compare=False)  # the typed spec it was made from

    def __getitem__(self, name: str) -> np.ndarray:
        if name == "t":
            return self.t
        return self.signals[name]

    def __contains__(self, name: str) -> bool:
        return name == "t" or name in self.signals

    def names(self) -> list[str]:
        return sorted(self.signals)

    def with_signals(self, extra: dict[str, np.ndarray]) -> Trajectory:
        """A trajectory with ``extra`` signals added (same time, meta and spec)."""
        return Trajectory(t=self.t, signals={**self.signals, **extra}, meta=self.meta, spec=self.spec)


def spec_from_meta(meta: dict) -> Spec | None:
    """The typed spec a trajectory file records, or None when it records none (or one that no longer loads)."""
    if not isinstance(meta.get("spec"), dict):
        return None
    try:
        return spec_from_dict(meta["spec"], source=str(meta.get("source", "<meta>")))
    except SpecError:
        return None


def producer_meta(spec: Spec, producer: dict, wall_time: float) -> dict:
    """The ``meta`` of a trajectory: the spec, who produced it (and how), versions, wall time (s)."""
    return {
        "name": spec.name,
        "spec": spec_to_dict(spec),
        "source": spec.source,
        "producer": producer,
        "versions": {"analogvle": __version__, "numpy": np.__version__, "python": platform.python_version()},
        "wall_time": wall_time,
    }


def save_trajectory(path: str | Path, traj: Trajectory) -> Path:
    """Write ``traj`` to ``path`` atomically; returns the path."""
    arrays = {"t": np.asarray(traj.t, dtype=float)}
    for name, value in traj.signals.items():
        arrays[name] = np.asarray(value)
    arrays["meta"] = np.array(json.dumps(traj.meta, default=_json_default))
    return write_atomic(path, lambda f: np.savez(f, **arrays))


def load_trajectory(path: str | Path) -> Trajectory:
    """Read a trajectory file; TrajectoryError if it is missing or not one."""
    path = Path(path)
    if not path.is_file():
        raise TrajectoryError(f"{path}: trajectory file not found")
    if not zipfile.is_zipfile(path):
        raise TrajectoryError(f"{path}: not a trajectory file (expected an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TrajectoryError(f"{path}: not a trajectory file (.npz): {first}") from exc
    if "t" not in arrays:
        raise TrajectoryError(f"{path}: not a trajectory file: no time array 't'")
    t = np.asarray(arrays.pop("t"), dtype=float)
    if t.ndim != 1 or len(t) < 2 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise TrajectoryError(f"{path}: 't' must be a strictly increasing, finite 1-D array of at least 2 points")
    meta = {}
    if "meta" in arrays:
        try:
            meta = json.loads(str(arrays.pop("meta")))
        except json.JSONDecodeError as exc:
            raise TrajectoryError(f"{path}: 'meta' is not JSON: {exc}") from exc
        if not isinstance(meta, dict):
            raise TrajectoryError(f"{path}: 'meta' is not a JSON object")
    for name, value in arrays.items():
        if not (np.issubdtype(value.dtype, np.number) or value.dtype == bool):
            raise TrajectoryError(f"{path}: signal {name!r} is not numeric ({value.dtype})")
        if value.ndim == 0 or value.shape[0] != len(t):
            raise TrajectoryError(f"{path}: signal {name!r} has {value.shape} but t has {len(t)} points")
    return Trajectory(t=t, signals=arrays, meta=meta, spec=spec_from_meta(meta))


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
