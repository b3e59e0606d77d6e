"""The NumPy reference integrator of the continuous GLE system (EQUATIONS.md).

One right-hand side (:class:`ContinuousModel`), several interchangeable
methods over it:

- ``adaptive``: scipy's ``solve_ivp`` (DOP853, rtol 1e-10, atol 1e-12): the
  ground truth the circuit is compared against;
- ``rk4``: classic fixed-step Runge–Kutta with step ``dt``;
- ``gle-euler``: the discrete semantics of the public GLE code
  (:mod:`analogvle.euler`), not a discretisation of this right-hand side.

Times are model time units. With γ ≠ 0 the instantaneous relations form an
algebraic loop (ŭ needs e, e needs r′(ŭ) and the errors from above): it is
solved at every evaluation by fixed-point iteration to round-off (relative
1e-14; or, where the iteration stalls in a round-off cycle, ≤ 1e-12 — errors
amplified by k_p = τm/τr layer after layer make that floor reachable), with a
Newton fallback (scipy ``root``) should the iteration not contract — never by
inserting a delay. The largest accepted relative change goes into the meta.

The equations live once, in the compiled kernels of :mod:`analogvle.kernels`
(numba); :class:`ContinuousModel` packs their arrays and keeps the per-layer
list interface, and the ``rk4`` time loop runs inside a kernel too.
"""

from __future__ import annotations

import itertools
import time as _time

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import root

from analogvle import kernels as K
from analogvle.errors import AnalogvleError
from analogvle.inputs import input_function, input_values, sampled_values, target_function
from analogvle.spec import Spec, check_fixed_step
from analogvle.trajectory import Trajectory, producer_meta, save_trajectory, signal_name

METHODS = ("adaptive", "rk4", "gle-euler")
ADAPTIVE_OPTIONS = {"method": "DOP853", "rtol": 1e-10, "atol": 1e-12}  # scipy solve_ivp
LOOP_RTOL = 1e-14
LOOP_MAX_ITER = 200
LOOP_FLOOR = 1e-12  # accepted relative change once the iteration stalls in a round-off cycle
LOOP = np.array([LOOP_RTOL, LOOP_FLOOR, LOOP_MAX_ITER], dtype=float)  # the kernels' loop settings
RK4_CHUNK = 4096  # rk4 steps per kernel call: bounds the memory of the precomputed inputs


class ReferenceError(AnalogvleError):
    """The reference integrator failed (e.g. the γ loop has no solution)."""

    exit_code = 3


class _StateLayout:
    """Named slices of the flat ODE state vector."""

    def __init__(self):
        self.slices: dict[str, tuple[slice, tuple[int, ...]]] = {}
        self.size = 0

    def add(self, name: str, shape: tuple[int, ...]) -> None:
        n = int(np.prod(shape))
        self.slices[name] = (slice(self.size, self.size + n), shape)
        self.size += n

    def view(self, y: np.ndarray, name: str) -> np.ndarray:
        sl, shape = self.slices[name]
        return y[sl].reshape(shape)

    def offset(self, name: str) -> int:
        """Start of ``name`` in the flat state, or −1 if it is not part of it."""
        return self.slices[name][0].start if name in self.slices else -1

    def __contains__(self, name: str) -> bool:
        return name in self.slices


class ContinuousModel:
    """The right-hand side dy/dt of the whole system: student, errors, weights, teacher.

    State (flattened): student ``u{l}`` and, for prospective errors, ``v{l}``;
    ``W{l}`` and ``b{l}`` of plastic layers; teacher ``tu{l}``. Every relation
    is computed by the compiled kernels of :mod:`analogvle.kernels`; this class
    packs their arrays and returns per-layer lists.
    """

    def __init__(self, spec: Spec):
        self.spec = spec
        self.net = spec.network
        self.layers = K.elaborate(spec.network)
        self.teacher = K.elaborate(spec.teacher) if spec.teacher is not None else None
        self.x_of_t = input_function(spec)
        self.target_of_t = target_function(spec)
        self.errors = spec.network.errors
        self.beta = spec.network.beta
        self.static_W = [layer.weights for layer in spec.network.layers]
        self.static_b = [layer.bias for layer in spec.network.layers]
        self.layout = _StateLayout()
        for i, (lay, ls) in enumerate(zip(self.layers, spec.network.layers), 1):
            self.layout.add(f"u{i}", (lay.n,))
            if self.errors == "prospective":
                self.layout.add(f"v{i}", (lay.n,))
            if ls.plastic:
                self.layout.add(f"W{i}", (lay.n, lay.m))
                self.layout.add(f"b{i}", (lay.n,))
        if spec.teacher is not None:
            for i, lay in enumerate(self.teacher, 1):
                self.layout.add(f"tu{i}", (lay.n,))
        self.mode = K.ERROR_CODES[self.errors]
        self.packed = K.pack(spec.network, self.layout.offset, "")
        self.teacher_packed = K.pack(spec.teacher, self.layout.offset, "t")
        self.n_out = self.layers[-1].n
        self._guess = np.zeros(self.packed[0].shape[:1] + self.packed[1].shape[2:])  # last converged e, (L, width)
        self.loop_iterations_max = 0
        self.loop_residual = np.zeros(1)  # largest accepted relative change of the γ loop

    # -- state ----------------------------------------------------------------

    def initial_state(self) -> np.ndarray:
        """All potentials zero; plastic weights and biases at their spec values."""
        y = np.zeros(self.layout.size)
        for i, ls in enumerate(self.net.layers, 1):
            if ls.plastic:
                self.layout.view(y, f"W{i}")[...] = ls.weights
                self.layout.view(y, f"b{i}")[...] = ls.bias
        return y

    def weights(self, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        W, b = [], []
        for i in range(1, len(self.layers) + 1):
            if f"W{i}" in self.layout:
                W.append(self.layout.view(y, f"W{i}"))
                b.append(self.layout.view(y, f"b{i}"))
            else:
                W.append(self.static_W[i - 1])
                b.append(self.static_b[i - 1])
        return W, b

    # -- packing between per-layer lists and the kernels' padded arrays --------

    def _padded(self, vectors) -> np.ndarray:
        out = np.zeros(self._guess.shape)
        for l, vec in enumerate(vectors):
            out[l, : len(vec)] = vec
        return out

    def _padded_W(self, W) -> np.ndarray:
        out = np.zeros(self.packed[3].shape)
        for l, Wi in enumerate(W):
            out[l, : Wi.shape[0], : Wi.shape[1]] = Wi
        return out

    def _lists(self, arr: np.ndarray) -> list[np.ndarray]:
        return [arr[l, : lay.n] for l, lay in enumerate(self.layers)]

    def _sampled_target(self, t: float) -> np.ndarray:
        """The target buffer the kernels read: the sampled target, else zeros (a teacher fills it)."""
        if self.teacher is None and self.target_of_t is not None:
            return np.array(self.target_of_t(t), dtype=float)  # a fresh contiguous copy
        return np.zeros(self.n_out)

    # -- instantaneous relations --------------------------------------------

    def forward(self, x, u, W, b, gamma_e):
        """Bottom-up: summed inputs s, ŭ, r, r′ per layer, given the γ·e terms."""
        ip, fp = self.packed[:2]
        s, uhat, r, rp = (np.zeros(self._guess.shape) for _ in range(4))
        K.forward_core(np.asarray(x, dtype=float), self._padded(u), self._padded_W(W), self._padded(b),
                       self._padded(gamma_e), ip, fp, s, uhat, r, rp)
        return self._lists(s), self._lists(uhat), self._lists(r), self._lists(rp)

    def backward(self, r_all, rp_all, v, W, target, mode: str | None = None):
        """Top-down: ε (the error input) and e per layer; ``mode`` overrides the spec's errors."""
        prospective = (mode or self.errors) == "prospective"
        ip, fp = self.packed[:2]
        eps, e = np.zeros(self._guess.shape), np.zeros(self._guess.shape)
        K.backward_core(self._padded(r_all), self._padded(rp_all), self._padded(v), self._padded_W(W),
                        np.asarray(target, dtype=float), self.beta, prospective, ip, fp, eps, e)
        return self._lists(eps), self._lists(e)

    def _evaluate_work(self, t: float, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """x, target, and the kernels' work arrays (work, Wg) at (t, y), the γ loop solved."""
        x = np.ascontiguousarray(self.x_of_t(t), dtype=float)
        target = self._sampled_target(t)
        ip, fp, sc, Wst = self.packed
        tip, tfp, _, tWst = self.teacher_packed
        work, Wg = K.new_work(Wst)
        twork, Wg_t = K.new_work(tWst)
        it = K.evaluate(x, target, y, ip, fp, sc, Wst, tip, tfp, tWst, self.beta, self.mode, LOOP,
                        self._guess, self.loop_residual, work, Wg, twork, Wg_t)
        if it < 0:
            self._newton(t, x, target, work, Wg)
        self.loop_iterations_max = max(self.loop_iterations_max, it)
        return x, target, work, Wg

    def evaluate(self, t: float, y: np.ndarray) -> dict:
        """Every instantaneous variable at (t, y); solves the γ loop when needed."""
        y = np.ascontiguousarray(y, dtype=float)
        x, target, work, _ = self._evaluate_work(t, y)
        L = len(self.layers)
        u = [self.layout.view(y, f"u{i}") for i in range(1, L + 1)]
        W, b = self.weights(y)
        has_target = self.teacher is not None or self.target_of_t is not None
        out = {"x": x, "target": target if has_target else None, "u": u, "W": W, "b": b}
        lists = {name: self._lists(work[row]) for name, row in
                 (("s", K.S), ("uhat", K.UHAT), ("r", K.R), ("rp", K.RP), ("eps", K.EPS), ("e", K.E))}
        out.update(lists)
        if self.errors == "none":
            out.update(e=None, v=None, eps=None)
        elif self.errors == "prospective":
            out["v"] = [self.layout.view(y, f"v{i}") for i in range(1, L + 1)]
        else:
            out["v"] = [np.zeros(lay.n) for lay in self.layers]
        return out

    def _newton(self, t: float, x: np.ndarray, target: np.ndarray, work: np.ndarray, Wg: np.ndarray) -> None:
        """The γ loop by Newton (scipy ``root``) when the fixed point does not contract; fills work."""
        ip, fp, sc, _ = self.packed
        idx = [(l, lay.n) for l, lay in enumerate(self.layers)]

        def pass_through(flat):
            pos = 0
            for l, n in idx:
                work[K.E_IN, l, :n] = flat[pos : pos + n]
                pos += n
            K.sweep(x, target, ip, fp, sc, work, Wg, self.beta, self.mode)
            return np.concatenate([work[K.E, l, :n] for l, n in idx])

        start = np.concatenate([self._guess[l, :n] for l, n in idx])
        sol = root(lambda flat: pass_through(flat) - flat, start, method="hybr", options={"xtol": 1e-14})
        # hybr reports "no further improvement" at round-off: accept a root whose residual is at the floor
        rel = float(np.max(np.abs(pass_through(sol.x) - sol.x))) / (1.0 + float(np.max(np.abs(sol.x))))
        if not (sol.success or rel <= LOOP_FLOOR):
            raise ReferenceError(f"the gamma loop has no solution at t = {t:g}: {sol.message}")
        self.loop_residual[0] = max(self.loop_residual[0], rel)
        work[K.E] = work[K.E_IN]  # e is the root itself
        self._guess[...] = work[K.E]

    # -- dynamics -----------------------------------------------------------

    def rhs(self, t: float, y: np.ndarray, learning: bool) -> np.ndarray:
        """dy/dt; ``learning`` switches plasticity on (the learn_after gate)."""
        y = np.ascontiguousarray(y, dtype=float)
        x = np.ascontiguousarray(self.x_of_t(t), dtype=float)
        dy = np.empty_like(y)
        tip, tfp, _, tWst = self.teacher_packed
        it = K.rhs(dy, x, self._sampled_target(t), y, learning, *self.packed, tip, tfp, tWst,
                   self.beta, self.mode, LOOP, self._guess, self.loop_residual)
        if it < 0:  # the fixed point did not converge: Newton
            x, _, work, _ = self._evaluate_work(t, y)
            self._assemble(dy, y, x, work, learning)
        self.loop_iterations_max = max(self.loop_iterations_max, it)
        return dy

    def _assemble(self, dy: np.ndarray, y: np.ndarray, x: np.ndarray, work: np.ndarray, learning: bool) -> None:
        ip, fp, sc, _ = self.packed
        tip, tfp, _, tWst = self.teacher_packed
        twork, Wg_t = K.new_work(tWst)
        if tip.shape[0] > 0:
            K.teacher_pass(x, y, tip, tfp, tWst, twork, Wg_t)
        K.assemble(dy, y, x, work, ip, fp, sc, tip, tfp, twork, learning, self.mode)

    def rhs_from(self, ev: dict, y: np.ndarray, learning: bool) -> np.ndarray:
        """dy/dt from the instantaneous variables ``ev = evaluate(t, y)``."""
        y = np.ascontiguousarray(y, dtype=float)
        work = np.zeros((K.WORK_ROWS,) + self._guess.shape)
        for name, row in (("s", K.S), ("u", K.U), ("r", K.R), ("rp", K.RP), ("eps", K.EPS), ("e", K.E),
                          ("v", K.V)):
            if ev.get(name) is not None:
                work[row] = self._padded(ev[name])
        dy = np.empty_like(y)
        self._assemble(dy, y, np.asarray(ev["x"], dtype=float), work, learning)
        return dy

    def learning_at(self, t: float) -> bool:
        return t >= self.spec.time.learn_after - 1e-9 * self.spec.time.dt

    # -- recording ----------------------------------------------------------

    def record(self, times: np.ndarray, states: np.ndarray) -> dict[str, np.ndarray]:
        """Trajectory signals (INTERFACES.md names) at ``times`` from states (T, size)."""
        rows = [self.evaluate(t, y) for t, y in zip(times, states)]
        out = {"x": np.array([ev["x"] for ev in rows])}
        if rows[0]["target"] is not None:
            out["target"] = np.array([ev["target"] for ev in rows])
        for i, ls in enumerate(self.net.layers, 1):
            j = i - 1
            out[signal_name(i, "u")] = np.array([ev["u"][j] for ev in rows])
            out[signal_name(i, "uhat")] = np.array([ev["uhat"][j] for ev in rows])
            out[signal_name(i, "r")] = np.array([ev["r"][j] for ev in rows])
            if self.errors != "none":
                key_v = "v" if self.errors == "prospective" else "e"
                out[signal_name(i, "v")] = np.array([ev[key_v][j] for ev in rows])
                out[signal_name(i, "e")] = np.array([ev["e"][j] for ev in rows])
            if ls.plastic:
                out[signal_name(i, "W")] = np.array([ev["W"][j] for ev in rows])
                out[signal_name(i, "b")] = np.array([ev["b"][j] for ev in rows])
        return out


# ----------------------------------------------------------------------------
# Methods
# ----------------------------------------------------------------------------


def integrate(spec: Spec, method: str = "adaptive", *, progress: bool = False, rtol: float | None = None) -> Trajectory:
    """Integrate the spec's system with ``method``; returns the trajectory on the save grid.

    ``rtol`` tightens the adaptive method's relative tolerance (default 1e-10;
    the absolute tolerance follows at rtol/100).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    check_fixed_step(spec, method)
    if method == "gle-euler":
        from analogvle.euler import integrate_gle_euler

        return integrate_gle_euler(spec)
    start = _time.perf_counter()
    model = ContinuousModel(spec)
    times = spec.time.save_times
    if method == "rk4":
        states = _rk4(model, spec, progress)
        producer = {"kind": "reference", "method": "rk4", "dt": spec.time.dt}
    else:
        options = dict(ADAPTIVE_OPTIONS)
        if rtol is not None:
            options.update(rtol=rtol, atol=rtol / 100)
        states = _adaptive(model, spec, times, options)
        producer = {"kind": "reference", "method": "adaptive", "solver": options.pop("method"), **options}
    signals = model.record(times, states)
    if spec.network.has_gamma and spec.network.errors != "none":
        producer["gamma_loop"] = (f"fixed point to rel. {LOOP_RTOL:g}, or {LOOP_FLOOR:g} when stalled "
                                  "in a round-off cycle (Newton fallback)")
        producer["gamma_loop_iterations_max"] = model.loop_iterations_max
        producer["gamma_loop_residual_max"] = float(model.loop_residual[0])
    wall = _time.perf_counter() - start
    return Trajectory(t=times, signals=signals, meta=producer_meta(spec, producer, wall))


def _rk4(model: ContinuousModel, spec: Spec, progress: bool) -> np.ndarray:
    """Classic RK4 with step dt; the learning gate is held for the whole step.

    The time loop runs in :func:`analogvle.kernels.rk4_steps`, in chunks of
    ``RK4_CHUNK`` steps whose inputs (and sampled targets) are precomputed at
    the stage times t, t + dt/2, t + dt. A step whose γ loop does not converge
    by fixed-point iteration is redone here through ``model.rhs`` (Newton).
    """
    dt, n, every = spec.time.dt, spec.time.n_steps, spec.time.save_every
    y = np.ascontiguousarray(model.initial_state(), dtype=float)
    out = np.empty((n // every + 1, y.size))
    out[0] = y
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, desc="rk4", unit="step", mininterval=1.0, leave=False)
    tip, tfp, _, tWst = model.teacher_packed
    stats = np.zeros(1, dtype=np.int64)
    k = 0
    while k < n:
        k1 = min(k + RK4_CHUNK, n)
        t = np.arange(k, k1) * dt
        stage_t = np.stack([t, t + dt / 2, t + dt], axis=1).ravel()
        xs = np.ascontiguousarray(input_values(spec.input, stage_t, dt).reshape(k1 - k, 3, -1), dtype=float)
        targets = np.zeros((k1 - k, 3, model.n_out))
        if spec.teacher is None and spec.target is not None:
            targets[...] = sampled_values(spec.target.data, stage_t, dt).reshape(k1 - k, 3, -1)
        done = K.rk4_steps(y, k, k1, dt, spec.time.learn_after, every, xs, targets, out, *model.packed,
                           tip, tfp, tWst, model.beta, model.mode, LOOP, model._guess, model.loop_residual, stats)
        if done < k1:  # the γ loop failed in step `done`: take it here, with the Newton fallback
            y[:] = _rk4_step(model, done * dt, dt, y)
            done += 1
            if done % every == 0:
                out[done // every] = y
        if bar is not None:
            bar.update(done - k)
        k = done
    if bar is not None:
        bar.close()
    model.loop_iterations_max = max(model.loop_iterations_max, int(stats[0]))
    return out


def _rk4_step(model: ContinuousModel, t: float, dt: float, y: np.ndarray) -> np.ndarray:
    """One classic RK4 step through ``model.rhs`` (the same arithmetic as the kernel)."""
    learn = model.learning_at(t)
    f = model.rhs
    k1 = f(t, y, learn)
    k2 = f(t + dt / 2, y + dt / 2 * k1, learn)
    k3 = f(t + dt / 2, y + dt / 2 * k2, learn)
    k4 = f(t + dt, y + dt * k3, learn)
    return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def _adaptive(model: ContinuousModel, spec: Spec, times: np.ndarray, options: dict) -> np.ndarray:
    """solve_ivp in segments split at the learning onset and at input discontinuities."""
    T = spec.time.duration
    breaks = {0.0, T}
    if 0.0 < spec.time.learn_after < T:
        breaks.add(spec.time.learn_after)
    if spec.input.kind == "square" and spec.input.smooth_sigma == 0.0:
        half = spec.input.period / 2
        breaks.update(np.arange(half, T, half).tolist())
    edges = sorted(breaks)
    y = model.initial_state()
    out = np.empty((len(times), y.size))
    out[0] = y
    for a, b in itertools.pairwise(edges):
        learn = model.learning_at(a)
        sel = np.flatnonzero((times > a) & (times <= b))
        t_eval = np.union1d(times[sel], [b])  # always end on b: the next segment starts there
        sol = solve_ivp(lambda t, yy, on=learn: model.rhs(t, yy, on), (a, b), y, t_eval=t_eval, **options)
        if not sol.success:
            raise ReferenceError(f"adaptive integration failed on [{a:g}, {b:g}]: {sol.message}")
        states = sol.y.T
        out[sel] = states[np.searchsorted(t_eval, times[sel])]
        y = states[-1]
    return out


def cli_reference(args) -> int:
    from analogvle.spec import load_spec

    spec = load_spec(args.spec)
    traj = integrate(spec, args.method, progress=True)
    save_trajectory(args.output, traj)
    print(f"wrote {args.output} ({args.method}, {len(traj.t)} points, {traj.meta['wall_time']:.1f} s)")
    if args.plot:
        from analogvle.report import plot_learning, teacher_weights_from_meta

        plot_learning([(traj, f"reference ({args.method})")], args.plot,
                      teacher_weights=teacher_weights_from_meta(traj.meta), title=f"{spec.name}: reference learning")
        print(f"wrote {args.plot}")
    return 0
