"""Trajectory files (.npz): the common currency of every producer and the comparator.

Names follow ../shared/design/INTERFACES.md: ``t``, ``x``, ``target``,
``layer{l}/u``, ``layer{l}/uhat``, ``layer{l}/r``, ``layer{l}/v``,
``layer{l}/e``, ``layer{l}/W``, and ``meta`` (a JSON string). Everything is in
model units on the save_dt grid. Files are written atomically: to a temporary
name in the same folder, then renamed.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analogvle.errors import TrajectoryError

LAYER_SIGNALS = ("u", "uhat", "r", "v", "e", "W", "b")


def signal_name(layer: int, kind: str) -> str:
    """``layer{l}/{kind}`` with layers counted from 1."""
    return f"layer{layer}/{kind}"


@dataclass
class Trajectory:
    t: np.ndarray
    signals: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        if name == "t":
            return self.t
        return self.signals[name]

    def __contains__(self, name: str) -> bool:
        return name == "t" or name in self.signals

    def names(self) -> list[str]:
        return sorted(self.signals)


def save_trajectory(path: str | Path, traj: Trajectory) -> Path:
    """Write ``traj`` to ``path`` atomically; returns the path."""
    path = Path(path)
    arrays = {"t": np.asarray(traj.t, dtype=float)}
    for name, value in traj.signals.items():
        arrays[name] = np.asarray(value)
    arrays["meta"] = np.array(json.dumps(traj.meta, default=_json_default))
    write_atomic(path, lambda f: np.savez(f, **arrays))
    return path


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
    if t.ndim != 1 or len(t) < 2 or np.any(np.diff(t) <= 0):
        raise TrajectoryError(f"{path}: 't' must be a strictly increasing 1-D array of at least 2 points")
    meta = {}
    if "meta" in arrays:
        try:
            meta = json.loads(str(arrays.pop("meta")))
        except json.JSONDecodeError as exc:
            raise TrajectoryError(f"{path}: 'meta' is not JSON: {exc}") from exc
    for name, value in arrays.items():
        if value.ndim == 0 or value.shape[0] != len(t):
            raise TrajectoryError(f"{path}: signal {name!r} has {value.shape} but t has {len(t)} points")
    return Trajectory(t=t, signals=arrays, meta=meta)


def write_atomic(path: str | Path, write, mode: str = "wb") -> None:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it private; outputs are not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def producer_meta(spec, producer: dict, wall_time: float) -> dict:
    """The ``meta`` of a trajectory: the spec, who produced it (and how), versions, wall time (s)."""
    import platform

    import numpy

    from analogvle import __version__

    return {
        "name": spec.name,
        "spec": spec.raw,
        "source": spec.source,
        "producer": producer,
        "versions": {"analogvle": __version__, "numpy": numpy.__version__, "python": platform.python_version()},
        "wall_time": wall_time,
    }
