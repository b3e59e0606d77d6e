"""Input signals: the smoothed square wave is the exact convolution, and every path agrees."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from analogvle.model.inputs import _square_scalar, input_function, input_values, square_wave
from analogvle.model.toml import spec_from_dict


def test_smoothed_square_equals_numerical_gaussian_convolution():
    dt, sigma, period = 1e-3, 0.05, 4.0
    t = np.arange(-4.0, 12.0, dt)
    raw = square_wave(t, period)
    smoothed = gaussian_filter1d(raw, sigma / dt, mode="nearest")
    inner = (t > 0.5) & (t < 7.5)
    # the discrete filter of a sampled step is accurate to the sampling, not better
    assert np.max(np.abs(square_wave(t, period, sigma)[inner] - smoothed[inner])) < 2e-2
    assert square_wave(np.array([0.0]), period, sigma)[0] == pytest.approx(0.0, abs=1e-12)
    assert square_wave(np.array([1.0]), period, sigma)[0] == pytest.approx(1.0, abs=1e-12)
    assert square_wave(np.array([3.0]), period, sigma)[0] == pytest.approx(-1.0, abs=1e-12)


@pytest.mark.parametrize("sigma", [0.0, 0.05, 0.7])
def test_scalar_square_agrees_with_the_array_form(sigma):
    t = np.linspace(-3.0, 9.0, 2001)
    expected = square_wave(t, 4.0, sigma)
    got = np.array([_square_scalar(float(tt), 4.0, sigma) for tt in t])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14)


@pytest.mark.parametrize("inp", [
    {"kind": "sines", "omegas": [[0.5, 1.0], [2.0]], "amplitudes": [[1.0, 0.5], [2.0]], "phases": 0.3},
    {"kind": "square", "period": 2.0, "smooth_sigma": 0.1, "amplitudes": 0.5},
])
def test_callable_and_vector_forms_agree(inp):
    spec = spec_from_dict({
        "name": "in", "time": {"dt": 0.01, "duration": 5.0}, "input": inp,
        "network": {"inputs": 2, "errors": "none", "layer": [{"size": 1, "tau_m": 1.0, "weights": [[1.0, 1.0]]}]},
    })
    t = np.linspace(0, 5, 77)
    x = input_values(spec.input, t, spec.time.dt)
    f = input_function(spec)
    np.testing.assert_allclose(np.array([f(tt) for tt in t]), x, rtol=0, atol=1e-14)
    if inp["kind"] == "sines":
        np.testing.assert_allclose(x[:, 1], 2.0 * np.sin(2.0 * t + 0.3), atol=1e-14)
