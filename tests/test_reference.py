"""The NumPy reference integrator against analytic answers and against itself."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from analogvle.cli import main
from analogvle.compare.learning import output_loss
from analogvle.integrate.solve import integrate
from analogvle.integrate.solvers import integrate_adaptive
from analogvle.integrate.vector_field import ContinuousModel
from analogvle.model.toml import load_spec, spec_from_dict
from analogvle.model.trajectory import load_trajectory

SIMS = Path(__file__).resolve().parent.parent / "sims"


def chain(taus_m, taus_r, weights, teacher_weights=None, *, omega=1.3, duration=60.0, dt=0.01, save_dt=0.01,
          errors="none", phi="linear", beta=1.0):
    """A chain of single neurons x → n1 → n2 ... driven by sin(omega t)."""
    layers = [
        {"size": 1, "tau_m": tm, "tau_r": tr, "phi": phi, "weights": [[w]]}
        for tm, tr, w in zip(taus_m, taus_r, weights)
    ]
    raw = {
        "name": "chain",
        "time": {"dt": dt, "duration": duration, "save_dt": save_dt},
        "input": {"kind": "sines", "omegas": [omega]},
        "network": {"inputs": 1, "errors": errors, "beta": beta, "layer": layers},
    }
    if teacher_weights is not None:
        raw["teacher"] = {"layer": [dict(layer, weights=[[w]]) for layer, w in zip(layers, teacher_weights)]}
    return spec_from_dict(raw)


def phasor(t, y, omega):
    """Complex amplitude H with y = Re(H) sin(wt) + Im(H) cos(wt) (least squares)."""
    basis = np.stack([np.sin(omega * t), np.cos(omega * t)], axis=1)
    (a, b), *_ = np.linalg.lstsq(basis, y, rcond=None)
    return complex(a, b)


def steady(traj, name, periods_from_end=5.0, omega=1.3):
    keep = traj.t >= traj.t[-1] - periods_from_end * 2 * np.pi / omega
    return traj.t[keep], traj[name][keep, 0]


def test_linear_neuron_reaches_analytic_steady_state():
    tau_m, tau_r, w, omega = 1.0, 0.3, 0.8, 1.3
    traj = integrate(chain([tau_m], [tau_r], [w], omega=omega), "adaptive")
    measured = phasor(*steady(traj, "layer1/r"), omega)
    expected = w * (1 + 1j * omega * tau_r) / (1 + 1j * omega * tau_m)
    assert abs(abs(measured) - abs(expected)) < 1e-6
    assert abs(np.angle(measured) - np.angle(expected)) < 1e-6
    # the membrane itself is the plain low-pass
    u = phasor(*steady(traj, "layer1/u"), omega)
    assert abs(u - w / (1 + 1j * omega * tau_m)) < 1e-6


def test_equal_time_constants_give_instant_response():
    raw = {
        "name": "le",
        "time": {"dt": 0.01, "duration": 5.0, "save_dt": 0.05},
        "input": {"kind": "sines", "omegas": [0.7, 2.3], "amplitudes": [1.0, 0.5]},
        "network": {"inputs": 1, "errors": "none", "layer": [
            {"size": 3, "tau_m": [0.5, 1.0, 2.0], "phi": "tanh", "weights": [[1.0], [-0.7], [0.4]],
             "bias": [0.1, 0.0, -0.2]},
            {"size": 2, "tau_m": 3.0, "phi": "sigmoid", "weights": [[0.3, -0.2, 1.0], [1.1, 0.4, 0.0]]},
        ]},
    }
    spec = spec_from_dict(raw)
    traj = integrate(spec, "adaptive")
    r_prev = traj["x"]
    for i, layer in enumerate(spec.network.layers, 1):
        expected = r_prev @ layer.weights.T + layer.bias
        np.testing.assert_allclose(traj[f"layer{i}/uhat"], expected, atol=1e-12, rtol=0)
        r_prev = traj[f"layer{i}/r"]
    # and the membrane itself lags behind
    assert np.max(np.abs(traj["layer1/u"] - traj["layer1/uhat"])) > 0.1


def small_learning_net(dt=0.1, duration=6.0, gamma=0.1):
    raw = {
        "name": "small",
        "time": {"dt": dt, "duration": duration, "save_dt": 0.2},
        "input": {"kind": "sines", "omegas": [0.9, 1.7], "amplitudes": [1.0, 0.6]},
        "network": {"inputs": 1, "errors": "prospective", "beta": 1.0, "layer": [
            {"size": 3, "tau_m": [1.0, 1.5, 2.0], "tau_r": [0.5, 1.5, 1.0], "phi": "tanh", "gamma": gamma,
             "weights": [[0.8], [-0.5], [0.3]], "plastic": True, "eta": 0.5},
            {"size": 1, "tau_m": 1.0, "tau_r": 0.6, "phi": "linear", "gamma": gamma,
             "weights": [[0.5, 0.2, -0.4]], "plastic": True, "eta": 0.5},
        ]},
        "teacher": {"layer": [
            {"size": 3, "tau_m": 1.0, "phi": "tanh", "weights": [[-0.5], [1.0], [0.2]]},
            {"size": 1, "tau_m": 1.0, "phi": "linear", "weights": [[1.0, 0.5, 0.5]]},
        ]},
    }
    return spec_from_dict(raw)


def max_error(a, b, names):
    return max(float(np.max(np.abs(a[n] - b[n]))) for n in names)


SIGNALS = ["layer1/r", "layer2/r", "layer1/e", "layer2/e", "layer1/W", "layer2/W"]


@pytest.fixture(scope="module")
def small_truth():
    return integrate_adaptive(small_learning_net(), rtol=1e-13)


def test_rk4_converges_at_fourth_order(small_truth):
    dts = (0.1, 0.05, 0.025)
    errors = [max_error(integrate(small_learning_net(dt=dt), "rk4"), small_truth, SIGNALS) for dt in dts]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] > 1e-9, "errors must stay well above the adaptive reference's own (~1e-12)"
    assert np.all(orders > 3.9) and abs(orders[-1] - 4) < 0.2, (errors, orders)


def test_three_methods_agree_to_the_accuracy_of_their_orders(small_truth):
    euler = [max_error(integrate(small_learning_net(dt=dt), "gle-euler"), small_truth, SIGNALS) for dt in (0.02, 0.01)]
    rk4 = max_error(integrate(small_learning_net(dt=0.1), "rk4"), small_truth, SIGNALS)
    # gle-euler is first order (explicit Euler with one-step delays between layers)
    assert 1.7 < euler[0] / euler[1] < 2.3, euler
    assert euler[1] < 0.05
    assert rk4 < euler[1] / 100


def test_gamma_loop_is_solved_not_delayed():
    spec = small_learning_net(gamma=0.5)
    model = ContinuousModel(spec)
    y = model.initial_state() + 0.3  # an arbitrary state with nonzero potentials and errors
    ev = model.evaluate(1.234, y)
    # the solved e must satisfy every instantaneous relation at once
    again = model.forward(ev.x, ev.u, ev.W, ev.b, [0.5 * e for e in ev.e])
    _eps, e = model.backward(again[2], again[3], ev.v, ev.W, ev.target)
    for a, b in zip(e, ev.e):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)


@pytest.mark.parametrize("n_layers", [1, 2])
def test_error_neuron_has_inverse_amplitude_and_adjoint_phase(n_layers):
    omega = 1.3
    taus_m, taus_r = [1.0, 2.0][:n_layers], [0.25, 0.5][:n_layers]
    spec = chain(taus_m, taus_r, [0.8, 1.2][:n_layers], [1.5, 0.7][:n_layers], omega=omega, errors="prospective")
    traj = integrate(spec, "adaptive")
    for i in range(n_layers):
        layer = f"layer{i + 1}"
        t, e = steady(traj, f"{layer}/e")
        if i == n_layers - 1:  # top: r′ε = β (target − r) for a linear neuron
            drive = spec.network.beta * (traj["target"][:, 0] - traj[f"{layer}/r"][:, 0])
        else:  # hidden: r′ε = W_{l+1}ᵀ e_{l+1}
            drive = spec.network.layers[i + 1].weights[0, 0] * traj[f"layer{i + 2}/e"][:, 0]
        h_e = phasor(t, e, omega) / phasor(t, drive[traj.t >= t[0]], omega)
        tm, tr = taus_m[i], taus_r[i]
        assert abs(h_e - (1 + 1j * omega * tm) / (1 + 1j * omega * tr)) < 1e-6
        h_adjoint = (1 - 1j * omega * tr) / (1 - 1j * omega * tm)
        h_forward = (1 + 1j * omega * tr) / (1 + 1j * omega * tm)
        assert abs(abs(h_e) - 1 / abs(h_adjoint)) < 1e-6
        assert abs(abs(h_adjoint) - abs(h_forward)) < 1e-12
        assert abs(np.angle(h_e) - np.angle(h_adjoint)) < 1e-6


def test_learning_gate_keeps_weights_fixed_before_learn_after():
    spec = small_learning_net()
    traj = integrate(replace(spec, time=replace(spec.time, learn_after=2.0)), "rk4")
    before = traj.t <= 2.0
    assert np.all(traj["layer1/W"][before] == traj["layer1/W"][0])
    assert np.max(np.abs(traj["layer1/W"][-1] - traj["layer1/W"][0])) > 1e-3


def test_cli_writes_trajectory_with_interface_names(tmp_path):
    out = tmp_path / "ref.npz"
    spec_path = tmp_path / "s.toml"
    spec_path.write_text((SIMS / "lagnet.toml").read_text().replace("duration = 1000.0", "duration = 2.0"))
    assert main(["reference", str(spec_path), "-o", str(out), "--method", "rk4"]) == 0
    traj = load_trajectory(out)
    for name in ["x", "target", "layer1/u", "layer1/uhat", "layer1/r", "layer1/v", "layer1/e", "layer1/W",
                 "layer3/r"]:
        assert name in traj, name
    assert traj["layer1/W"].shape == (21, 2, 1)
    assert traj.meta["producer"]["method"] == "rk4"
    assert traj.meta["spec"]["name"] == "lagnet"


@pytest.mark.slow
def test_lagnet_learns_toward_the_teacher():
    spec = load_spec(SIMS / "lagnet.toml")
    traj = integrate(spec, "rk4")
    loss = output_loss(traj)  # β from the trajectory's own spec
    first = loss[traj.t < 100].mean()
    last = loss[traj.t > traj.t[-1] - 100].mean()
    assert first / last >= 10, (first, last)
    teacher = spec.teacher.layers[0].weights
    start, end = traj["layer1/W"][0], traj["layer1/W"][-1]
    assert np.linalg.norm(end - teacher) < 0.25 * np.linalg.norm(start - teacher)
