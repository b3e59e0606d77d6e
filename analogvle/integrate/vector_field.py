"""The continuous GLE system (EQUATIONS.md): one right-hand side for every continuous method.

:class:`ContinuousModel` holds the packed network, the state layout and the
input; the methods over it are in :mod:`analogvle.integrate.solvers`. State: student ``u{l}`` and, for prospective errors, ``v{l}``; ``W{l}`` of
plastic layers and ``b{l}`` of those that learn their bias; teacher ``tu{l}``.
With γ ≠ 0 the instantaneous relations form an algebraic loop (ŭ needs e, e
needs r′(ŭ) and the errors from above): every evaluation solves it by
fixed-point iteration to round-off (relative 1e-14; 1e-12 where the
iteration stalls in a round-off cycle), Newton's method where it does not
contract — never by inserting a delay; the meta records the most iterations
and the largest residual. Times in model time units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from analogvle.errors import IntegrationError
from analogvle.integrate import kernels as K
from analogvle.integrate.packing import ERROR_CODES, PackedNetwork, empty_network, pack_network
from analogvle.model.inputs import input_function, target_function
from analogvle.model.spec import Spec
from analogvle.model.terms import signal_name


class StateLayout:
    """Named slices of the flat ODE state vector."""

    def __init__(self) -> None:
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

    def slots(self, prefix: str, n_layers: int) -> K.Slots:
        """The kernels' offsets of ``{prefix}u{l}``, ``v``, ``W``, ``b`` (−1 where absent)."""

        def offsets(kind: str) -> np.ndarray:
            names = [f"{prefix}{kind}{l}" for l in range(1, n_layers + 1)]
            return np.array([self.slices[n][0].start if n in self.slices else -1 for n in names], dtype=np.int64)

        return K.Slots(offsets("u"), offsets("v"), offsets("W"), offsets("b"))


class Snapshot(NamedTuple):
    """Every variable at one instant, per layer (lists of (n,) arrays; W of (n, m))."""

    x: np.ndarray
    target: np.ndarray | None
    u: list
    v: list | None
    W: list
    b: list
    s: list
    uhat: list
    r: list
    rp: list
    eps: list | None
    e: list | None


class ContinuousModel:
    """The right-hand side dy/dt of the whole system: student, errors, weights, teacher."""

    def __init__(self, spec: Spec):
        self.spec = spec
        net = spec.network
        self.errors, self.beta, self.mode = net.errors, net.beta, ERROR_CODES[net.errors]
        self.x_of_t = input_function(spec)
        self.target_of_t = target_function(spec)
        self.layout = StateLayout()
        for i, layer in enumerate(net.layers, 1):
            self.layout.add(f"u{i}", (layer.size,))
            if self.errors == "prospective":
                self.layout.add(f"v{i}", (layer.size,))
            if layer.plastic:
                self.layout.add(f"W{i}", (layer.size, layer.fan_in))
            if layer.learns_bias:
                self.layout.add(f"b{i}", (layer.size,))
        if spec.teacher is not None:
            for i, layer in enumerate(spec.teacher.layers, 1):
                self.layout.add(f"tu{i}", (layer.size,))
        self.net: PackedNetwork = pack_network(net)
        self.slots = self.layout.slots("", len(net.layers))
        self.teacher = pack_network(spec.teacher) if spec.teacher is not None else empty_network()
        self.tslots = self.layout.slots("t", len(spec.teacher.layers) if spec.teacher is not None else 0)
        self.work, self.twork = K.new_work(self.net), K.new_work(self.teacher)
        self.n_out = net.sizes[-1]
        self.guess = np.zeros(self.net.k_u.shape)  # last converged e of the γ loop, (L, width)
        self.loop_iterations_max = 0
        self.loop_residual = np.zeros(1)  # largest accepted relative change of the γ loop

    # -- state ---------------------------------------------------------------

    def initial_state(self) -> np.ndarray:
        """All potentials zero; plastic weights and biases at their spec values."""
        y = np.zeros(self.layout.size)
        for i, layer in enumerate(self.spec.network.layers, 1):
            if layer.plastic:
                self.layout.view(y, f"W{i}")[...] = layer.weights
            if layer.learns_bias:
                self.layout.view(y, f"b{i}")[...] = layer.bias
        return y

    def learning_at(self, t: float) -> bool:
        return t >= self.spec.time.learn_after - 1e-9 * self.spec.time.dt

    def _target(self, t: float) -> np.ndarray:
        """The target buffer the kernels read: the sampled target, else zeros (a teacher fills it)."""
        if self.spec.teacher is None and self.target_of_t is not None:
            return np.array(self.target_of_t(t), dtype=float)  # a fresh contiguous copy
        return np.zeros(self.n_out)

    # -- evaluation ----------------------------------------------------------

    def rhs(self, t: float, y: np.ndarray, learning: bool) -> np.ndarray:
        """dy/dt; ``learning`` switches plasticity on (the learn_after gate)."""
        y = np.ascontiguousarray(y, dtype=float)
        dy = np.empty_like(y)
        x = np.ascontiguousarray(self.x_of_t(t), dtype=float)
        it = K.rhs(dy, x, self._target(t), y, learning, self.beta, self.mode, self.net, self.slots, self.teacher,
                   self.tslots, self.guess, self.loop_residual, self.work, self.twork)
        self._count(it, t)
        return dy

    def _count(self, it: int, t: float) -> None:
        if it < 0:
            raise IntegrationError(f"the gamma loop has no solution at t = {t:g} (neither the fixed point nor "
                                   "Newton's method converged); reduce gamma")
        self.loop_iterations_max = max(self.loop_iterations_max, it)

    def evaluate(self, t: float, y: np.ndarray) -> Snapshot:
        """Every instantaneous variable at (t, y), the γ loop solved."""
        y = np.ascontiguousarray(y, dtype=float)
        x = np.ascontiguousarray(self.x_of_t(t), dtype=float)
        target = self._target(t)
        w = self.work
        self._count(K.evaluate(x, target, y, self.beta, self.mode, self.net, self.slots, self.teacher, self.tslots,
                               self.guess, self.loop_residual, w, self.twork), t)
        lists = {name: self._lists(getattr(w, name)) for name in ("u", "b", "s", "uhat", "r", "rp")}
        errors_on = self.errors != "none"
        return Snapshot(
            x=x, target=target if self.spec.has_target else None, W=self._matrices(w.Wg),
            v=self._lists(w.v) if errors_on else None, eps=self._lists(w.eps) if errors_on else None,
            e=self._lists(w.e) if errors_on else None, **lists)

    def assemble(self, x: np.ndarray, learning: bool) -> np.ndarray:
        """dy/dt from the variables the last :meth:`evaluate` left in the work arrays."""
        dy = np.empty(self.layout.size)
        K.assemble(dy, x, learning, self.mode, self.net, self.slots, self.work, self.teacher, self.tslots,
                   self.twork)
        return dy

    def forward(self, x, u, W, b, gamma_e) -> tuple[list, list, list, list]:
        """Bottom-up for given potentials and γ·e terms: (s, ŭ, r, r′) per layer."""
        w = K.new_work(self.net)
        for name, values in (("u", u), ("b", b), ("ge", gamma_e)):
            self._fill(getattr(w, name), values)
        for l, Wl in enumerate(W):
            w.Wg[l, : Wl.shape[0], : Wl.shape[1]] = Wl
        K.forward_core(np.asarray(x, dtype=float), self.net, w)
        return self._lists(w.s), self._lists(w.uhat), self._lists(w.r), self._lists(w.rp)

    def backward(self, r, rp, v, W, target, mode: str | None = None) -> tuple[list, list]:
        """Top-down for given rates: (ε, e) per layer; ``mode`` overrides the spec's errors."""
        w = K.new_work(self.net)
        for name, values in (("r", r), ("rp", rp), ("v", v)):
            self._fill(getattr(w, name), values)
        for l, Wl in enumerate(W):
            w.Wg[l, : Wl.shape[0], : Wl.shape[1]] = Wl
        K.backward_core(np.asarray(target, dtype=float), self.beta, (mode or self.errors) == "prospective",
                        self.net, w)
        return self._lists(w.eps), self._lists(w.e)

    def _fill(self, out: np.ndarray, values) -> None:
        for l, vec in enumerate(values):
            out[l, : len(vec)] = vec

    def _lists(self, arr: np.ndarray) -> list[np.ndarray]:
        return [arr[l, :n].copy() for l, n in enumerate(self.net.sizes)]

    def _matrices(self, arr: np.ndarray) -> list[np.ndarray]:
        return [arr[l, :n, :m].copy() for l, (n, m) in enumerate(zip(self.net.sizes, self.net.fans))]

    # -- recording -----------------------------------------------------------

    def record(self, times: np.ndarray, states: np.ndarray) -> dict[str, np.ndarray]:
        """Trajectory signals (INTERFACES.md names) at ``times`` from states (T, size), into preallocated arrays."""
        spec, T = self.spec.network, len(times)
        errors_on = self.errors != "none"
        out: dict[str, np.ndarray] = {"x": np.empty((T, spec.inputs))}
        if self.spec.has_target:
            out["target"] = np.empty((T, self.n_out))
        rows: list[tuple[str, str, int]] = []  # (signal, Snapshot field, layer index)
        for i, layer in enumerate(spec.layers, 1):
            kinds = ["u", "uhat", "r"] + (["v", "e"] if errors_on else [])
            rows += [(signal_name(i, k), k if k != "v" or self.errors == "prospective" else "e", i - 1) for k in kinds]
            if layer.plastic:
                rows.append((signal_name(i, "W"), "W", i - 1))
            if layer.learns_bias:
                rows.append((signal_name(i, "b"), "b", i - 1))
        for k, (t, y) in enumerate(zip(times, states)):
            ev = self.evaluate(t, y)
            out["x"][k] = ev.x
            if "target" in out:
                out["target"][k] = ev.target
            for name, field, l in rows:
                value = getattr(ev, field)[l]
                if k == 0:
                    out[name] = np.empty((T, *value.shape))
                out[name][k] = value
        return out
