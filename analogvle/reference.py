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
1e-14), with a Newton fallback (scipy ``root``) should the iteration not
contract — never by inserting a delay.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import root

from analogvle.activations import ACTIVATIONS
from analogvle.errors import AnalogvleError
from analogvle.inputs import input_function, target_function
from analogvle.spec import NetworkSpec, Spec, check_fixed_step
from analogvle.trajectory import Trajectory, producer_meta, save_trajectory, signal_name

METHODS = ("adaptive", "rk4", "gle-euler")
ADAPTIVE_OPTIONS = {"method": "DOP853", "rtol": 1e-10, "atol": 1e-12}  # scipy solve_ivp
LOOP_RTOL = 1e-14
LOOP_MAX_ITER = 200


class ReferenceError(AnalogvleError):
    """The reference integrator failed (e.g. the γ loop has no solution)."""

    exit_code = 3


@dataclass
class _Layer:
    """Per-layer constants of the continuous equations."""

    n: int
    m: int
    tau_m: np.ndarray
    tau_r: np.ndarray
    k_u: np.ndarray  # 1 − τr/τm: weight of u in ŭ
    k_s: np.ndarray  # τr/τm: weight of the summed input in ŭ
    k_v: np.ndarray  # 1 − τm/τr: weight of v in e
    k_p: np.ndarray  # τm/τr: weight of r′ε in e
    phi: object
    dphi: object
    gamma: float
    plastic: bool
    eta: float


def _elaborate(net: NetworkSpec) -> list[_Layer]:
    out = []
    for layer in net.layers:
        act = ACTIVATIONS[layer.phi]
        ratio = layer.tau_r / layer.tau_m
        out.append(
            _Layer(
                n=layer.size,
                m=layer.fan_in,
                tau_m=layer.tau_m,
                tau_r=layer.tau_r,
                k_u=1.0 - ratio,
                k_s=ratio,
                k_v=1.0 - 1.0 / ratio,
                k_p=1.0 / ratio,
                phi=act.phi,
                dphi=act.dphi,
                gamma=layer.gamma,
                plastic=layer.plastic,
                eta=layer.eta,
            )
        )
    return out


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

    def __contains__(self, name: str) -> bool:
        return name in self.slices


class ContinuousModel:
    """The right-hand side dy/dt of the whole system: student, errors, weights, teacher.

    State (flattened): student ``u{l}`` and, for prospective errors, ``v{l}``;
    ``W{l}`` and ``b{l}`` of plastic layers; teacher ``tu{l}``.
    """

    def __init__(self, spec: Spec):
        self.spec = spec
        self.net = spec.network
        self.layers = _elaborate(spec.network)
        self.teacher = _elaborate(spec.teacher) if spec.teacher is not None else None
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
        self._e_guess: list[np.ndarray] | None = None
        self.loop_iterations_max = 0

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

    # -- instantaneous relations --------------------------------------------

    def target(self, t: float, y: np.ndarray, x: np.ndarray) -> np.ndarray | None:
        """The teacher's output r_L (or the sampled target) at time t."""
        if self.teacher is not None:
            r = x
            for i, (lay, ls) in enumerate(zip(self.teacher, self.spec.teacher.layers), 1):
                s = ls.weights @ r + ls.bias
                uhat = lay.k_u * self.layout.view(y, f"tu{i}") + lay.k_s * s
                r = lay.phi(uhat)
            return r
        if self.target_of_t is not None:
            return self.target_of_t(t)
        return None

    def forward(self, x, u, W, b, gamma_e):
        """Bottom-up: summed inputs s, ŭ, r, r′ per layer, given the γ·e terms."""
        s_all, uhat_all, r_all, rp_all = [], [], [], []
        r = x
        for lay, ui, Wi, bi, ge in zip(self.layers, u, W, b, gamma_e):
            s = Wi @ r + bi + ge
            uhat = lay.k_u * ui + lay.k_s * s
            r = lay.phi(uhat)
            s_all.append(s)
            uhat_all.append(uhat)
            r_all.append(r)
            rp_all.append(lay.dphi(uhat))
        return s_all, uhat_all, r_all, rp_all

    def backward(self, r_all, rp_all, v, W, target, mode: str | None = None):
        """Top-down: ε (the error input) and e per layer; ``mode`` overrides the spec's errors."""
        prospective = (mode or self.errors) == "prospective"
        L = len(self.layers)
        eps_all: list[np.ndarray] = [None] * L  # type: ignore[list-item]
        e_all: list[np.ndarray] = [None] * L  # type: ignore[list-item]
        eps = self.beta * (target - r_all[-1])
        for i in range(L - 1, -1, -1):
            lay = self.layers[i]
            inst = rp_all[i] * eps
            e = lay.k_v * v[i] + lay.k_p * inst if prospective else inst
            eps_all[i], e_all[i] = eps, e
            if i > 0:
                eps = W[i].T @ e
        return eps_all, e_all

    def evaluate(self, t: float, y: np.ndarray) -> dict:
        """Every instantaneous variable at (t, y); solves the γ loop when needed."""
        x = self.x_of_t(t)
        L = len(self.layers)
        u = [self.layout.view(y, f"u{i}") for i in range(1, L + 1)]
        W, b = self.weights(y)
        target = self.target(t, y, x)
        zeros = [np.zeros(lay.n) for lay in self.layers]
        out = {"x": x, "target": target, "u": u, "W": W, "b": b}
        if self.errors == "none":
            s, uhat, r, rp = self.forward(x, u, W, b, zeros)
            out.update(s=s, uhat=uhat, r=r, rp=rp, e=None, v=None, eps=None)
            return out
        v = [self.layout.view(y, f"v{i}") for i in range(1, L + 1)] if self.errors == "prospective" else zeros
        gammas = [lay.gamma for lay in self.layers]

        def pass_through(e_list):
            ge = [g * e for g, e in zip(gammas, e_list)]
            s, uhat, r, rp = self.forward(x, u, W, b, ge)
            eps, e_new = self.backward(r, rp, v, W, target)
            return (s, uhat, r, rp, eps), e_new

        if not any(gammas):
            fwd, e = pass_through(zeros)
        else:
            fwd, e = self._solve_loop(pass_through, t)
        s, uhat, r, rp, eps = fwd
        out.update(s=s, uhat=uhat, r=r, rp=rp, eps=eps, e=e, v=v)
        return out

    def _solve_loop(self, pass_through, t):
        """Fixed point e = F(e) of the γ loop, to round-off; Newton if it does not contract."""
        e = self._e_guess or [np.zeros(lay.n) for lay in self.layers]
        for it in range(LOOP_MAX_ITER):
            fwd, e_new = pass_through(e)
            change = max(float(np.max(np.abs(a - c))) for a, c in zip(e_new, e))
            scale = 1.0 + max(float(np.max(np.abs(a))) for a in e_new)
            e = e_new
            if change <= LOOP_RTOL * scale:
                self.loop_iterations_max = max(self.loop_iterations_max, it + 1)
                self._e_guess = e
                return fwd, e
        sizes = np.cumsum([lay.n for lay in self.layers])[:-1]

        def residual(flat):
            return np.concatenate(pass_through(np.split(flat, sizes))[1]) - flat

        sol = root(residual, np.concatenate(e), method="hybr", options={"xtol": 1e-14})
        if not sol.success:
            raise ReferenceError(f"the gamma loop has no solution at t = {t:g}: {sol.message}")
        e = np.split(sol.x, sizes)
        self._e_guess = e
        return pass_through(e)[0], e

    # -- dynamics -----------------------------------------------------------

    def rhs(self, t: float, y: np.ndarray, learning: bool) -> np.ndarray:
        """dy/dt; ``learning`` switches plasticity on (the learn_after gate)."""
        return self.rhs_from(self.evaluate(t, y), y, learning)

    def rhs_from(self, ev: dict, y: np.ndarray, learning: bool) -> np.ndarray:
        """dy/dt from the instantaneous variables ``ev = evaluate(t, y)``."""
        dy = np.empty_like(y)
        view = self.layout.view
        r_prev = ev["x"]
        for i, lay in enumerate(self.layers, 1):
            view(dy, f"u{i}")[...] = (ev["s"][i - 1] - ev["u"][i - 1]) / lay.tau_m
            if self.errors == "prospective":
                inst = ev["rp"][i - 1] * ev["eps"][i - 1]
                view(dy, f"v{i}")[...] = (inst - ev["v"][i - 1]) / lay.tau_r
            if f"W{i}" in self.layout:
                rate = lay.eta if learning else 0.0
                e = ev["e"][i - 1]
                view(dy, f"W{i}")[...] = rate * np.outer(e, r_prev)
                view(dy, f"b{i}")[...] = rate * e
            r_prev = ev["r"][i - 1]
        if self.teacher is not None:
            r = ev["x"]
            for i, (lay, ls) in enumerate(zip(self.teacher, self.spec.teacher.layers), 1):
                s = ls.weights @ r + ls.bias
                tu = view(y, f"tu{i}")
                view(dy, f"tu{i}")[...] = (s - tu) / lay.tau_m
                r = lay.phi(lay.k_u * tu + lay.k_s * s)
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
        producer["gamma_loop"] = f"fixed point to rel. {LOOP_RTOL:g} (Newton fallback)"
        producer["gamma_loop_iterations_max"] = model.loop_iterations_max
    wall = _time.perf_counter() - start
    return Trajectory(t=times, signals=signals, meta=producer_meta(spec, producer, wall))


def _rk4(model: ContinuousModel, spec: Spec, progress: bool) -> np.ndarray:
    """Classic RK4 with step dt; the learning gate is held for the whole step."""
    dt, n, every = spec.time.dt, spec.time.n_steps, spec.time.save_every
    y = model.initial_state()
    out = np.empty((n // every + 1, y.size))
    out[0] = y
    steps = range(n)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="rk4", unit="step", mininterval=1.0, leave=False)
    f = model.rhs
    for k in steps:
        t = k * dt
        learn = model.learning_at(t)
        k1 = f(t, y, learn)
        k2 = f(t + dt / 2, y + dt / 2 * k1, learn)
        k3 = f(t + dt / 2, y + dt / 2 * k2, learn)
        k4 = f(t + dt, y + dt * k3, learn)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if (k + 1) % every == 0:
            out[(k + 1) // every] = y
    return out


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
    for a, b in zip(edges[:-1], edges[1:]):
        learn = model.learning_at(a)
        sel = np.flatnonzero((times > a) & (times <= b))
        t_eval = np.union1d(times[sel], [b])  # always end on b: the next segment starts there
        sol = solve_ivp(lambda t, yy: model.rhs(t, yy, learn), (a, b), y, t_eval=t_eval, **options)
        if not sol.success:
            raise ReferenceError(f"adaptive integration failed on [{a:g}, {b:g}]: {sol.message}")
        states = sol.y.T
        out[sel] = states[np.searchsorted(t_eval, times[sel])]
        y = states[-1]
    return out


def output_loss(traj: Trajectory, beta: float = 1.0) -> np.ndarray:
    """Instantaneous loss ½ β ‖target − r_L‖² at every saved time point."""
    top = max(int(k[5:].split("/")[0]) for k in traj.signals if k.startswith("layer") and k.endswith("/r"))
    diff = traj["target"] - traj[signal_name(top, "r")]
    return 0.5 * beta * np.sum(diff**2, axis=1)


def cli_reference(args) -> int:
    from analogvle.spec import load_spec

    spec = load_spec(args.spec)
    traj = integrate(spec, args.method, progress=True)
    save_trajectory(args.output, traj)
    print(f"wrote {args.output} ({args.method}, {len(traj.t)} points, {traj.meta['wall_time']:.1f} s)")
    if args.plot:
        from analogvle.report import plot_learning

        plot_learning([(traj, args.method)], args.plot, spec=spec)
        print(f"wrote {args.plot}")
    return 0
