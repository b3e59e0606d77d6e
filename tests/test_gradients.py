"""The exact adjoint gradient against finite differences, and the local estimate against it."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from analogvle.cli import main
from analogvle.integrate.adjoint import compute_gradients, forward_loss, with_ratio
from analogvle.model.toml import spec_from_dict


def net(tau_r=(0.3, 0.5), duration=8.0, gamma=0.0):
    raw = {
        "name": "grad",
        "time": {"dt": 0.01, "duration": duration},
        "input": {"kind": "sines", "omegas": [0.8, 1.9], "amplitudes": [1.0, 0.5]},
        "network": {"inputs": 1, "errors": "prospective", "beta": 1.0, "layer": [
            {"size": 2, "tau_m": [1.0, 1.5], "tau_r": [tau_r[0], tau_r[0] * 1.5], "phi": "tanh", "gamma": gamma,
             "weights": [[0.7], [-0.4]], "bias": [0.1, -0.2]},
            {"size": 1, "tau_m": 1.0, "tau_r": tau_r[1], "phi": "linear", "weights": [[0.6, 0.9]]},
        ]},
        "teacher": {"layer": [
            {"size": 2, "tau_m": 1.0, "tau_r": 0.2, "phi": "tanh", "weights": [[-0.5], [1.0]]},
            {"size": 1, "tau_m": 1.0, "phi": "linear", "weights": [[1.0, 0.5]]},
        ]},
    }
    return spec_from_dict(raw)


def test_exact_gradient_matches_central_finite_differences():
    spec = net()
    grads = compute_gradients(spec, rtol=1e-11)
    h = 1e-4
    for li, layer in enumerate(spec.network.layers):
        exact = grads.layers[f"layer{li + 1}"].exact
        fd = np.zeros_like(exact)
        for idx in np.ndindex(*layer.weights.shape):
            losses = []
            for sign in (+1, -1):
                w = layer.weights.copy()
                w[idx] += sign * h
                layers = list(spec.network.layers)
                layers[li] = replace(layer, weights=w)
                losses.append(forward_loss(replace(spec, network=replace(spec.network, layers=tuple(layers))),
                                           rtol=1e-11))
            fd[idx] = -(losses[0] - losses[1]) / (2 * h)  # descent direction
        rel = np.max(np.abs(exact - fd)) / np.max(np.abs(fd))
        assert rel < 1e-5, (li, exact, fd, rel)
    assert grads.loss == pytest.approx(forward_loss(spec, rtol=1e-11), rel=1e-8)


def test_latent_equilibrium_makes_local_equal_exact():
    """τr = τm: the neuron is instantaneous, e = r′ε and λ = δ, so all three estimates coincide."""
    grads = compute_gradients(with_ratio(net(), 1.0))
    for lg in grads.layers.values():
        np.testing.assert_allclose(lg.local, lg.exact, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(lg.instantaneous, lg.exact, rtol=1e-6, atol=1e-9)


def test_local_estimate_points_downhill_but_is_not_exact():
    grads = compute_gradients(net(tau_r=(0.1, 0.1)))
    for name, lg in grads.layers.items():
        d = lg.as_dict()
        assert 0.0 < d["cosine"] < 1.0 - 1e-6, (name, d["cosine"])


def test_gamma_is_zeroed_and_said(tmp_path):
    spec_path = tmp_path / "g.toml"
    spec_path.write_text(
        'name = "g"\n[time]\ndt = 0.01\nduration = 2.0\n[input]\nkind = "sines"\nomegas = [1.0]\n'
        '[network]\ninputs = 1\n[[network.layer]]\nsize = 1\ntau_m = 1.0\ntau_r = 0.5\ngamma = 0.5\n'
        'weights = [[1.0]]\n[teacher]\n[[teacher.layer]]\nsize = 1\ntau_m = 1.0\nweights = [[2.0]]\n'
    )
    out = tmp_path / "g.json"
    assert main(["gradients", str(spec_path), "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data) >= {"loss", "duration", "layers", "note"}
    assert "gamma" in data["note"]
    layer = data["layers"]["layer1"]
    assert set(layer) >= {"exact", "local", "instantaneous", "cosine", "norm_ratio"}
    assert np.array(layer["exact"]).shape == (1, 1)
    assert layer["exact"][0][0] > 0  # the teacher's weight is larger: the descent direction is up
