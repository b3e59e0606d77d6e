"""Activation functions φ and their derivatives φ′: one table for every backend.

Each entry gives the NumPy functions (used by the reference integrators) and
the ngspice behavioural-source expressions (used by the netlist generator),
written as templates over ``{x}``, and the integer ``code`` that selects the
branch of :func:`activate`, the one compiled (numba) form shared by the
kernels. ``tests/test_activations.py`` holds the forms together.

Step-shaped derivatives (relu, hard_tanh, hard_sigmoid) are realized in the
circuit as steep tanh steps of width ``STEP_WIDTH`` (model units), the finite
gain of a comparator: with an ideal step inside a learning loop an implicit
integrator can have no solution at the step, and ngspice stops with
"timestep too small". Away from |x| ≲ 10·STEP_WIDTH the forms agree to
round-off.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

STEP_WIDTH = 1e-6  # model units: transition width of the circuit's step derivatives


def spice_step(arg: str) -> str:
    """ngspice expression of a unit step of ``arg`` with transition width STEP_WIDTH."""
    return f"(0.5+0.5*tanh({1 / STEP_WIDTH:g}*({arg})))"


# Kernel codes (numba freezes these globals as constants in :func:`activate`).
TANH, SIGMOID, SOFTPLUS, RELU, LINEAR, HARD_TANH, HARD_SIGMOID = range(7)


@dataclass(frozen=True)
class Activation:
    name: str
    phi: Callable[[np.ndarray], np.ndarray]
    dphi: Callable[[np.ndarray], np.ndarray]
    spice_phi: str  # ngspice B-source expression of {x}
    spice_dphi: str
    code: int  # small integer for compiled kernels


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def _tanh_prime(x):
    return 1.0 - np.tanh(x) ** 2


def _sigmoid_prime(x):
    s = _sigmoid(x)
    return s * (1.0 - s)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("tanh", np.tanh, _tanh_prime, "tanh({x})", "(1-tanh({x})*tanh({x}))", TANH),
        Activation("sigmoid", _sigmoid, _sigmoid_prime, "(0.5+0.5*tanh(0.5*({x})))",
                   "(0.25*(1-tanh(0.5*({x}))*tanh(0.5*({x}))))", SIGMOID),
        Activation("softplus", lambda x: np.logaddexp(0.0, x), _sigmoid,
                   "(max({x},0)+ln(1+exp(-abs({x}))))", "(0.5+0.5*tanh(0.5*({x})))", SOFTPLUS),
        Activation("relu", lambda x: np.maximum(x, 0.0), lambda x: (np.asarray(x) > 0).astype(float),
                   "max({x},0)", spice_step("{x}"), RELU),
        Activation("linear", lambda x: np.asarray(x, dtype=float) * 1.0, lambda x: np.ones_like(x, dtype=float),
                   "({x})", "1", LINEAR),
        Activation("hard_tanh", lambda x: np.clip(x, -1.0, 1.0),
                   lambda x: (np.abs(np.asarray(x)) < 1.0).astype(float),
                   "min(max({x},-1),1)", f"({spice_step('{x}+1')}*{spice_step('1-({x})')})", HARD_TANH),
        # as in the public GLE code: clamp(x, 0, 1)
        Activation("hard_sigmoid", lambda x: np.clip(x, 0.0, 1.0),
                   lambda x: ((np.asarray(x) > 0.0) & (np.asarray(x) < 1.0)).astype(float),
                   "min(max({x},0),1)", f"({spice_step('{x}')}*{spice_step('1-({x})')})", HARD_SIGMOID),
    )
}


def get_activation(name: str) -> Activation:
    return ACTIVATIONS[name]


@njit(cache=True)
def activate(code: int, uh: np.ndarray, r: np.ndarray, rp: np.ndarray, n: int) -> None:
    """r[:n] = φ(ŭ[:n]) and rp[:n] = φ′(ŭ[:n]) for the activation with integer ``code``."""
    if code == TANH:
        for i in range(n):
            t = math.tanh(uh[i])
            r[i] = t
            rp[i] = 1.0 - t * t
    elif code == SIGMOID:
        for i in range(n):
            sg = 0.5 * (1.0 + math.tanh(0.5 * uh[i]))
            r[i] = sg
            rp[i] = sg * (1.0 - sg)
    elif code == SOFTPLUS:
        for i in range(n):
            x = uh[i]
            r[i] = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
            rp[i] = 0.5 * (1.0 + math.tanh(0.5 * x))
    elif code == RELU:
        for i in range(n):
            x = uh[i]
            r[i] = max(x, 0.0)
            rp[i] = 1.0 if x > 0.0 else 0.0
    elif code == LINEAR:
        for i in range(n):
            r[i] = uh[i]
            rp[i] = 1.0
    elif code == HARD_TANH:
        for i in range(n):
            x = uh[i]
            r[i] = min(max(x, -1.0), 1.0)
            rp[i] = 1.0 if abs(x) < 1.0 else 0.0
    elif code == HARD_SIGMOID:
        for i in range(n):
            x = uh[i]
            r[i] = min(max(x, 0.0), 1.0)
            rp[i] = 1.0 if 0.0 < x < 1.0 else 0.0
    else:
        raise ValueError("unknown activation code")


def compiled_activation(name: str, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """φ(u) and φ′(u) as the compiled :func:`activate` computes them (for tests against the table)."""
    u = np.ascontiguousarray(u, dtype=np.float64).ravel()
    r, rp = np.empty_like(u), np.empty_like(u)
    activate(ACTIVATIONS[name].code, u, r, rp, len(u))
    return r, rp
