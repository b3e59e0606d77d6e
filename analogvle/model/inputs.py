"""The input signal x(t) driving layer 0, and a sampled target, as functions of time.

All times are model time units. Sampled signals (``kind = "file"``) are
interpolated linearly between samples at ``dt``, exactly as a SPICE PWL source
or the XSPICE ``filesource`` model does, so the reference and the circuit see
the same input.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from analogvle.model.spec import InputSpec, Spec


def input_values(inp: InputSpec, t: np.ndarray | float, dt: float) -> np.ndarray:
    """x at times ``t``: shape (len(t), channels) (or (channels,) for a scalar t)."""
    scalar = np.ndim(t) == 0
    t = np.atleast_1d(np.asarray(t, dtype=float))
    if inp.kind == "sines":
        x = np.empty((len(t), inp.channels))
        for c in range(inp.channels):
            w = np.asarray(inp.omegas[c])
            a = np.asarray(inp.amplitudes[c])
            p = np.asarray(inp.phases[c])
            x[:, c] = np.sin(np.outer(t, w) + p) @ a
    elif inp.kind == "square":
        x = np.repeat(square_wave(t, inp.period, inp.smooth_sigma, inp.amplitude)[:, None], inp.channels, axis=1)
    else:
        x = sampled_values(inp.data, t, dt)
    return x[0] if scalar else x


def square_wave(t: np.ndarray, period: float, sigma: float = 0.0, amplitude: float = 1.0) -> np.ndarray:
    """±amplitude square wave, +1 on [0, period/2), smoothed by a Gaussian of ``sigma``.

    The smoothed wave is the exact convolution of the periodic wave with the
    Gaussian: each edge's step is replaced by the normal CDF.
    """
    t = np.asarray(t, dtype=float)
    half = period / 2.0
    k = np.floor(t / half)
    level = np.where(k % 2 == 0, 1.0, -1.0)
    if sigma > 0:
        reach = math.ceil(8.0 * sigma / half) + 1
        nearest = np.round(t / half)
        for off in range(-reach, reach + 1):
            edge_k = nearest + off
            edge_t = edge_k * half
            jump = np.where(edge_k % 2 == 0, 2.0, -2.0)  # rising at even edges
            step = (t >= edge_t).astype(float)
            level = level + jump * (ndtr((t - edge_t) / sigma) - step)
    return amplitude * level


def sampled_values(data: np.ndarray, t: np.ndarray, dt: float) -> np.ndarray:
    """Linear interpolation of samples taken at 0, dt, 2 dt, ... (held past the end)."""
    grid = np.arange(len(data)) * dt
    return np.stack([np.interp(t, grid, data[:, c]) for c in range(data.shape[1])], axis=1)


def input_function(spec: Spec):
    """x(t) as a callable of a scalar time, returning (channels,)."""
    inp, dt = spec.input, spec.time.dt
    if inp.kind == "sines":
        omegas = [np.asarray(o) for o in inp.omegas]
        amps = [np.asarray(a) for a in inp.amplitudes]
        phases = [np.asarray(p) for p in inp.phases]

        def x_of_t(t: float) -> np.ndarray:
            return np.array([np.sin(w * t + p) @ a for w, a, p in zip(omegas, amps, phases)])

        return x_of_t
    if inp.kind == "square":
        period, sigma, amplitude, channels = inp.period, inp.smooth_sigma, inp.amplitude, inp.channels

        def square_of_t(t: float) -> np.ndarray:
            return np.full(channels, amplitude * _square_scalar(t, period, sigma))

        return square_of_t
    return lambda t: input_values(inp, t, dt)


def _square_scalar(t: float, period: float, sigma: float) -> float:
    """:func:`square_wave` (amplitude 1) at one time, with math instead of array calls (the adaptive hot path)."""
    half = period / 2.0
    level = 1.0 if math.floor(t / half) % 2 == 0 else -1.0
    if sigma > 0:
        reach = math.ceil(8.0 * sigma / half) + 1
        nearest = round(t / half)
        for off in range(-reach, reach + 1):
            edge_k = nearest + off
            edge_t = edge_k * half
            jump = 2.0 if edge_k % 2 == 0 else -2.0
            step = 1.0 if t >= edge_t else 0.0
            level += jump * (0.5 * math.erfc(-(t - edge_t) / (sigma * math.sqrt(2.0))) - step)
    return level


def target_function(spec: Spec):
    """The sampled target y(t) as a callable of scalar time, or None."""
    if spec.target is None:
        return None
    data, dt = spec.target.data, spec.time.dt
    return lambda t: sampled_values(data, np.atleast_1d(t), dt)[0]
