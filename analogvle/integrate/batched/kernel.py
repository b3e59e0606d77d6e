"""The batched gle-euler step loop: the discrete GLE semantics with a batch dimension, many steps per call.

The semantics are EQUATIONS.md's "discrete gle-euler semantics" (the public GLE
code's explicit Euler, a one-step delay between layers in both directions) on B
independent state columns sharing one set of weights. Step k, every layer ℓ
reading the values committed at step k−1:

    ε_ℓ   = the previous step's Wᵀe of layer ℓ+1, or at the top
            β (y_k − softmax(r_L))  (loss "ce")  /  β (y_k − r_L)  (loss "mse"), previous r_L
    inst  = r′_old ⊙ ε
    v̇     = (inst − v_old)/τr,  v = v_old + dt v̇,  e = v_old + τm v̇     (prospective)
            e = v = inst                                               (instantaneous)
    s     = W r_{ℓ−1,old} + b        (r₀ = x_k)
    u̇     = (s + γ e − u_old)/τm,  u = u_old + dt u̇,  ŭ = u_old + τr u̇
    r, r′ = φ(ŭ), φ′(ŭ);  sent down: Wᵀe with this step's (old) W
    G_W   = mean over the batch of e r_{ℓ−1,old}ᵀ,   G_b = mean of e

G is the local GLE update (the descent direction). After the step the
optimizer moves every plastic layer: SGD θ ← θ + lr·G (with lr = η·dt and
B = 1 this is :mod:`analogvle.integrate.gle_euler` exactly), PyTorch-style
momentum and Adam on the gradient −G. The output shown at step k is the
previous step's r_L (what the loss and the read-out use).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from analogvle.integrate.batched.elementwise import (
    _activate,
    _errors_hidden,
    _membrane,
    _opt_update,
    _row_mean,
    _top_error,
)
from analogvle.integrate.batched.network import LOSS_CODES, Optimizer, Packed, State, Workspace, make_optimizer
from analogvle.integrate.batched.passes import _blas_learn, _pass_back, _pass_forward, _pass_learn


@njit(cache=True, error_model="numpy", boundscheck=False)
def _run(net, st, opt, ws, x, y, y_per_step, learn, errors_on, inject, loss, blas, out_sum, loss_acc):
    """Steps k = 0 .. len(x)−1 with input x[k] (n_in × B) and target y[k or 0] (n_out × B); in place."""
    L = net.sizes.shape[0]
    top = L - 1
    dt, beta, mode = net.dt, net.beta, net.errors
    B = x.shape[2]
    inv_b = 1.0 / B
    theta, grad = net.theta, ws.grad
    u, v, r, rp, e, sent = st.u, st.v, st.r, st.rp, st.e, st.sent
    T = x.shape[0]
    nt0, nt = net.n_off[top], net.sizes[top]
    for k in range(T):
        yk = y[k] if y_per_step else y[0]
        # 1. errors from the previous step's r′, Wᵀe and r_L (all read before anything is overwritten)
        zt = r[nt0: nt0 + nt]
        _top_error(zt, yk, beta, loss, ws.top, ws.col, loss_acc, out_sum)
        if errors_on:
            if not inject:
                ws.top[:] = 0.0
            for l in range(L):
                o, n = net.n_off[l], net.sizes[l]
                eps = ws.top if l == top else sent[net.m_off[l + 1]: net.m_off[l + 1] + n]
                _errors_hidden(eps, rp[o: o + n], v[o: o + n], e[o: o + n], net.tau_m[o: o + n],
                               net.tau_r[o: o + n], dt, mode)
        # 2. layers top-down: layer l reads r[l−1] before layer l−1 overwrites it
        for l in range(top, -1, -1):
            o, n, m = net.n_off[l], net.sizes[l], net.fans[l]
            W = theta[net.w_off[l]: net.w_off[l] + n * m].reshape((n, m))
            bias = theta[net.b_off[l]: net.b_off[l] + n]
            pre = x[k] if l == 0 else r[net.n_off[l - 1]: net.n_off[l - 1] + m]
            s = ws.s[:n]
            el = e[o: o + n]
            do_grad = learn and net.plastic[l]
            sent_l = sent[net.m_off[l]: net.m_off[l] + m]
            use_blas = blas and m > 1  # a fan-in of 1 (the input layer) is faster in the loops
            if do_grad:
                G = grad[net.w_off[l]: net.w_off[l] + n * m].reshape((n, m))
                if use_blas:
                    _blas_learn(W, pre, el, s, sent_l, G, inv_b)
                else:
                    _pass_learn(W, pre, el, s, sent_l, G, inv_b)
            else:
                if use_blas:
                    np.dot(W, pre, s)
                else:
                    _pass_forward(W, pre, s)
                if errors_on:
                    if use_blas:
                        np.dot(W.T, el, sent_l)
                    else:
                        _pass_back(W, el, sent_l)
            uh = s  # ŭ overwrites s in place (s is consumed element by element)
            _membrane(s, bias, el, u[o: o + n], uh, net.tau_m[o: o + n], net.tau_r[o: o + n], net.gamma[l], dt)
            if do_grad:
                _row_mean(el, grad[net.b_off[l]: net.b_off[l] + n], inv_b)
            _activate(net.codes[l], uh, r[o: o + n], rp[o: o + n])
        # 3. plasticity after the step
        if learn:
            opt.step[0] += 1
            t = opt.step[0]
            for l in range(L):
                if net.plastic[l]:
                    lo = net.w_off[l]
                    hi = net.b_off[l] + net.sizes[l] if net.learn_bias[l] else net.b_off[l]
                    _opt_update(opt.kind, opt.hyper, t, theta, grad, opt.m, opt.s, lo, hi, net.lr_scale[l])


def run_steps(packed: Packed, state: State, opt: Optimizer | None, ws: Workspace, x: np.ndarray, y: np.ndarray, *,
              learn: bool = True, errors: bool = True, inject: bool = True, loss: str = "ce", matmul: str = "blas",
              out_sum: np.ndarray | None = None, loss_acc: np.ndarray | None = None):
    """Run len(x) steps in one kernel call; everything is updated in place.

    x: (T, n_in, B) input per step; y: (T, n_out, B) target per step or (1, n_out, B) held for all steps
    (e.g. the one-hot label of a sample).  ``learn``: compute G and apply ``opt`` after every step.
    ``errors``: run the error dynamics (False = forward only, v/e/sent frozen; only valid with γ = 0).
    ``inject``: False = top error zero (the public code's evaluation: no target given).
    ``matmul``: "blas" (dgemm through numba's np.dot; single-threaded if OPENBLAS_NUM_THREADS=1) or
    "loops" (fused numba loops, one sweep over W per layer).
    Returns (out_sum (n_out, B): Σ_k of the output shown at step k (the previous step's r_L),
    loss_acc (B,): Σ_k of the loss of that output).
    """
    B = state.u.shape[1]
    n_out = int(packed.sizes[-1])
    if x.ndim != 3 or x.shape[2] != B or x.shape[1] != packed.fans[0]:
        raise ValueError(f"x: expected (T, {packed.fans[0]}, {B}), got {x.shape}")
    if y.ndim != 3 or y.shape[1:] != (n_out, B) or y.shape[0] not in (1, len(x)):
        raise ValueError(f"y: expected (T or 1, {n_out}, {B}), got {y.shape}")
    if learn and (opt is None or not errors):
        raise ValueError("learning needs an optimizer and errors=True")
    if not errors and np.any(packed.gamma != 0.0):
        raise ValueError("errors=False is only valid with gamma = 0")
    if ws.s.shape[1] != B:
        raise ValueError(f"workspace is for batch {ws.s.shape[1]}, state for {B}")
    if opt is None:
        opt = make_optimizer("sgd", 0, 0.0)
    out_sum = np.zeros((n_out, B)) if out_sum is None else out_sum
    loss_acc = np.zeros(B) if loss_acc is None else loss_acc
    _run(packed, state, opt, ws, np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64),
         y.shape[0] > 1, learn, errors, inject, LOSS_CODES[loss], matmul == "blas", out_sum, loss_acc)
    return out_sum, loss_acc
