"""Activation functions φ and their derivatives φ′: one table for every backend.

Each entry gives the NumPy functions (used by the reference integrators) and
the ngspice behavioural-source expressions (used by the netlist generator),
written as templates over ``{x}``. ``tests/test_activations.py`` holds the
forms together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


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
        Activation("tanh", np.tanh, _tanh_prime, "tanh({x})", "(1-tanh({x})*tanh({x}))", 0),
        Activation("sigmoid", _sigmoid, _sigmoid_prime, "(0.5+0.5*tanh(0.5*({x})))",
                   "(0.25*(1-tanh(0.5*({x}))*tanh(0.5*({x}))))", 1),
        Activation("softplus", lambda x: np.logaddexp(0.0, x), _sigmoid,
                   "(max({x},0)+ln(1+exp(-abs({x}))))", "(0.5+0.5*tanh(0.5*({x})))", 2),
        Activation("relu", lambda x: np.maximum(x, 0.0), lambda x: (np.asarray(x) > 0).astype(float),
                   "max({x},0)", "u({x})", 3),
        Activation("linear", lambda x: np.asarray(x, dtype=float) * 1.0, lambda x: np.ones_like(x, dtype=float),
                   "({x})", "1", 4),
        Activation("hard_tanh", lambda x: np.clip(x, -1.0, 1.0),
                   lambda x: (np.abs(np.asarray(x)) < 1.0).astype(float),
                   "min(max({x},-1),1)", "(u({x}+1)*u(1-({x})))", 5),
        # PyTorch's hardsigmoid: clip(x/6 + 1/2, 0, 1)
        Activation("hard_sigmoid", lambda x: np.clip(np.asarray(x) / 6.0 + 0.5, 0.0, 1.0),
                   lambda x: (np.abs(np.asarray(x)) < 3.0) / 6.0,
                   "min(max(({x})/6+0.5,0),1)", "(u({x}+3)*u(3-({x}))/6)", 6),
    )
}


def get_activation(name: str) -> Activation:
    return ACTIVATIONS[name]
