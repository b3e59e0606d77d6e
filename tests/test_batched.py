"""The batched gle-euler kernel (analogvle/integrate/batched) against analogvle's gle-euler, its own NumPy
transcription, and the public GLE code's rules (Adam, ReduceLROnPlateau, state tiling, init)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analogvle.integrate.batched import elementwise as ew
from analogvle.integrate.batched import network as bn
from analogvle.integrate.batched import transcription as tr
from analogvle.integrate.batched.kernel import run_steps
from analogvle.integrate.gle_euler import integrate_gle_euler
from analogvle.model.toml import spec_from_dict

DT = 1.0 / 32  # exact in binary: t_k = k·dt without round-off, so sampled files give data[k] exactly


# ----------------------------------------------------------------------------
# batch 1 + plain SGD (lr = η·dt) == analogvle gle-euler
# ----------------------------------------------------------------------------


def _layer_dict(rng, size, fan_in, phi, gamma, eta):
    return {"size": size, "tau_m": rng.uniform(2 * DT, 2.0, size).tolist(),
            "tau_r": rng.uniform(DT, 2.0, size).tolist(), "phi": phi, "gamma": gamma,
            "weights": rng.normal(0.0, 1.0, (size, fan_in)).tolist(), "bias": rng.normal(0.0, 0.3, size).tolist(),
            "plastic": True, "eta": eta}


def _spec_and_net(tmp_path, errors, *, teacher=False, seed=3, n_steps=160):
    rng = np.random.default_rng(seed)
    eta = 0.7
    layers = [_layer_dict(rng, 4, 2, "tanh", 0.3, eta), _layer_dict(rng, 5, 4, "sigmoid", -0.2, eta),
              _layer_dict(rng, 3, 5, "linear", 0.0, eta)]
    layers[0]["tau_r"][0] = DT  # a lagging unit with τr = dt, as in the MNIST-1D network
    x = rng.normal(0.0, 1.0, (n_steps + 1, 2)).cumsum(axis=0) * 0.3
    np.save(tmp_path / "x.npy", x)
    raw = {"name": "batched-core", "time": {"dt": DT, "duration": n_steps * DT, "save_dt": DT},
           "input": {"kind": "file", "path": "x.npy"},
           "network": {"inputs": 2, "errors": errors, "beta": 1.3, "layer": layers}}
    if teacher:
        raw["teacher"] = {"layer": [
            {"size": 3, "tau_m": 0.7, "tau_r": 0.2, "phi": "tanh", "weights": rng.normal(0, 1.5, (3, 2)).tolist()},
            {"size": 3, "tau_m": 0.5, "phi": "linear", "weights": rng.normal(0, 1.0, (3, 3)).tolist(),
             "bias": [0.3, -0.2, 0.1]}]}
    else:
        target = rng.normal(0.0, 0.5, (n_steps + 1, 3)).cumsum(axis=0) * 0.1
        np.save(tmp_path / "y.npy", target)
        raw["target"] = {"kind": "file", "path": "y.npy"}
    spec = spec_from_dict(raw, base_dir=tmp_path)
    net = bn.Net([bn.Layer(np.array(d["weights"]), np.array(d["bias"]), np.array(d["tau_m"]), np.array(d["tau_r"]),
                           d["phi"], d["gamma"]) for d in layers], dt=DT, errors=errors, beta=1.3)
    return spec, net, x, eta


@pytest.mark.parametrize("matmul", ["blas", "loops"])
@pytest.mark.parametrize("errors, teacher", [("prospective", False), ("instantaneous", False), ("prospective", True)])
def test_batch1_sgd_equals_analogvle_gle_euler(tmp_path, errors, teacher, matmul):
    spec, net, x, eta = _spec_and_net(tmp_path, errors, teacher=teacher)
    traj = integrate_gle_euler(spec)
    n_steps = spec.time.n_steps
    target = traj["target"]  # the target step k consumed (file data[k], or the teacher's output at step k)

    packed = bn.pack(net)
    state, ws = bn.zero_state(packed, 1), bn.make_workspace(packed, 1)
    opt = bn.make_optimizer("sgd", len(packed.theta), eta * DT)
    got = {f"layer{l + 1}/{k}": [] for l in range(3) for k in ("u", "v", "r", "e", "W", "b")}
    for k in range(n_steps):
        run_steps(packed, state, opt, ws, x[k][None, :, None], target[k][None, :, None], loss="mse", matmul=matmul)
        for l, (W, b) in enumerate(bn.unpack(packed)):
            o, n = packed.n_off[l], packed.sizes[l]
            for key in ("u", "v", "r", "e"):
                got[f"layer{l + 1}/{key}"].append(getattr(state, key)[o:o + n, 0].copy())
            got[f"layer{l + 1}/W"].append(W.copy())
            got[f"layer{l + 1}/b"].append(b.copy())
    for name, values in got.items():
        want = traj[name][1:]  # analogvle's point k+1 holds the state committed at step k
        value = np.array(values)
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(value, want, rtol=0, atol=1e-12 * scale, err_msg=name)
    # not vacuous: errors flow and every layer's weights moved
    assert np.abs(traj["layer1/e"]).max() > 1e-2
    for l in (1, 2, 3):
        assert np.abs(traj[f"layer{l}/W"][-1] - traj[f"layer{l}/W"][0]).max() > 1e-3


# ----------------------------------------------------------------------------
# batch B: the update is the mean of B independent batch-1 updates
# ----------------------------------------------------------------------------


def _random_state(packed, B, rng):
    st = bn.zero_state(packed, B)
    for a in st:
        a[:] = rng.normal(0.0, 0.5, a.shape)
    st.rp[:] = np.abs(st.rp)
    return st


@pytest.mark.parametrize("matmul", ["blas", "loops"])
@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_batch_update_is_mean_of_single_updates(loss, matmul):
    rng = np.random.default_rng(11)
    net = bn.init_net([1, 9, 9, 4], ["linear", "tanh", "linear"], [[0.6] * 3 + [1.2] * 6, 1.2, 1.2],
                      [[0.2] * 5 + [1.2] * 4, 0.2, 1.2], dt=0.2, seed=5)
    B = 13
    packed = bn.pack(net)
    theta0 = packed.theta.copy()
    st = _random_state(packed, B, rng)
    singles = [bn.State(*(np.ascontiguousarray(a[:, c:c + 1]) for a in st)) for c in range(B)]
    x = rng.normal(size=(1, 1, B))
    y = bn.one_hot(rng.integers(0, 4, B), 4)[None]
    lr = 0.1
    opt = bn.make_optimizer("sgd", len(theta0), lr)
    run_steps(packed, st, opt, bn.make_workspace(packed, B), x, y, loss=loss, matmul=matmul)
    delta_batch = packed.theta - theta0

    deltas = []
    for c in range(B):
        p1 = packed._replace(theta=theta0.copy())
        run_steps(p1, singles[c], bn.make_optimizer("sgd", len(theta0), lr), bn.make_workspace(p1, 1),
                     x[:, :, c:c + 1], y[:, :, c:c + 1], loss=loss, matmul=matmul)
        deltas.append(p1.theta - theta0)
        for a_batch, a_single in zip(st, singles[c]):  # each column's state evolves as its own batch-1 run
            np.testing.assert_allclose(a_batch[:, c], a_single[:, 0], rtol=0, atol=1e-13)
    assert np.abs(delta_batch).max() > 1e-4
    np.testing.assert_allclose(delta_batch, np.mean(deltas, axis=0), rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------
# the numba kernel == the plain-NumPy transcription (all optimizers, losses, error modes, eval)
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("matmul", ["blas", "loops"])
@pytest.mark.parametrize("opt_kind", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("loss, errors", [("ce", "prospective"), ("mse", "prospective"), ("ce", "instantaneous")])
def test_kernel_matches_numpy_transcription(opt_kind, loss, errors, matmul):
    rng = np.random.default_rng(2)
    net = bn.init_net([2, 7, 6, 3], ["tanh", "sigmoid", "linear"], [0.5, rng.uniform(0.2, 1, 6), 1.0],
                      [0.2, 0.4, 1.0], dt=0.1, seed=1, errors=errors)
    net.layers[1].gamma = 0.3
    net.layers[0].plastic = False
    net.layers[2].learn_bias = False  # learns W only
    B, T = 6, 50
    x = rng.normal(size=(T, 2, B))
    y = bn.one_hot(rng.integers(0, 3, B), 3)[None]
    packed = bn.pack(net)
    st, ws = bn.zero_state(packed, B), bn.make_workspace(packed, B)
    opt = bn.make_optimizer(opt_kind, len(packed.theta), 0.05)
    out1, loss1 = run_steps(packed, st, opt, ws, x, y, loss=loss, matmul=matmul)
    nst = tr.numpy_zero_state(net, B)
    theta = [[layer.W.copy(), layer.b.copy()] for layer in net.layers]
    out2, loss2 = tr.numpy_run_steps(net, nst, theta, {"kind": opt_kind, "lr": 0.05}, x, y, loss=loss)
    np.testing.assert_allclose(out1, out2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(loss1, loss2, rtol=1e-12, atol=1e-12)
    for (W, b), (W2, b2) in zip(bn.unpack(packed), theta):
        np.testing.assert_allclose(W, W2, rtol=0, atol=1e-12)
        np.testing.assert_allclose(b, b2, rtol=0, atol=1e-12)
    for l in range(3):
        o, n = packed.n_off[l], packed.sizes[l]
        for key in ("u", "v", "r", "rp", "e"):
            np.testing.assert_allclose(getattr(st, key)[o:o + n], nst[l][key], rtol=0, atol=1e-12, err_msg=key)
    np.testing.assert_array_equal(bn.unpack(packed)[0][0], net.layers[0].W)  # a frozen layer stays put
    np.testing.assert_array_equal(bn.unpack(packed)[2][1], net.layers[2].b)  # learn_bias = False: b stays put
    assert np.abs(bn.unpack(packed)[2][0] - net.layers[2].W).max() > 1e-4  # while its W learns
    # evaluation (no injected error, no learning) continues identically
    o1, l1 = run_steps(packed, st, None, ws, x[:20], y, learn=False, inject=False, loss=loss, matmul=matmul)
    o2, l2 = tr.numpy_run_steps(net, nst, theta, {}, x[:20], y, learn=False, inject=False, loss=loss)
    np.testing.assert_allclose(o1, o2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(l1, l2, rtol=1e-12, atol=1e-12)


def test_fast_eval_equals_eval_with_decaying_errors():
    """Evaluation forward-only + zeroed errors vs the public code's evaluation (errors run with no target):
    identical outputs and, after a sample-length pass, the same state to round-off."""
    rng = np.random.default_rng(4)
    net = bn.init_net([1, 9, 9, 4], ["linear", "tanh", "linear"], [[0.6] * 3 + [1.2] * 6, 1.2, 1.2],
                      [[0.2] * 5 + [1.2] * 4, 0.2, 1.2], dt=0.2, seed=5)
    packed, B = bn.pack(net), 8
    st = _random_state(packed, B, rng)
    st2 = bn.State(*(a.copy() for a in st))
    x, y = rng.normal(size=(360, 1, B)), bn.one_hot(rng.integers(0, 4, B), 4)[None]
    ws = bn.make_workspace(packed, B)
    o1, l1 = run_steps(packed, st, None, ws, x, y, learn=False, inject=False)
    o2, l2 = run_steps(packed, st2, None, ws, x, y, learn=False, errors=False)
    bn.zero_errors(st2)
    np.testing.assert_array_equal(o1, o2)
    np.testing.assert_array_equal(l1, l2)
    for a, b in zip(st, st2):
        assert np.abs(a - b).max() < 1e-14


# ----------------------------------------------------------------------------
# pieces: φ, optimizers, scheduler, state resizing, init
# ----------------------------------------------------------------------------


def test_fast_tanh_and_exp():
    x = np.concatenate([np.linspace(-30, 30, 200001), [0.0, -0.0, 1e-300, -1e-12, 19.99, 20.0, 700.0, -700.0]])
    r, rp = np.empty((1, len(x))), np.empty((1, len(x)))
    ew._activate(1, x[None], r, rp)
    assert np.abs(r[0] - np.tanh(x)).max() <= 3e-16
    assert np.abs(rp[0] - (1 - np.tanh(x) ** 2)).max() <= 1e-15
    ys = np.linspace(-700, 0, 100001)
    got = np.array([ew.exp_neg(v) for v in ys[::97]])
    np.testing.assert_allclose(got, np.exp(ys[::97]), rtol=5e-16, atol=0)


def test_adam_matches_torch_formula():
    """One parameter, a fixed gradient sequence: PyTorch's Adam written out (step_size = lr/bc1, denom = √v/√bc2 + ε)."""
    g_seq = [0.3, -1.2, 0.05, 2.0]
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
    p, m, v = 0.7, 0.0, 0.0
    for t, g in enumerate(g_seq, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p -= (lr / (1 - b1**t)) * m / (math.sqrt(v) / math.sqrt(1 - b2**t) + eps)
    opt = bn.make_optimizer("adam", 1, lr)
    theta = np.array([0.7])
    for t, g in enumerate(g_seq, 1):
        ew._opt_update(opt.kind, opt.hyper, t, theta, np.array([-g]), opt.m, opt.s, 0, 1)  # G = −gradient
    assert abs(theta[0] - p) < 1e-15


def test_plateau_schedule():
    opt = bn.make_optimizer("adam", 1, 1e-3)
    sched = bn.Plateau(opt, factor=0.5, patience=2)
    lrs = [sched.step(v) for v in [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.94, 0.95, 0.8999]]
    # best 0.9 at call 2; three bad epochs (calls 3-5) -> halve at call 5; counter reset; calls 6-8 bad -> halve at 8
    assert lrs == [1e-3, 1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 5e-4, 2.5e-4, 2.5e-4]


def test_resize_state_tiles_and_narrows_like_the_public_code():
    net = bn.init_net([1, 3, 2], ["linear", "linear"], [1.0, 1.0], [1.0, 1.0], dt=0.2, seed=0)
    st = bn.zero_state(bn.pack(net), 3)
    st.u[:] = np.arange(3)[None, :]
    big = bn.resize_state(st, 7)
    np.testing.assert_array_equal(big.u[0], [0, 1, 2, 0, 1, 2, 0])
    np.testing.assert_array_equal(bn.resize_state(big, 2).u[0], [0, 1])


def test_init_is_seeded_and_torch_shaped():
    sizes = [1, 53, 53, 10]
    a = bn.init_net(sizes, ["linear", "tanh", "linear"], [1.2] * 3, [1.2] * 3, dt=0.2, seed=7)
    b = bn.init_net(sizes, ["linear", "tanh", "linear"], [1.2] * 3, [1.2] * 3, dt=0.2, seed=7)
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_array_equal(la.W, lb.W)
        bound = 1 / math.sqrt(la.fan_in)
        assert np.abs(la.W).max() <= bound and np.abs(la.b).max() <= bound and np.abs(la.W).max() > 0.8 * bound
