"""Element-wise parts of a batched step (numba): φ without libm calls, errors, membrane, optimizer updates.

numba has no SVML here, so ``math.tanh`` is a scalar libm call per element;
:func:`tanh_fast` (Cody–Waite reduction, a degree-13 polynomial, 2ⁿ by a
bit-cast) vectorises and is within ~2e-16 of ``np.tanh``. These kernels are
compiled without fastmath (it would break the reduction's exactness), except
the row sums.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

# fastmath for reductions only (they need reassociation to vectorise)
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.4426950408889634


@intrinsic
def _bits_as_f64(typingctx, x):
    """Reinterpret an int64 as a float64 (for 2**n; vectorises, unlike ldexp)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@njit(cache=True, inline="always", error_model="numpy")
def exp_neg(y):
    """exp(y) for y <= 0 (clamped at −700), within ~2 ulp; vectorises (no libm call)."""
    y = max(y, -700.0)
    n = np.floor(y * _LOG2E + 0.5)
    r = (y - n * _LN2_HI) - n * _LN2_LO  # |r| <= ln2/2
    p = 1.0 + r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (
        1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (1 / 39916800 + r * (
            1 / 479001600 + r * (1 / 6227020800)))))))))))))
    return p * _bits_as_f64((np.int64(n) + 1023) << 52)


@njit(cache=True, inline="always", error_model="numpy")
def tanh_fast(x):
    """tanh(x) to ~2e-16 absolute (the vectorisable form: (1 − t)/(1 + t), t = e^{−2|x|})."""
    t = exp_neg(-2.0 * min(abs(x), 20.0))
    th = (1.0 - t) / (1.0 + t)
    return th if x >= 0.0 else -th


@njit(cache=True, error_model="numpy", boundscheck=False)
def _activate(code, uh, r, rp):
    """r, rp = φ(uh), φ′(uh) for 2-D arrays (n, B)."""
    n, B = uh.shape
    if code == 0:
        for i in range(n):
            for b in range(B):
                r[i, b] = uh[i, b]
                rp[i, b] = 1.0
    elif code == 1:
        for i in range(n):
            for b in range(B):
                t = tanh_fast(uh[i, b])
                r[i, b] = t
                rp[i, b] = 1.0 - t * t
    elif code == 2:  # sigmoid = (1 + tanh(x/2))/2, as analogvle computes it
        for i in range(n):
            for b in range(B):
                sg = 0.5 * (1.0 + tanh_fast(0.5 * uh[i, b]))
                r[i, b] = sg
                rp[i, b] = sg * (1.0 - sg)
    elif code == 3:
        for i in range(n):
            for b in range(B):
                x = uh[i, b]
                r[i, b] = max(x, 0.0)
                rp[i, b] = 1.0 if x > 0.0 else 0.0
    else:  # softplus (libm; not on the hot path of any configuration here)
        for i in range(n):
            for b in range(B):
                x = uh[i, b]
                r[i, b] = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
                rp[i, b] = 0.5 * (1.0 + tanh_fast(0.5 * x))


@njit(cache=True, error_model="numpy", boundscheck=False)
def _errors_hidden(eps, rp, v, e, tau_m, tau_r, dt, mode):
    """e, v from ε (n × B) of the layer above; in place."""
    n, B = eps.shape
    for i in range(n):
        tm, itr = tau_m[i], 1.0 / tau_r[i]
        for c in range(B):
            inst = rp[i, c] * eps[i, c]
            if mode == 0:
                vo = v[i, c]
                vdot = (inst - vo) * itr
                e[i, c] = vo + tm * vdot
                v[i, c] = vo + dt * vdot
            else:
                e[i, c] = inst
                v[i, c] = inst


@njit(cache=True, error_model="numpy", boundscheck=False)
def _top_error(z, y, beta, loss, eps, col, loss_acc, out_sum):
    """ε_L (n_out × B) from the output z (the previous step's r_L) and target y; accumulates loss and logits.

    loss 0 (ce): ε = β (y − softmax z), loss += Σ_i y_i (logsumexp z − z_i);
    loss 1 (mse): ε = β (y − z), loss += Σ_i (y_i − z_i)²  (torch's F.mse_loss, reduction "sum").
    """
    n, B = z.shape
    for i in range(n):
        for c in range(B):
            out_sum[i, c] += z[i, c]
    if loss == 0:
        mx, tot = col[0], col[1]
        for c in range(B):
            mx[c] = z[0, c]
            tot[c] = 0.0
        for i in range(1, n):
            for c in range(B):
                mx[c] = max(mx[c], z[i, c])
        for i in range(n):
            for c in range(B):
                ex = exp_neg(z[i, c] - mx[c])
                eps[i, c] = ex
                tot[c] += ex
        for c in range(B):
            lse = mx[c] + math.log(tot[c])
            tot[c] = 1.0 / tot[c]
            acc = 0.0
            for i in range(n):
                acc += y[i, c] * (lse - z[i, c])
            loss_acc[c] += acc
        for i in range(n):
            for c in range(B):
                eps[i, c] = beta * (y[i, c] - eps[i, c] * tot[c])
    else:
        for i in range(n):
            for c in range(B):
                d = y[i, c] - z[i, c]
                eps[i, c] = beta * d
                loss_acc[c] += d * d


@njit(cache=True, error_model="numpy", boundscheck=False)
def _membrane(s, bias, e, u, uh, tau_m, tau_r, gamma, dt):
    """u, ŭ from s = W pre (+ b added here) and γ e, in place; uh may be s itself."""
    n, B = s.shape
    for i in range(n):
        itm, tr, bi = 1.0 / tau_m[i], tau_r[i], bias[i]
        for c in range(B):
            uo = u[i, c]
            udot = (s[i, c] + bi + gamma * e[i, c] - uo) * itm
            uh[i, c] = uo + tr * udot
            u[i, c] = uo + dt * udot


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", boundscheck=False)
def _row_mean(e, out, inv_b):
    """out[i] = inv_b Σ_c e[i, c] (the bias update)."""
    n, B = e.shape
    for i in range(n):
        acc = 0.0
        for c in range(B):
            acc += e[i, c]
        out[i] = acc * inv_b




@njit(cache=True, error_model="numpy", boundscheck=False)
def _opt_update(kind, hyper, t, theta, G, m, s, lo, hi, scale=1.0):
    """Move theta[lo:hi] along G (descent direction, G = −gradient) with learning rate scale·hyper[0];
    ``t`` = this update's count (from 1)."""
    lr = hyper[0] * scale
    if kind == 0:
        for k in range(lo, hi):
            theta[k] += lr * G[k]
    elif kind == 1:
        mu = hyper[1]
        for k in range(lo, hi):
            mk = mu * m[k] + G[k]
            m[k] = mk
            theta[k] += lr * mk
    else:  # two loops, so that LLVM's alias checks stay few and both vectorise (vsqrtpd, vdivpd)
        b1, b2, eps = hyper[1], hyper[2], hyper[3]
        step_size = lr / (1.0 - b1**t)
        inv_bc2_sqrt = 1.0 / math.sqrt(1.0 - b2**t)
        c1, c2 = 1.0 - b1, 1.0 - b2
        mm, ss, gg, th = m[lo:hi], s[lo:hi], G[lo:hi], theta[lo:hi]
        for k in range(hi - lo):
            g = gg[k]
            mm[k] = b1 * mm[k] + c1 * g
            ss[k] = b2 * ss[k] + c2 * g * g
        for k in range(hi - lo):
            th[k] += step_size * mm[k] / (math.sqrt(ss[k]) * inv_bc2_sqrt + eps)
