"""trained.npz: the weights and biases ``analogvle train`` produced, the initial ones, the curve and the spec.

Names: ``layer{ℓ}/W`` (n_ℓ × n_{ℓ−1}), ``layer{ℓ}/b``, ``layer{ℓ}/W_init``,
``layer{ℓ}/b_init``, ``curve/<name>`` (one entry per epoch, epoch 0 before
training: train_loss, train_acc (online, %), test_loss, test_acc (%), lr (per
step), wall_train, wall_test (s)) and ``meta`` (JSON: the spec, the samples
used, wall time, versions).
"""

from __future__ import annotations

import json
import platform
import zipfile
from pathlib import Path

import numpy as np

from analogvle.errors import TrainedFileError
from analogvle.files import write_atomic
from analogvle.integrate.batched.training import TrainResult
from analogvle.model.spec import Spec
from analogvle.model.toml import spec_to_dict
from analogvle.version import __version__


def save_trained(path: str | Path, spec: Spec, result: TrainResult) -> Path:
    """Write ``result`` to ``path`` atomically; returns the path."""
    arrays: dict[str, np.ndarray] = {}
    for ell, ((W, b), (W0, b0)) in enumerate(zip(result.weights, result.initial), 1):
        arrays |= {f"layer{ell}/W": W, f"layer{ell}/b": b, f"layer{ell}/W_init": W0, f"layer{ell}/b_init": b0}
    arrays |= {f"curve/{k}": np.asarray(v) for k, v in result.curve.items()}
    meta = {"name": spec.name, "spec": spec_to_dict(spec), "source": spec.source, "samples": result.samples,
            "wall_time": result.wall_time,
            "versions": {"analogvle": __version__, "numpy": np.__version__, "python": platform.python_version()}}
    arrays["meta"] = np.array(json.dumps(meta, default=str))
    return write_atomic(path, lambda f: np.savez(f, **arrays))


def load_trained(path: str | Path, spec: Spec) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) of every layer of ``spec``'s network from ``path``; TrainedFileError (exit 2) if they do not fit."""
    path = Path(path)
    if not path.is_file():
        raise TrainedFileError(f"{path}: trained-weights file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise TrainedFileError(f"{path}: not a trained-weights file (.npz): {exc}") from exc
    out = []
    for ell, layer in enumerate(spec.network.layers, 1):
        pair = []
        for name, shape in (("W", (layer.size, layer.fan_in)), ("b", (layer.size,))):
            key = f"layer{ell}/{name}"
            if key not in arrays:
                raise TrainedFileError(f"{path}: no {key!r} (expected the weights of {spec.source}'s network)")
            value = np.asarray(arrays[key], dtype=float) if np.issubdtype(arrays[key].dtype, np.number) else None
            if value is None or value.shape != shape or not np.all(np.isfinite(value)):
                got = arrays[key].shape if value is None else value.shape
                raise TrainedFileError(f"{path}: {key} is {got} or not finite; the spec's network.layer.{ell} "
                                       f"expects {shape}")
            pair.append(value)
        out.append((pair[0], pair[1]))
    if f"layer{len(spec.network.layers) + 1}/W" in arrays:
        raise TrainedFileError(f"{path}: holds more layers than the spec's {len(spec.network.layers)}")
    return out


def load_curve(path: str | Path) -> dict[str, np.ndarray]:
    """The training curve stored in ``path``."""
    with np.load(path, allow_pickle=False) as data:
        return {k.removeprefix("curve/"): data[k] for k in data.files if k.startswith("curve/")}
