"""The terms of EQUATIONS.md, written once: every integrator, the adjoint and the circuit cells use these.

Leaky integration (the membrane with τm, the error neuron with τr, the
adjoint's w with τm): τ ẋ = −x + drive, i.e. ẋ = :func:`leaky_rate`.

Prospective look-ahead D⁺_τ: x + τ ẋ (:func:`look_ahead`; the gle-euler form).
Without a differentiator the same quantity is a mix of state and drive,
:func:`lead_lag`: with k = τ_num/τ_den,

    (1 + sτ_num)/(1 + sτ_den) applied to a drive = (1 − k)·state + k·drive,

where state = drive/(1 + sτ_den). The representation neuron's ŭ is
``lead_lag(τr, τm)`` of (u, s), the error neuron's e is ``lead_lag(τm, τr)``
of (v, r′ε), the adjoint's λ is ``lead_lag(τr, τm)`` of (w, δ), and a
circuit's filter cell realizes ``lead_lag(τ_num, τ_den)`` with two gains.
``tests/test_terms.py`` holds :func:`look_ahead` and :func:`lead_lag` together.

Top-layer nudging ε_L = β (target − r_L): :func:`nudge`; its loss
½ β ‖target − r_L‖²: :func:`output_loss`. Signal names of trajectories:
:func:`signal_name`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: per-layer signals of a trajectory file, in model order
LAYER_SIGNALS = ("u", "uhat", "r", "v", "e", "W", "b")


@njit(cache=True, inline="always")
def leaky_rate(drive, x, tau):
    """ẋ of τ ẋ = −x + drive (units of x per model time unit)."""
    return (drive - x) / tau


@njit(cache=True, inline="always")
def look_ahead(x, rate, tau):
    """D⁺_τ: x + τ ẋ, the prospective value of x."""
    return x + tau * rate


@njit(cache=True, inline="always")
def nudge(beta, target, r):
    """ε_L = β (target − r_L), the error the loss injects at the top."""
    return beta * (target - r)


def lead_lag(tau_num, tau_den):
    """(1 − k, k) with k = τ_num/τ_den: out = (1 − k)·state + k·drive is (1 + sτ_num)/(1 + sτ_den) of the drive.

    Works on numbers and arrays (per neuron).
    """
    k = np.divide(tau_num, tau_den)
    return 1.0 - k, k


def output_loss(target: np.ndarray, r: np.ndarray, beta: float) -> np.ndarray:
    """½ β ‖target − r_L‖² over the last axis (model units)."""
    diff = np.asarray(target, dtype=float) - np.asarray(r, dtype=float)
    return 0.5 * beta * np.sum(diff**2, axis=-1)


def signal_name(layer: int, kind: str) -> str:
    """``layer{l}/{kind}`` with layers counted from 1."""
    return f"layer{layer}/{kind}"
