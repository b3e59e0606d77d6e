"""The equations' terms (analogvle/model/terms.py): the two forms of the prospective look-ahead agree."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from analogvle.model.terms import lead_lag, leaky_rate, look_ahead, nudge, output_loss

finite = st.floats(-10.0, 10.0)
tau = st.floats(0.01, 10.0)


@given(u=finite, s=finite, tau_m=tau, tau_r=tau)
def test_look_ahead_of_the_membrane_equals_the_lead_lag_mix(u, s, tau_m, tau_r):
    """ŭ = u + τr u̇ (gle-euler, D⁺) and ŭ = (1 − τr/τm) u + (τr/τm) s (continuous, circuit) are one term."""
    udot = leaky_rate(s, u, tau_m)
    k_u, k_s = lead_lag(tau_r, tau_m)
    mixed = k_u * u + k_s * s
    assert abs(look_ahead(u, udot, tau_r) - mixed) <= 1e-12 * (1 + abs(u) + abs(s)) * (1 + tau_r / tau_m)


@given(v=finite, p=finite, tau_m=tau, tau_r=tau)
def test_the_error_neurons_look_ahead_is_the_mix_with_the_time_constants_swapped(v, p, tau_m, tau_r):
    vdot = leaky_rate(p, v, tau_r)
    k_v, k_p = lead_lag(tau_m, tau_r)
    assert abs(look_ahead(v, vdot, tau_m) - (k_v * v + k_p * p)) <= 1e-12 * (1 + abs(v) + abs(p)) * (1 + tau_m / tau_r)


def test_lead_lag_is_the_filter_one_plus_s_tau_num_over_one_plus_s_tau_den():
    tau_num, tau_den = 0.3, 1.7
    omega = np.geomspace(1e-2, 1e2, 50)
    state = 1 / (1 + 1j * omega * tau_den)  # the state is the drive, low-passed with τ_den
    k_state, k_drive = lead_lag(tau_num, tau_den)
    np.testing.assert_allclose(k_state * state + k_drive, (1 + 1j * omega * tau_num) / (1 + 1j * omega * tau_den),
                               rtol=1e-14)


def test_nudge_and_loss():
    assert nudge(0.5, 2.0, 1.5) == 0.25
    np.testing.assert_array_equal(output_loss(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]), 0.5), [1.25])
