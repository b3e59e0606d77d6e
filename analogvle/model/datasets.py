"""Datasets of classification tasks, on the step grid: one value per dt step into the single input neuron.

``mnist1d``: the ``mnist1d`` package's generator (0.0.2.post1, offline, no
download) with the arguments the GLE paper's code passes (padding [36, 60],
scale_coeff 0.4, max_translation 48, corr noise 0.25, iid noise 0.02, shear
0.75; otherwise the package defaults: 5,000 samples, 4,000 train / 1,000
test, template_len 12) and ``final_seq_length`` = sample_length/dt, so a
sample is supersampled to the step grid by the generator itself. The generator
standardises the whole set (one mean and std over all values); nothing more is
done here. Labels are held for every step of a sample.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from analogvle.errors import SpecError
from analogvle.model.task import TaskSpec


@dataclass(frozen=True)
class Dataset:
    """Training and test samples (n, steps) at dt, labels (n,) in 0..classes−1."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_dataset(task: TaskSpec, dt: float) -> Dataset:
    """The task's dataset with ``task.steps_per_sample(dt)`` steps per sample (generated once per process)."""
    return _mnist1d(task.steps_per_sample(dt), task.dataset_seed)


@functools.lru_cache(maxsize=4)
def _mnist1d(steps: int, seed: int) -> Dataset:
    try:  # imported on first use: it takes a second, and only task specs need it
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:
        raise SpecError("the mnist1d package is not installed (pip install mnist1d==0.0.2.post1)",
                        key="task.dataset") from exc
    args = get_dataset_args(as_dict=False)
    args.classes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]
    args.padding = [36, 60]
    args.final_seq_length = steps
    args.scale_coeff = 0.4
    args.iid_noise_scale = 2e-2
    args.max_translation = 48
    args.corr_noise_scale = 0.25
    args.shear_scale = 0.75
    args.seed = seed
    state = np.random.get_state()  # make_dataset seeds NumPy's global generator; leave it as it was
    try:
        raw = make_dataset(args)
    finally:
        np.random.set_state(state)
    arrays = [np.asarray(raw[k], dtype=float) for k in ("x", "x_test")]
    labels = [np.asarray(raw[k], dtype=np.int64) for k in ("y", "y_test")]
    for a in arrays + labels:
        a.flags.writeable = False
    return Dataset(x=arrays[0], y=labels[0], x_test=arrays[1], y_test=labels[1])


def batch_input(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Samples ``x[idx]`` (B, T) as the batched kernel's input (T, 1, B): step k of every sample at once."""
    return np.ascontiguousarray(x[idx].T[:, None, :])


def batch_target(y: np.ndarray, idx: np.ndarray, classes: int) -> np.ndarray:
    """One-hot labels (1, classes, B), held for every step of the sample."""
    out = np.zeros((1, classes, len(idx)))
    out[0, y[idx], np.arange(len(idx))] = 1.0
    return out


def predict(logit_sum: np.ndarray) -> np.ndarray:
    """Class per sample from the outputs summed over its steps, (classes, B) -> (B,)."""
    return np.argmax(logit_sum, axis=0)
