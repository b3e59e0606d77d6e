"""Compiled (numba) kernels of the continuous GLE system: the one implementation behind the
``adaptive`` and ``rk4`` methods (:mod:`analogvle.integrate.continuous`) and the adjoint.

A network's constants come packed by :func:`~analogvle.integrate.packing.pack_network`;
where its variables sit in the flat ODE state y is a :class:`Slots` (offsets, −1
where absent: then W and b are the packed static values, v is zero). The
instantaneous variables of one evaluation live in a :class:`Work`. A network
without teacher passes :func:`~analogvle.integrate.packing.empty_network`.
Error modes are the integers of :data:`~analogvle.integrate.packing.ERROR_CODES`.
Times in model time units; every term is :mod:`analogvle.model.terms`'.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from analogvle.integrate.packing import NO_ERRORS, PROSPECTIVE, PackedNetwork
from analogvle.model.activations import activate
from analogvle.model.terms import leaky_rate, nudge

#: the γ loop: relative change accepted, floor once stalled in a round-off cycle, iterations
LOOP_RTOL, LOOP_FLOOR, LOOP_MAX_ITER = 1e-14, 1e-12, 200
NEWTON_MAX_ITER = 50


class Slots(NamedTuple):
    """Offsets of each layer's variables in the flat state (int64 (L,) each; −1: not a state)."""

    u: np.ndarray
    v: np.ndarray
    W: np.ndarray
    b: np.ndarray


class Work(NamedTuple):
    """Instantaneous variables of one evaluation, (L, width) each; ``Wg`` (L, width, fan) the weights in use."""

    s: np.ndarray  # summed input W r + b + γ e
    uhat: np.ndarray
    r: np.ndarray
    rp: np.ndarray  # φ′(ŭ)
    eps: np.ndarray  # error input ε
    e: np.ndarray
    u: np.ndarray
    v: np.ndarray
    b: np.ndarray
    e_in: np.ndarray  # the e the γ term uses (the loop's iterate)
    ge: np.ndarray  # γ e_in
    Wg: np.ndarray


def new_work(net: PackedNetwork) -> Work:
    """Zeroed work arrays for ``net``."""
    L, width, fan = net.W.shape
    return Work(*(np.zeros((L, width)) for _ in range(11)), np.zeros((L, width, fan)))


@njit(cache=True)
def forward_core(x, net, w):
    """Bottom-up: s = W r_{ℓ−1} + b + γe, ŭ = k_u u + k_s s, r = φ(ŭ), r′ = φ′(ŭ)."""
    for l in range(net.sizes.shape[0]):
        n, m = net.sizes[l], net.fans[l]
        for i in range(n):
            acc = 0.0
            for j in range(m):
                pre = x[j] if l == 0 else w.r[l - 1, j]
                acc += w.Wg[l, i, j] * pre
            w.s[l, i] = acc + w.b[l, i] + w.ge[l, i]
            w.uhat[l, i] = net.k_u[l, i] * w.u[l, i] + net.k_s[l, i] * w.s[l, i]
        activate(net.codes[l], w.uhat[l], w.r[l], w.rp[l], n)


@njit(cache=True)
def backward_core(target, beta, prospective, net, w):
    """Top-down: ε_L = β (target − r_L), ε_ℓ = W_{ℓ+1}ᵀ e_{ℓ+1}; e = k_v v + k_p r′ε (or r′ε)."""
    top = net.sizes.shape[0] - 1
    for i in range(net.sizes[top]):
        w.eps[top, i] = nudge(beta, target[i], w.r[top, i])
    for l in range(top, -1, -1):
        n = net.sizes[l]
        for i in range(n):
            inst = w.rp[l, i] * w.eps[l, i]
            w.e[l, i] = net.k_v[l, i] * w.v[l, i] + net.k_p[l, i] * inst if prospective else inst
        if l > 0:
            for j in range(net.fans[l]):
                acc = 0.0
                for i in range(n):
                    acc += w.Wg[l, i, j] * w.e[l, i]
                w.eps[l - 1, j] = acc


@njit(cache=True)
def gather(y, net, slots, w):
    """u, v, W and b of every layer from the flat state (or the static values) into ``w``."""
    for l in range(net.sizes.shape[0]):
        n, m = net.sizes[l], net.fans[l]
        for i in range(n):
            w.u[l, i] = y[slots.u[l] + i]
            w.v[l, i] = y[slots.v[l] + i] if slots.v[l] >= 0 else 0.0
            w.b[l, i] = y[slots.b[l] + i] if slots.b[l] >= 0 else net.bias[l, i]
            for j in range(m):
                w.Wg[l, i, j] = y[slots.W[l] + i * m + j] if slots.W[l] >= 0 else net.W[l, i, j]


@njit(cache=True)
def sweep(x, target, beta, mode, net, w):
    """One forward and one backward pass with γ·e taken from ``w.e_in``."""
    for l in range(net.sizes.shape[0]):
        for i in range(net.sizes[l]):
            w.ge[l, i] = net.gamma[l] * w.e_in[l, i]
    forward_core(x, net, w)
    if mode != NO_ERRORS:
        backward_core(target, beta, mode == PROSPECTIVE, net, w)


@njit(cache=True)
def teacher_pass(x, y, teacher, tslots, tw):
    """The teacher's forward pass from its potentials in y (into ``tw``)."""
    gather(y, teacher, tslots, tw)
    forward_core(x, teacher, tw)


@njit(cache=True)
def evaluate(x, target, y, beta, mode, net, slots, teacher, tslots, guess, resid, w, tw):
    """Every instantaneous variable at one state into ``w`` (and ``target`` from the teacher, if any).

    The γ loop (e appears in its own drive when γ ≠ 0) is solved by fixed-point
    iteration on e from ``guess`` (L, width; updated): it stops when
    max|F(e) − e| ≤ LOOP_RTOL (1 + max|F(e)|), or, once the iteration stalls in
    a round-off cycle, at ≤ LOOP_FLOOR; otherwise Newton's method takes over
    (:func:`newton_loop`). ``resid[0]`` keeps the largest relative change
    accepted. Returns the iterations (0: no loop), or −1 when neither converged.
    """
    if teacher.sizes.shape[0] > 0:
        teacher_pass(x, y, teacher, tslots, tw)
        top = teacher.sizes.shape[0] - 1
        for i in range(teacher.sizes[top]):
            target[i] = tw.r[top, i]
    gather(y, net, slots, w)
    looped = False
    if mode != NO_ERRORS:
        for l in range(net.sizes.shape[0]):
            if net.gamma[l] != 0.0:
                looped = True
    if not looped:
        w.e_in[:, :] = 0.0
        sweep(x, target, beta, mode, net, w)
        return 0
    w.e_in[:, :] = guess
    last = np.inf
    for it in range(LOOP_MAX_ITER):
        sweep(x, target, beta, mode, net, w)
        change, big = _change(net, w)
        rel = change / (1.0 + big)
        if rel <= LOOP_RTOL or (it >= 2 and change >= last and rel <= LOOP_FLOOR):
            guess[:, :] = w.e
            resid[0] = max(resid[0], rel)
            return it + 1
        last = change
        w.e_in[:, :] = w.e
    return newton_loop(x, target, beta, mode, net, guess, resid, w)


@njit(cache=True)
def _change(net, w):
    """(max |e − e_in|, max |e|) over every neuron."""
    change, big = 0.0, 0.0
    for l in range(net.sizes.shape[0]):
        for i in range(net.sizes[l]):
            change = max(change, abs(w.e[l, i] - w.e_in[l, i]))
            big = max(big, abs(w.e[l, i]))
    return change, big


@njit(cache=True)
def newton_loop(x, target, beta, mode, net, guess, resid, w):
    """The γ loop by Newton's method on F(e) − e (forward-difference Jacobian), from ``guess``.

    Returns LOOP_MAX_ITER + its iterations on success (w holds the solution and
    e_in = e), −1 when it does not converge to LOOP_FLOOR.
    """
    L = net.sizes.shape[0]
    n_e = 0
    for l in range(L):
        n_e += net.sizes[l]
    z = np.empty(n_e)
    _flatten(net, guess, z)
    residual = np.empty(n_e)
    trial = np.empty(n_e)
    jac = np.empty((n_e, n_e))
    for it in range(NEWTON_MAX_ITER):
        rel = _residual(x, target, beta, mode, net, w, z, residual)
        if rel <= LOOP_FLOOR:
            _unflatten(net, z, guess)
            resid[0] = max(resid[0], rel)
            return LOOP_MAX_ITER + it
        for k in range(n_e):
            h = 1e-7 * (1.0 + abs(z[k]))
            trial[:] = z
            trial[k] += h
            _residual(x, target, beta, mode, net, w, trial, jac[:, k])
            for q in range(n_e):
                jac[q, k] = (jac[q, k] - residual[q]) / h
        z -= np.linalg.solve(jac, residual)
    return -1


@njit(cache=True)
def _residual(x, target, beta, mode, net, w, z, out):
    """out = F(z) − z for the loop variable z (every layer's e, flattened); returns max|out|/(1 + max|F|)."""
    _unflatten(net, z, w.e_in)
    sweep(x, target, beta, mode, net, w)
    change, big = 0.0, 0.0
    k = 0
    for l in range(net.sizes.shape[0]):
        for i in range(net.sizes[l]):
            out[k] = w.e[l, i] - z[k]
            change = max(change, abs(out[k]))
            big = max(big, abs(w.e[l, i]))
            k += 1
    return change / (1.0 + big)


@njit(cache=True)
def _flatten(net, per_layer, flat):
    k = 0
    for l in range(net.sizes.shape[0]):
        for i in range(net.sizes[l]):
            flat[k] = per_layer[l, i]
            k += 1


@njit(cache=True)
def _unflatten(net, flat, per_layer):
    k = 0
    for l in range(net.sizes.shape[0]):
        for i in range(net.sizes[l]):
            per_layer[l, i] = flat[k]
            k += 1


@njit(cache=True)
def assemble(dy, x, learning, mode, net, slots, w, teacher, tslots, tw):
    """dy/dt from the instantaneous variables in ``w`` (and the teacher's pass in ``tw``)."""
    for l in range(net.sizes.shape[0]):
        n, m = net.sizes[l], net.fans[l]
        for i in range(n):
            dy[slots.u[l] + i] = leaky_rate(w.s[l, i], w.u[l, i], net.tau_m[l, i])
            if mode == PROSPECTIVE:
                dy[slots.v[l] + i] = leaky_rate(w.rp[l, i] * w.eps[l, i], w.v[l, i], net.tau_r[l, i])
        rate = net.eta[l] if learning else 0.0
        if slots.W[l] >= 0:
            for i in range(n):
                ei = w.e[l, i]
                for j in range(m):
                    pre = x[j] if l == 0 else w.r[l - 1, j]
                    dy[slots.W[l] + i * m + j] = rate * (ei * pre)
        if slots.b[l] >= 0:
            for i in range(n):
                dy[slots.b[l] + i] = rate * w.e[l, i]
    for l in range(teacher.sizes.shape[0]):
        for i in range(teacher.sizes[l]):
            dy[tslots.u[l] + i] = leaky_rate(tw.s[l, i], tw.u[l, i], teacher.tau_m[l, i])


@njit(cache=True)
def rhs(dy, x, target, y, learning, beta, mode, net, slots, teacher, tslots, guess, resid, w, tw):
    """dy/dt at one state into ``dy``; returns the γ-loop iterations, or −1 (dy untouched) if the loop failed."""
    it = evaluate(x, target, y, beta, mode, net, slots, teacher, tslots, guess, resid, w, tw)
    if it >= 0:
        assemble(dy, x, learning, mode, net, slots, w, teacher, tslots, tw)
    return it


@njit(cache=True)
def rk4_steps(y, k0, k1, dt, learn_after, every, xs, targets, out, beta, mode, net, slots, teacher, tslots,
              guess, resid, stats, w, tw):
    """Classic RK4 steps k0 .. k1−1 of size dt on y (in place), the learning gate held per step.

    ``xs[k − k0, q]`` is x at t_k, t_k + dt/2, t_k + dt for q = 0, 1, 2 (likewise
    ``targets`` for a sampled target, zeros without; ignored with a teacher). Every
    ``every``-th state goes to ``out[(k + 1) // every]``. ``stats[0]`` keeps the
    most γ-loop iterations. Returns k1, or the step k whose γ loop failed (y is
    then the state before step k).
    """
    n = y.size
    k1v, k2v, k3v, k4v = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    ytmp = np.empty(n)
    tgt = np.zeros(targets.shape[2])
    h2, h6 = dt / 2, dt / 6
    for k in range(k0, k1):
        learn = k * dt >= learn_after - 1e-9 * dt
        row = k - k0
        stages = (k1v, k2v, k3v, k4v)
        for q in range(4):
            c = 0 if q == 0 else (1 if q < 3 else 2)
            if q == 0:
                ytmp[:] = y
            elif q < 3:
                prev = stages[q - 1]
                for i in range(n):
                    ytmp[i] = y[i] + h2 * prev[i]
            else:
                for i in range(n):
                    ytmp[i] = y[i] + dt * k3v[i]
            if teacher.sizes.shape[0] == 0:
                tgt[:] = targets[row, c]
            it = rhs(stages[q], xs[row, c], tgt, ytmp, learn, beta, mode, net, slots, teacher, tslots, guess,
                     resid, w, tw)
            if it < 0:
                return k
            stats[0] = max(stats[0], it)
        for i in range(n):
            y[i] = y[i] + h6 * (((k1v[i] + 2 * k2v[i]) + 2 * k3v[i]) + k4v[i])
        if (k + 1) % every == 0:
            out[(k + 1) // every] = y
    return k1
