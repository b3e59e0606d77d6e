"""Matrix passes of a batched step (numba): one sweep over W, four rows at a time, batch innermost; or BLAS.

``matmul = "loops"`` uses the fused sweeps (forward, backward and the gradient
in one pass); ``"blas"`` calls dgemm through numba's ``np.dot(a, b, out)`` (no
copies, transposes handed to BLAS).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from analogvle.integrate.batched.elementwise import FASTMATH


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", boundscheck=False)
def _pass_learn(W, pre, e, s, sent, G, inv_b):
    """s = W pre;  sent = Wᵀ e;  G = inv_b · e preᵀ  — one sweep over W (n × m), columns = batch."""
    n, m = W.shape
    B = pre.shape[1]
    for j in range(m):
        for c in range(B):
            sent[j, c] = 0.0
    i = 0
    while i + 3 < n:
        s0, s1, s2, s3 = s[i], s[i + 1], s[i + 2], s[i + 3]
        e0, e1, e2, e3 = e[i], e[i + 1], e[i + 2], e[i + 3]
        for c in range(B):
            s0[c] = 0.0
            s1[c] = 0.0
            s2[c] = 0.0
            s3[c] = 0.0
        for j in range(m):
            w0, w1, w2, w3 = W[i, j], W[i + 1, j], W[i + 2, j], W[i + 3, j]
            pj, sj = pre[j], sent[j]
            g0 = 0.0
            g1 = 0.0
            g2 = 0.0
            g3 = 0.0
            for c in range(B):
                p = pj[c]
                a0, a1, a2, a3 = e0[c], e1[c], e2[c], e3[c]
                s0[c] += w0 * p
                s1[c] += w1 * p
                s2[c] += w2 * p
                s3[c] += w3 * p
                sj[c] += (w0 * a0 + w1 * a1) + (w2 * a2 + w3 * a3)
                g0 += a0 * p
                g1 += a1 * p
                g2 += a2 * p
                g3 += a3 * p
            G[i, j] = g0 * inv_b
            G[i + 1, j] = g1 * inv_b
            G[i + 2, j] = g2 * inv_b
            G[i + 3, j] = g3 * inv_b
        i += 4
    while i < n:
        si, ei = s[i], e[i]
        for c in range(B):
            si[c] = 0.0
        for j in range(m):
            w = W[i, j]
            pj, sj = pre[j], sent[j]
            g = 0.0
            for c in range(B):
                p = pj[c]
                a = ei[c]
                si[c] += w * p
                sj[c] += w * a
                g += a * p
            G[i, j] = g * inv_b
        i += 1


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", boundscheck=False)
def _pass_forward(W, pre, s):
    """s = W pre (n × B), four rows at a time."""
    n, m = W.shape
    B = pre.shape[1]
    i = 0
    while i + 3 < n:
        s0, s1, s2, s3 = s[i], s[i + 1], s[i + 2], s[i + 3]
        for c in range(B):
            s0[c] = 0.0
            s1[c] = 0.0
            s2[c] = 0.0
            s3[c] = 0.0
        for j in range(m):
            w0, w1, w2, w3 = W[i, j], W[i + 1, j], W[i + 2, j], W[i + 3, j]
            pj = pre[j]
            for c in range(B):
                p = pj[c]
                s0[c] += w0 * p
                s1[c] += w1 * p
                s2[c] += w2 * p
                s3[c] += w3 * p
        i += 4
    while i < n:
        si = s[i]
        for c in range(B):
            si[c] = 0.0
        for j in range(m):
            w = W[i, j]
            pj = pre[j]
            for c in range(B):
                si[c] += w * pj[c]
        i += 1


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", boundscheck=False)
def _pass_back(W, e, sent):
    """sent = Wᵀ e (m × B)."""
    n, m = W.shape
    B = e.shape[1]
    for j in range(m):
        sj = sent[j]
        for c in range(B):
            sj[c] = 0.0
        for i in range(n):
            w = W[i, j]
            ei = e[i]
            for c in range(B):
                sj[c] += w * ei[c]


@njit(cache=True, error_model="numpy", boundscheck=False)
def _blas_learn(W, pre, e, s, sent, G, inv_b):
    """The three products of a learning layer through BLAS (numba's np.dot → dgemm, no copies, no allocation)."""
    np.dot(W, pre, s)
    np.dot(W.T, e, sent)
    np.dot(e, pre.T, G)
    n, m = G.shape
    for i in range(n):
        for j in range(m):
            G[i, j] *= inv_b
