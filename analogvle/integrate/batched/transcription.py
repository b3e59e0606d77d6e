"""The batched gle-euler semantics in plain NumPy, one line per rule: the readable reference the kernel is tested
against (:func:`numpy_run_steps` ignores ``lr_scale``; ``learn_bias`` is honoured)."""

from __future__ import annotations

import math

import numpy as np

from analogvle.integrate.batched.network import Net


def _with_slope(value: np.ndarray, slope) -> tuple[np.ndarray, np.ndarray]:
    return value, slope(value)


_NP_PHI = {
    "linear": lambda x: (x.copy(), np.ones_like(x)),
    "tanh": lambda x: _with_slope(np.tanh(x), lambda t: 1.0 - t * t),
    "sigmoid": lambda x: _with_slope(0.5 * (1.0 + np.tanh(0.5 * x)), lambda sg: sg * (1.0 - sg)),
    "relu": lambda x: (np.maximum(x, 0.0), (x > 0).astype(float)),
    "softplus": lambda x: (np.logaddexp(0.0, x), 0.5 * (1.0 + np.tanh(0.5 * x))),
}


def numpy_run_steps(net: Net, state: list[dict], theta: list[list[np.ndarray]], opt: dict, x: np.ndarray,
                    y: np.ndarray, *, learn: bool = True, loss: str = "ce", inject: bool = True):
    """Plain-NumPy transcription (one line per rule).  ``state``: per layer dict u, v, r, rp, e, sent (n × B).

    ``theta``: per layer [W, b] (updated in place); ``opt``: {"kind", "lr", ...} plus its buffers (created here).
    Returns (out_sum, loss_acc) like :func:`run_steps`.
    """
    L, dt, beta = len(net.layers), net.dt, net.beta
    B = x.shape[2]
    n_out = net.layers[-1].size
    out_sum, loss_acc = np.zeros((n_out, B)), np.zeros(B)
    for k in range(len(x)):
        yk = y[k] if y.shape[0] > 1 else y[0]
        z = state[-1]["r"]  # the output shown at step k
        out_sum += z
        if loss == "ce":
            zs = z - z.max(axis=0)
            p = np.exp(zs) / np.exp(zs).sum(axis=0)
            loss_acc += (yk * (np.log(np.exp(zs).sum(axis=0)) - zs)).sum(axis=0)
            eps_top = beta * (yk - p)
        else:
            eps_top = beta * (yk - z)
            loss_acc += ((yk - z) ** 2).sum(axis=0)
        if not inject:
            eps_top = np.zeros_like(eps_top)
        new = []
        for l, layer in enumerate(net.layers):
            old = state[l]
            W, b = theta[l]
            pre = x[k] if l == 0 else state[l - 1]["r"]
            eps = eps_top if l == L - 1 else state[l + 1]["sent"]
            inst = old["rp"] * eps
            if net.errors == "prospective":
                vdot = (inst - old["v"]) / layer.tau_r[:, None]
                e = old["v"] + layer.tau_m[:, None] * vdot
                v = old["v"] + dt * vdot
            else:
                e = v = inst
            s = W @ pre + b[:, None]
            udot = (s + layer.gamma * e - old["u"]) / layer.tau_m[:, None]
            uh = old["u"] + layer.tau_r[:, None] * udot
            r, rp = _NP_PHI[layer.phi](uh)
            new.append({"u": old["u"] + dt * udot, "v": v, "r": r, "rp": rp, "e": e, "sent": W.T @ e,
                        "G": (e @ pre.T / B, e.mean(axis=1))})
        for l, layer in enumerate(net.layers):
            G = new[l].pop("G")
            state[l] = new[l]
            if learn and layer.plastic:
                _numpy_opt(opt, l, theta[l] if layer.learn_bias else theta[l][:1], G)
        if learn:
            opt["t"] = opt.get("t", 0) + 1
    return out_sum, loss_acc


def _numpy_opt(opt: dict, l: int, params: list[np.ndarray], G) -> None:
    lr = opt["lr"]
    for j, (p, g) in enumerate(zip(params, G)):
        key = (l, j)
        if opt["kind"] == "sgd":
            p += lr * g
        elif opt["kind"] == "momentum":
            buf = opt.setdefault(("m", key), np.zeros_like(p))
            buf *= opt.get("momentum", 0.9)
            buf += g
            p += lr * buf
        else:
            b1, b2, eps = opt.get("beta1", 0.9), opt.get("beta2", 0.999), opt.get("eps", 1e-8)
            t = opt.get("t", 0) + 1
            m = opt.setdefault(("m", key), np.zeros_like(p))
            s = opt.setdefault(("s", key), np.zeros_like(p))
            m[...] = b1 * m + (1 - b1) * g
            s[...] = b2 * s + (1 - b2) * g * g
            p += (lr / (1 - b1**t)) * m / (np.sqrt(s) / math.sqrt(1 - b2**t) + eps)


def numpy_zero_state(net: Net, batch: int) -> list[dict]:
    return [{k: np.zeros((layer.size, batch)) for k in ("u", "v", "r", "rp", "e")} | {"sent": np.zeros((layer.fan_in, batch))}
            for layer in net.layers]
