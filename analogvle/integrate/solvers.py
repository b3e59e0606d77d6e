"""The continuous methods over :class:`~analogvle.integrate.vector_field.ContinuousModel`.

- ``adaptive``: scipy's ``solve_ivp`` (DOP853, rtol 1e-10, atol 1e-12), in
  segments split at the learning onset and at input discontinuities: the
  ground truth every circuit is compared with;
- ``rk4``: classic fixed-step Runge–Kutta at ``dt``; its time loop is the
  compiled :func:`analogvle.integrate.kernels.rk4_steps`, the only RK4.

Both return a :class:`~analogvle.model.trajectory.Trajectory` on the save grid;
times in model time units.
"""

from __future__ import annotations

import itertools
import time as _time

import numpy as np
from scipy.integrate import solve_ivp
from tqdm import tqdm

from analogvle.errors import IntegrationError
from analogvle.integrate import kernels as K
from analogvle.integrate.vector_field import ContinuousModel
from analogvle.model.inputs import input_values, sampled_values
from analogvle.model.spec import Spec, check_fixed_step
from analogvle.model.trajectory import Trajectory, producer_meta

ADAPTIVE_OPTIONS = {"method": "DOP853", "rtol": 1e-10, "atol": 1e-12}  # scipy solve_ivp
RK4_CHUNK = 4096  # most rk4 steps per kernel call: bounds the memory of the precomputed inputs
CHUNK_WORK = 5e6  # synapse evaluations per kernel call (~20 ms): Ctrl-C and the progress bar get a turn


def integrate_adaptive(spec: Spec, *, progress: bool = False, rtol: float | None = None) -> Trajectory:
    """The spec's system by DOP853; ``rtol`` tightens the relative tolerance (atol follows at rtol/100)."""
    start = _time.perf_counter()
    model = ContinuousModel(spec)
    options = dict(ADAPTIVE_OPTIONS)
    if rtol is not None:
        options.update(rtol=rtol, atol=rtol / 100)
    times = spec.time.save_times
    states = _adaptive(model, spec, times, options, progress)
    producer = {"kind": "reference", "method": "adaptive", "solver": options.pop("method"), **options}
    return _trajectory(model, spec, times, states, producer, start)


def integrate_rk4(spec: Spec, *, progress: bool = False) -> Trajectory:
    """The spec's system by classic RK4 with step dt (the learning gate held for each whole step)."""
    check_fixed_step(spec, "rk4")
    start = _time.perf_counter()
    model = ContinuousModel(spec)
    states = _rk4(model, spec, progress)
    producer = {"kind": "reference", "method": "rk4", "dt": spec.time.dt}
    return _trajectory(model, spec, spec.time.save_times, states, producer, start)


def _trajectory(model: ContinuousModel, spec: Spec, times: np.ndarray, states: np.ndarray, producer: dict,
                start: float) -> Trajectory:
    signals = model.record(times, states)
    if spec.network.has_gamma and spec.network.errors != "none":
        producer["gamma_loop"] = (f"fixed point to rel. {K.LOOP_RTOL:g}, or {K.LOOP_FLOOR:g} when stalled in a "
                                  f"round-off cycle; Newton's method where it does not contract "
                                  f"(iterations > {K.LOOP_MAX_ITER})")
        producer["gamma_loop_iterations_max"] = model.loop_iterations_max
        producer["gamma_loop_residual_max"] = float(model.loop_residual[0])
    meta = producer_meta(spec, producer, _time.perf_counter() - start)
    return Trajectory(t=times, signals=signals, meta=meta, spec=spec)


def _rk4(model: ContinuousModel, spec: Spec, progress: bool) -> np.ndarray:
    """RK4 in chunks of RK4_CHUNK steps whose inputs (and sampled targets) are precomputed at t, t + dt/2, t + dt."""
    dt, n, every = spec.time.dt, spec.time.n_steps, spec.time.save_every
    y = np.ascontiguousarray(model.initial_state(), dtype=float)
    out = np.empty((n // every + 1, y.size))
    out[0] = y
    bar = tqdm(total=n, desc="rk4", unit="step", mininterval=1.0, leave=False, delay=2.0, disable=not progress)
    stats = np.zeros(1, dtype=np.int64)
    synapses = int(model.net.W.size + model.teacher.W.size)
    chunk = int(max(1, min(RK4_CHUNK, CHUNK_WORK // (4 * max(1, synapses)))))
    k = 0
    while k < n:
        k1 = min(k + chunk, n)
        t = np.arange(k, k1) * dt
        stage_t = np.stack([t, t + dt / 2, t + dt], axis=1).ravel()
        xs = np.ascontiguousarray(input_values(spec.input, stage_t, dt).reshape(k1 - k, 3, -1), dtype=float)
        targets = np.zeros((k1 - k, 3, model.n_out))
        if spec.teacher is None and spec.target is not None:
            targets[...] = sampled_values(spec.target.data, stage_t, dt).reshape(k1 - k, 3, -1)
        done = K.rk4_steps(y, k, k1, dt, spec.time.learn_after, every, xs, targets, out, model.beta, model.mode,
                           model.net, model.slots, model.teacher, model.tslots, model.guess, model.loop_residual,
                           stats, model.work, model.twork)
        if done < k1:
            raise IntegrationError(f"the gamma loop has no solution at t = {done * dt:g} (neither the fixed point "
                                   "nor Newton's method converged); reduce gamma")
        bar.update(done - k)
        k = done
    bar.close()
    model.loop_iterations_max = max(model.loop_iterations_max, int(stats[0]))
    return out


def _adaptive(model: ContinuousModel, spec: Spec, times: np.ndarray, options: dict, progress: bool) -> np.ndarray:
    """solve_ivp in segments split at the learning onset and at input discontinuities."""
    T = spec.time.duration
    breaks = {0.0, T}
    if 0.0 < spec.time.learn_after < T:
        breaks.add(spec.time.learn_after)
    if spec.input.kind == "square" and spec.input.smooth_sigma == 0.0:
        half = spec.input.period / 2
        breaks.update(np.arange(half, T, half).tolist())
    y = model.initial_state()
    out = np.empty((len(times), y.size))
    out[0] = y
    bar = _TimeBar(T, progress)
    for a, b in itertools.pairwise(sorted(breaks)):
        learn = model.learning_at(a)
        sel = np.flatnonzero((times > a) & (times <= b))
        t_eval = np.union1d(times[sel], [b])  # always end on b: the next segment starts there

        def rhs(t: float, yy: np.ndarray, on: bool = learn) -> np.ndarray:
            bar.at(t)
            return model.rhs(t, yy, on)

        sol = solve_ivp(rhs, (a, b), y, t_eval=t_eval, **options)
        if not sol.success:
            raise IntegrationError(f"adaptive integration failed on [{a:g}, {b:g}]: {sol.message}")
        states = sol.y.T
        out[sel] = states[np.searchsorted(t_eval, times[sel])]
        y = states[-1]
    bar.close()
    return out


class _TimeBar:
    """A progress bar over model time for solve_ivp (which has no callback): the right-hand side moves it."""

    EVERY = 256  # calls between updates: the bar costs nothing measurable

    def __init__(self, duration: float, enabled: bool):
        self.bar = tqdm(total=duration, desc="adaptive", unit="t", delay=2.0, leave=False, disable=not enabled,
                        mininterval=1.0,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")
        self.calls = 0

    def at(self, t: float) -> None:
        self.calls += 1
        if self.calls % self.EVERY == 0 and t > self.bar.n:
            self.bar.update(t - self.bar.n)

    def close(self) -> None:
        self.bar.close()
