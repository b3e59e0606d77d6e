"""The gle-euler kernel against a plain NumPy transcription of EQUATIONS.md, its φ/φ′, and exact cases."""

from __future__ import annotations

import numpy as np
import pytest

from analogvle.integrate.gle_euler import integrate_gle_euler
from analogvle.model.activations import ACTIVATIONS
from analogvle.model.inputs import input_values
from analogvle.model.spec import Spec
from analogvle.model.toml import spec_from_dict
from analogvle.model.trajectory import signal_name

DT = 1.0 / 32  # exact in binary, so t_k = k·dt and learn_after compare without round-off


# ----------------------------------------------------------------------------
# The transcription: slow, obvious, one bullet of "The discrete gle-euler semantics" per line
# ----------------------------------------------------------------------------


def _zero_net(layers):
    return {
        "W": [layer.weights.copy() for layer in layers],
        "b": [layer.bias.copy() for layer in layers],
        "u": [np.zeros(layer.size) for layer in layers],
        "v": [np.zeros(layer.size) for layer in layers],
        "e": [np.zeros(layer.size) for layer in layers],
        "r": [np.zeros(layer.size) for layer in layers],
        "rp": [np.zeros(layer.size) for layer in layers],
        "uhat": [np.zeros(layer.size) for layer in layers],
        "sent": [np.zeros(layer.fan_in) for layer in layers],
    }


def _step(layers, old, x, target, errors, beta, dt, learn):
    """One step: every layer reads ``old`` only; returns the new committed state."""
    new = {key: [None] * len(layers) for key in old}
    top = len(layers) - 1
    for l, layer in enumerate(layers):
        act = ACTIVATIONS[layer.phi]
        W, b = old["W"][l], old["b"][l]
        pre = x if l == 0 else old["r"][l - 1]
        s = W @ pre + b
        if errors == "none":
            e = np.zeros(layer.size)
            v_new = old["v"][l]
        else:
            eps = beta * (target - old["r"][top]) if l == top else old["sent"][l + 1]
            inst = old["rp"][l] * eps
            if errors == "prospective":
                v_dot = (inst - old["v"][l]) / layer.tau_r
                v_new = old["v"][l] + dt * v_dot
                e = old["v"][l] + layer.tau_m * v_dot
            else:
                e = v_new = inst
        u_dot = (s + layer.gamma * e - old["u"][l]) / layer.tau_m
        new["u"][l] = old["u"][l] + dt * u_dot
        new["uhat"][l] = old["u"][l] + layer.tau_r * u_dot
        new["v"][l], new["e"][l] = v_new, e
        new["sent"][l] = W.T @ e
        new["r"][l] = act.phi(new["uhat"][l])
        new["rp"][l] = act.dphi(new["uhat"][l])
        if layer.plastic and learn:
            new["W"][l] = W + (layer.eta * dt) * np.outer(e, pre)
            new["b"][l] = b + (layer.eta * dt) * e
        else:
            new["W"][l], new["b"][l] = W, b
    return new


def numpy_gle_euler(spec: Spec) -> dict[str, np.ndarray]:
    net, dt = spec.network, spec.time.dt
    n_steps, every = spec.time.n_steps, spec.time.save_every
    student = _zero_net(net.layers)
    teacher = _zero_net(spec.teacher.layers) if spec.teacher else None
    out: dict[str, list] = {}

    def keep(name, value):
        out.setdefault(name, []).append(np.array(value, dtype=float, copy=True))

    for k in range(n_steps + 1):
        t_k = k * dt
        x = input_values(spec.input, t_k, dt)
        target = None
        if teacher is not None:
            target = teacher["r"][-1]  # the teacher's output at step k: its previous r_L
        elif spec.target is not None:
            target = spec.target.data[k]
        if k % every == 0:
            keep("x", x)
            if target is not None:
                keep("target", target)
            for l, layer in enumerate(net.layers, 1):
                for kind, key in (("u", "u"), ("uhat", "uhat"), ("r", "r")):
                    keep(signal_name(l, kind), student[key][l - 1])
                if net.errors != "none":
                    keep(signal_name(l, "v"), student["v"][l - 1])
                    keep(signal_name(l, "e"), student["e"][l - 1])
                if layer.plastic:
                    keep(signal_name(l, "W"), student["W"][l - 1])
                    keep(signal_name(l, "b"), student["b"][l - 1])
        if k == n_steps:
            break
        learn = t_k >= spec.time.learn_after
        new_student = _step(net.layers, student, x, target, net.errors, net.beta, dt, learn)
        if teacher is not None:
            teacher = _step(spec.teacher.layers, teacher, x, None, "none", 0.0, dt, False)
        student = new_student
    return {name: np.array(values) for name, values in out.items()}


# ----------------------------------------------------------------------------
# Specs
# ----------------------------------------------------------------------------


def _random_layer(rng, size, fan_in, phi, *, gamma=0.0, plastic=False, eta=0.0):
    layer = {
        "size": size,
        "tau_m": rng.uniform(DT, 2.0, size).tolist(),
        "tau_r": rng.uniform(DT, 2.0, size).tolist(),
        "phi": phi,
        "gamma": gamma,
        "weights": rng.normal(0.0, 1.5, (size, fan_in)).tolist(),
        "bias": rng.normal(0.0, 0.3, size).tolist(),
    }
    if plastic:
        layer.update(plastic=True, eta=eta)
    return layer


def _network_raw(errors: str, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "name": "euler-exactness",
        "time": {"dt": DT, "duration": 4.0, "save_dt": 2 * DT, "learn_after": 0.5},
        "input": {
            "kind": "sines",
            "omegas": [[1.3, 4.1], [2.7]],
            "amplitudes": [[1.0, 0.5], [1.2]],
            "phases": [[0.3, 1.1], [2.0]],
        },
        "network": {
            "inputs": 2,
            "errors": errors,
            "beta": 1.7,
            "layer": [
                _random_layer(rng, 3, 2, "tanh", gamma=0.4, plastic=True, eta=0.8),
                _random_layer(rng, 4, 3, "softplus", gamma=-0.3),
                _random_layer(rng, 2, 4, "sigmoid", gamma=0.2, plastic=True, eta=0.5),
            ],
        },
        "teacher": {
            "layer": [
                {
                    "size": 2,
                    "tau_m": [0.7, 1.3],
                    "tau_r": [0.2, 1.0],
                    "phi": "tanh",
                    "weights": rng.normal(0.0, 1.5, (2, 2)).tolist(),
                },
                {
                    "size": 2,
                    "tau_m": 0.5,
                    "phi": "linear",
                    "weights": rng.normal(0.0, 1.5, (2, 2)).tolist(),
                    "bias": [0.3, -0.2],
                },
            ]
        },
    }


# ----------------------------------------------------------------------------
# (a) exactness
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "errors, target_source",
    [("prospective", "teacher"), ("instantaneous", "teacher"), ("prospective", "file"), ("none", "teacher")],
)
def test_kernel_matches_numpy_transcription(tmp_path, errors, target_source):
    raw = _network_raw(errors)
    if errors == "none":
        for layer in raw["network"]["layer"]:
            layer.pop("plastic", None)
            layer.pop("eta", None)
    if target_source == "file":
        del raw["teacher"]
        n_steps = int(raw["time"]["duration"] / DT)
        y = np.random.default_rng(7).normal(0.0, 0.5, (n_steps + 1, 2)).cumsum(axis=0) * 0.1
        np.save(tmp_path / "y.npy", y)
        raw["target"] = {"kind": "file", "path": "y.npy"}
    spec = spec_from_dict(raw, base_dir=tmp_path)

    got = integrate_gle_euler(spec)
    want = numpy_gle_euler(spec)

    assert sorted(got.signals) == sorted(want)
    np.testing.assert_array_equal(got.t, np.arange(len(want["x"])) * 2 * DT)
    for name, value in want.items():
        assert got[name].shape == value.shape, name
        # 1e-12 of the signal's scale: prospective errors reach O(10) when τm/τr is large
        scale = max(1.0, float(np.abs(value).max()))
        np.testing.assert_allclose(got[name], value, rtol=0, atol=1e-12 * scale, err_msg=name)
    # the comparison is not vacuous: errors flow, weights move, only after learn_after
    if errors != "none":
        assert np.abs(want["layer1/e"]).max() > 1e-2
        learn_save = round(0.5 / DT) // 2  # save index of t = learn_after
        W = want["layer1/W"]
        np.testing.assert_array_equal(W[: learn_save + 1], np.broadcast_to(W[0], W[: learn_save + 1].shape))
        assert np.abs(W[learn_save + 1] - W[0]).max() > 1e-6
    assert got.meta["producer"] == {"kind": "reference", "method": "gle-euler"}


def test_student_identical_to_teacher_sees_no_error():
    """The target at step k is the teacher's output at step k: aligned, an identical student has e ≡ 0."""
    raw = _network_raw("prospective", seed=3)
    raw["network"]["layer"] = [dict(layer, gamma=0.5) for layer in raw["teacher"]["layer"]]
    raw["network"]["layer"][0].update(plastic=True, eta=1.0)
    traj = integrate_gle_euler(spec_from_dict(raw))
    assert np.abs(traj["target"]).max() > 0.1
    # round-off only (the kernel's loop variants may sum in different orders); a step of misalignment is O(0.1)
    np.testing.assert_allclose(traj["layer2/r"], traj["target"], rtol=0, atol=1e-12)
    for l in (1, 2):
        np.testing.assert_allclose(traj[f"layer{l}/e"], 0.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        traj["layer1/W"], np.broadcast_to(traj["layer1/W"][0], traj["layer1/W"].shape), atol=1e-12
    )


# ----------------------------------------------------------------------------
# (c) exact cases
# ----------------------------------------------------------------------------


def _linear_spec(tmp_path, x, W, b, tau, *, layers=1, duration=2.0, dt=0.01):
    np.save(tmp_path / "x.npy", np.tile(x, (round(duration / dt) + 1, 1)))
    layer = {"size": len(W), "tau_m": tau, "phi": "linear", "weights": W, "bias": b}
    chain = [layer] + [
        {"size": len(W), "tau_m": tau, "phi": "linear", "weights": np.eye(len(W)).tolist()} for _ in range(layers - 1)
    ]
    raw = {
        "name": "relax",
        "time": {"dt": dt, "duration": duration},
        "input": {"kind": "file", "path": "x.npy"},
        "network": {"inputs": len(x), "errors": "none", "layer": chain},
    }
    return spec_from_dict(raw, base_dir=tmp_path)


def test_linear_layer_relaxes_with_the_euler_rate(tmp_path):
    x, W, b = [0.8, -1.3], [[1.0, 0.5], [-2.0, 0.25], [0.3, 0.7]], [0.1, 0.0, -0.2]
    tau = [0.5, 1.0, 2.0]  # tau_r = tau_m per neuron
    spec = _linear_spec(tmp_path, x, W, b, tau)
    traj = integrate_gle_euler(spec)
    s = np.array(W) @ np.array(x) + np.array(b)
    k = np.arange(spec.time.n_steps + 1)[:, None]
    q = 1.0 - spec.time.dt / np.array(tau)
    np.testing.assert_allclose(traj["layer1/u"], s * (1.0 - q**k), rtol=0, atol=1e-12)
    # τr = τm: ŭ (and the linear r) equal W x + b from the first step on (latent equilibrium)
    np.testing.assert_allclose(traj["layer1/uhat"][1:], np.broadcast_to(s, traj["layer1/uhat"][1:].shape), atol=1e-12)
    np.testing.assert_array_equal(traj["layer1/r"][0], 0.0)
    assert "layer1/e" not in traj and "layer1/v" not in traj


def test_each_layer_waits_one_step_for_the_one_below(tmp_path):
    spec = _linear_spec(tmp_path, [1.0], [[1.0]], [0.0], 1.0, layers=3)
    traj = integrate_gle_euler(spec)
    for l in (1, 2, 3):
        r = traj[f"layer{l}/r"][:, 0]
        assert np.all(r[:l] == 0.0) and r[l] != 0.0, f"layer {l} first responds at step {np.flatnonzero(r)[0]}"
