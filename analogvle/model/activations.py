"""Activation functions φ and their derivatives φ′: one object per function, every form in one place.

Each :class:`Activation` holds

- the NumPy forms ``phi`` and ``dphi`` (used by tests, plots and Python code),
- ``scalar``, a compiled (numba) function x → (φ(x), φ′(x)), used by every
  integrator kernel through :func:`activate`, whose dispatch over the table is
  generated from it (no hand-kept if-chain),
- ``expr_phi`` and ``expr_dphi``, the same functions as structured expressions
  of ``Var("x")`` (:mod:`analogvle.model.expr`), from which netlist writers
  make behavioural sources.

Step-shaped derivatives (relu, hard_tanh, hard_sigmoid) are, in the expression
form, steep tanh steps of width ``STEP_WIDTH`` model units (a comparator's
finite gain): with an ideal step inside a learning loop an implicit integrator
can have no solution at the step, and ngspice stops with "timestep too small".
Away from |x| ≲ 10·STEP_WIDTH of a kink the forms agree to round-off.
``tests/test_activations.py`` holds the forms together, and checks φ′ = dφ/dx
by finite differences.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from analogvle.model.expr import Expr, Num, Var, call

STEP_WIDTH = 1e-6  # model units: transition width of the circuit's step derivatives
X = Var("x")


@dataclass(frozen=True)
class Activation:
    name: str
    phi: Callable[[np.ndarray], np.ndarray]
    dphi: Callable[[np.ndarray], np.ndarray]
    scalar: Callable  # numba: x -> (phi, dphi)
    expr_phi: Expr  # of Var("x")
    expr_dphi: Expr
    code: int = -1  # position in ACTIVATIONS: the compiled dispatch's selector

    @property
    def is_linear(self) -> bool:
        return self.name == "linear"


def step(arg: Expr) -> Expr:
    """A unit step of ``arg`` with transition width STEP_WIDTH, as an expression."""
    return 0.5 + 0.5 * call("tanh", (1.0 / STEP_WIDTH) * arg)


# -- the compiled scalar forms (the arithmetic every kernel uses) --------------


@njit(cache=True, inline="always")
def _tanh(x):
    t = math.tanh(x)
    return t, 1.0 - t * t


@njit(cache=True, inline="always")
def _sigmoid(x):
    sg = 0.5 * (1.0 + math.tanh(0.5 * x))
    return sg, sg * (1.0 - sg)


@njit(cache=True, inline="always")
def _softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x))), 0.5 * (1.0 + math.tanh(0.5 * x))


@njit(cache=True, inline="always")
def _relu(x):
    return max(x, 0.0), 1.0 if x > 0.0 else 0.0


@njit(cache=True, inline="always")
def _linear(x):
    return x, 1.0


@njit(cache=True, inline="always")
def _hard_tanh(x):
    return min(max(x, -1.0), 1.0), 1.0 if abs(x) < 1.0 else 0.0


@njit(cache=True, inline="always")
def _hard_sigmoid(x):
    return min(max(x, 0.0), 1.0), 1.0 if 0.0 < x < 1.0 else 0.0


# -- NumPy forms ---------------------------------------------------------------


def _np_sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def _np_sigmoid_prime(x):
    s = _np_sigmoid(x)
    return s * (1.0 - s)


def _indicator(mask) -> np.ndarray:
    return np.asarray(mask).astype(float)


_TABLE = (
    Activation("tanh", np.tanh, lambda x: 1.0 - np.tanh(x) ** 2, _tanh,
               call("tanh", X), 1 - call("tanh", X) * call("tanh", X)),
    Activation("sigmoid", _np_sigmoid, _np_sigmoid_prime, _sigmoid,
               0.5 + 0.5 * call("tanh", 0.5 * X),
               0.25 * (1 - call("tanh", 0.5 * X) * call("tanh", 0.5 * X))),
    Activation("softplus", lambda x: np.logaddexp(0.0, x), _np_sigmoid, _softplus,
               call("max", X, 0) + call("ln", 1 + call("exp", -call("abs", X))),
               0.5 + 0.5 * call("tanh", 0.5 * X)),
    Activation("relu", lambda x: np.maximum(x, 0.0), lambda x: _indicator(np.asarray(x) > 0), _relu,
               call("max", X, 0), step(X)),
    Activation("linear", lambda x: np.asarray(x, dtype=float) * 1.0, lambda x: np.ones_like(x, dtype=float), _linear,
               X, Num(1.0)),
    Activation("hard_tanh", lambda x: np.clip(x, -1.0, 1.0), lambda x: _indicator(np.abs(np.asarray(x)) < 1.0),
               _hard_tanh, call("min", call("max", X, -1), 1), step(X + 1) * step(1 - X)),
    # as in the public GLE code: clamp(x, 0, 1)
    Activation("hard_sigmoid", lambda x: np.clip(x, 0.0, 1.0),
               lambda x: _indicator((np.asarray(x) > 0.0) & (np.asarray(x) < 1.0)),
               _hard_sigmoid, call("min", call("max", X, 0), 1), step(X) * step(1 - X)),
)

ACTIVATIONS: dict[str, Activation] = {
    a.name: Activation(a.name, a.phi, a.dphi, a.scalar, a.expr_phi, a.expr_dphi, code) for code, a in enumerate(_TABLE)
}


def get_activation(name: str) -> Activation:
    return ACTIVATIONS[name]


def _generate_dispatch() -> Callable:
    """``activate(code, uh, r, rp, n)``: r[:n], rp[:n] = φ(uh[:n]), φ′(uh[:n]) for the activation ``code``.

    Its if-chain is generated from the table (one branch per :class:`Activation`
    calling its ``scalar`` form) and compiled by numba; it is cached like
    handwritten code because the source is attributed to this file.
    """
    lines = ["def activate(code, uh, r, rp, n):"]
    for act in ACTIVATIONS.values():
        lines += [f"    {'if' if act.code == 0 else 'elif'} code == {act.code}:",
                  "        for i in range(n):",
                  f"            r[i], rp[i] = _SCALARS_{act.code}(uh[i])"]
    lines += ["    else:", "        raise ValueError('unknown activation code')"]
    globals().update({f"_SCALARS_{a.code}": a.scalar for a in ACTIVATIONS.values()})
    namespace: dict = {}
    exec(compile("\n".join(lines), __file__, "exec"), globals(), namespace)  # noqa: S102 - source built above
    function = namespace["activate"]
    return njit(cache=True)(function)


activate = _generate_dispatch()


def compiled_activation(name: str, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """φ(u) and φ′(u) as the compiled :func:`activate` computes them (for tests against the NumPy forms)."""
    u = np.ascontiguousarray(u, dtype=np.float64).ravel()
    r, rp = np.empty_like(u), np.empty_like(u)
    activate(ACTIVATIONS[name].code, u, r, rp, len(u))
    return r, rp
