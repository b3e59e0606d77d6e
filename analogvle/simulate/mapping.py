"""From ngspice's seconds and volts back to model units on the save grid."""

from __future__ import annotations

import numpy as np

from analogvle.circuit.probes import Probe
from analogvle.errors import SimulationError

START_GAP = 0.05  # largest first-point delay bridged by extrapolation, in save_dt steps


def map_probes(probes: dict[str, Probe], time_scale: float, vectors: dict[str, np.ndarray],
               save_times: np.ndarray) -> tuple[np.ndarray, dict]:
    """Model-unit signals on ``save_times`` (model time units) from ngspice's vectors.

    Time is ``t / time_scale``; each probe is ``(V − offset) / scale``, linearly
    interpolated onto ``save_times`` and shaped ``(T, *probe.shape)``.
    """
    t_model = np.asarray(vectors["time"], dtype=float).real / time_scale
    save_times = np.asarray(save_times, dtype=float)
    span = save_times[-1] - save_times[0]
    step = save_times[1] - save_times[0] if len(save_times) > 1 else span
    # With `uic` ngspice does not write the t = 0 point: its first point is the first
    # (tiny) step. Up to START_GAP save steps are bridged by linear extrapolation.
    if t_model[0] - save_times[0] > START_GAP * step or t_model[-1] < save_times[-1] - 1e-9 * span:
        raise SimulationError(
            f"circuit time covers {t_model[0]:.6g}..{t_model[-1]:.6g} model time units, "
            f"the save grid needs {save_times[0]:.6g}..{save_times[-1]:.6g} (netlist .tran stop too short?)"
        )
    signals = {}
    for name, probe in probes.items():
        columns = [(np.asarray(vectors[v]).real - probe.offset) / probe.scale for v in probe.vectors()]
        if probe.saturation is not None:
            columns = [probe.saturation * np.tanh(col) for col in columns]
        if int(np.prod(probe.shape)) != len(columns):
            raise SimulationError(f"probe {name!r}: {len(columns)} nodes do not fill shape {probe.shape}")
        resampled = np.stack([_interp(save_times, t_model, col) for col in columns], axis=1)
        signals[name] = resampled.reshape((len(save_times), *probe.shape))
    return save_times.copy(), signals


def _interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """np.interp, but linear extrapolation (from the first two points) before ``xp[0]``."""
    y = np.interp(x, xp, fp)
    before = x < xp[0]
    if before.any() and len(xp) > 1 and xp[1] > xp[0]:
        slope = (fp[1] - fp[0]) / (xp[1] - xp[0])
        y[before] = fp[0] + slope * (x[before] - xp[0])
    return y
