"""The compiled φ/φ′ (numba, shared by the kernels) against the NumPy table."""

from __future__ import annotations

import numpy as np
import pytest

from analogvle.activations import ACTIVATIONS, compiled_activation

GRID = np.concatenate([np.linspace(-40.0, 40.0, 4001), [-3.0, -1.0, -1e-9, 0.0, 1e-9, 1.0, 3.0, 700.0, -700.0]])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_compiled_activation_equals_table(name):
    act = ACTIVATIONS[name]
    phi, dphi = compiled_activation(name, GRID)
    np.testing.assert_allclose(phi, act.phi(GRID), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dphi, act.dphi(GRID), rtol=1e-14, atol=1e-15)


def test_codes_are_distinct():
    codes = [a.code for a in ACTIVATIONS.values()]
    assert sorted(codes) == list(range(len(codes)))
