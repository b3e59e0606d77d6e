"""gle-euler against the public GLE code's own trajectories (tests/data/gle_code_parity2.*)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analogvle.integrate.gle_euler import integrate_gle_euler
from analogvle.model.toml import load_spec

DATA = Path(__file__).resolve().parent / "data"
TOLERANCE = 1e-12  # the public code ran in float64: only round-off may differ


@pytest.fixture(scope="module")
def both():
    public = np.load(DATA / "gle_code_parity2.npz")
    ours = integrate_gle_euler(load_spec(DATA / "gle_code_parity2.toml"))
    return public, ours


def test_the_configuration_is_the_one_recorded(both):
    public, ours = both
    assert len(public["t"]) == 5000 and len(ours.t) == 5001
    np.testing.assert_allclose(public["t"], ours.t[1:], rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["x", "target"])
def test_inputs_and_targets_are_the_ones_each_step_consumed(both, name):
    public, ours = both
    assert np.max(np.abs(ours[name][:5000] - public[name])) <= TOLERANCE


@pytest.mark.parametrize("layer", [1, 2, 3])
@pytest.mark.parametrize("kind", ["u", "v", "r", "W", "b"])
def test_states_weights_and_biases_equal_the_public_code_over_5000_steps(both, layer, kind):
    public, ours = both
    name = f"layer{layer}/{kind}"
    # our point k + 1 (t = (k + 1) dt) holds the state committed by step k, like the public code's row k
    mine = ours[name][1:5001].reshape(5000, -1)
    error = np.max(np.abs(mine - public[name]))
    assert error <= TOLERANCE, (name, error)
    assert np.ptp(public[name]) > 1e-3  # a signal that moves, not a trivially equal zero
