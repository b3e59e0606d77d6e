"""Compiled (numba) kernels of the continuous GLE system: the one implementation
behind :class:`analogvle.reference.ContinuousModel`.

A network is packed into four arrays (:func:`pack`), padded to the
widest layer and the largest fan-in:

- ``ip`` int64 (L, 7): size n, fan-in m, activation code, and the offsets of
  u, v, W (row-major n × m) and b in the flat state y (−1 where absent: then W
  and b are the static values below, v is zero);
- ``fp`` float64 (L, 7, width): τm, τr, k_u = 1 − τr/τm, k_s = τr/τm,
  k_v = 1 − τm/τr, k_p = τm/τr, static bias;
- ``sc`` float64 (L, 2): γ and η;
- ``Wst`` float64 (L, width, fan): static weights.

A teacher is packed the same way (its u offsets point at ``tu``); a network
without teacher passes zero-layer arrays. Work arrays ``work`` (11, L, width)
hold, per row: s, ŭ, r, r′, ε, e, u, v, b and two scratch rows; ``Wg`` (L,
width, fan) the weights in use. Error modes: 0 prospective, 1 instantaneous,
2 none. Times in model time units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from analogvle.activations import ACTIVATIONS, activate
from analogvle.spec import NetworkSpec

PROSPECTIVE, INSTANTANEOUS, NO_ERRORS = 0, 1, 2
ERROR_CODES = {"prospective": PROSPECTIVE, "instantaneous": INSTANTANEOUS, "none": NO_ERRORS}

# rows of ``work``
S, UHAT, R, RP, EPS, E, U, V, B, E_IN, GE = range(11)
WORK_ROWS = 11
# columns of ``ip``
N, M, CODE, OFF_U, OFF_V, OFF_W, OFF_B = range(7)
# rows of ``fp``
TAU_M, TAU_R, K_U, K_S, K_V, K_P, B_STATIC = range(7)


@njit(cache=True)
def forward_core(x, u, W, b, ge, ip, fp, s, uhat, r, rp):
    """Bottom-up: s = W r_{ℓ−1} + b + γe, ŭ = k_u u + k_s s, r = φ(ŭ), r′ = φ′(ŭ)."""
    for l in range(ip.shape[0]):
        n, m = ip[l, N], ip[l, M]
        for i in range(n):
            acc = 0.0
            for j in range(m):
                pre = x[j] if l == 0 else r[l - 1, j]
                acc += W[l, i, j] * pre
            s[l, i] = acc + b[l, i] + ge[l, i]
            uhat[l, i] = fp[l, K_U, i] * u[l, i] + fp[l, K_S, i] * s[l, i]
        activate(ip[l, CODE], uhat[l], r[l], rp[l], n)


@njit(cache=True)
def backward_core(r, rp, v, W, target, beta, prospective, ip, fp, eps, e):
    """Top-down: ε_L = β (target − r_L), ε_ℓ = W_{ℓ+1}ᵀ e_{ℓ+1}; e = k_v v + k_p r′ε (or r′ε)."""
    top = ip.shape[0] - 1
    for i in range(ip[top, N]):
        eps[top, i] = beta * (target[i] - r[top, i])
    for l in range(top, -1, -1):
        n = ip[l, N]
        for i in range(n):
            inst = rp[l, i] * eps[l, i]
            e[l, i] = fp[l, K_V, i] * v[l, i] + fp[l, K_P, i] * inst if prospective else inst
        if l > 0:
            for j in range(ip[l, M]):
                acc = 0.0
                for i in range(n):
                    acc += W[l, i, j] * e[l, i]
                eps[l - 1, j] = acc


@njit(cache=True)
def gather(y, ip, fp, Wst, work, Wg):
    """Copy u, v, W and b of every layer from the flat state (or the static values) into work/Wg."""
    for l in range(ip.shape[0]):
        n, m = ip[l, N], ip[l, M]
        for i in range(n):
            work[U, l, i] = y[ip[l, OFF_U] + i]
            work[V, l, i] = y[ip[l, OFF_V] + i] if ip[l, OFF_V] >= 0 else 0.0
            work[B, l, i] = y[ip[l, OFF_B] + i] if ip[l, OFF_B] >= 0 else fp[l, B_STATIC, i]
            for j in range(m):
                Wg[l, i, j] = y[ip[l, OFF_W] + i * m + j] if ip[l, OFF_W] >= 0 else Wst[l, i, j]


@njit(cache=True)
def sweep(x, target, ip, fp, sc, work, Wg, beta, mode):
    """One forward and one backward pass with γ·e taken from ``work[E_IN]``."""
    for l in range(ip.shape[0]):
        for i in range(ip[l, N]):
            work[GE, l, i] = sc[l, 0] * work[E_IN, l, i]
    forward_core(x, work[U], Wg, work[B], work[GE], ip, fp, work[S], work[UHAT], work[R], work[RP])
    if mode != NO_ERRORS:
        backward_core(work[R], work[RP], work[V], Wg, target, beta, mode == PROSPECTIVE, ip, fp, work[EPS], work[E])


@njit(cache=True)
def teacher_pass(x, y, tip, tfp, tWst, twork, Wg_t):
    """The teacher's forward pass from its potentials ``tu`` in y (into twork)."""
    gather(y, tip, tfp, tWst, twork, Wg_t)
    forward_core(x, twork[U], Wg_t, twork[B], twork[GE], tip, tfp, twork[S], twork[UHAT], twork[R], twork[RP])


@njit(cache=True)
def evaluate(x, target, y, ip, fp, sc, Wst, tip, tfp, tWst, beta, mode, loop, guess, resid, work, Wg, twork, Wg_t):
    """Every instantaneous variable at one state, into ``work`` (and ``target`` from the teacher).

    ``loop`` = (rtol, floor, max_iter) of the γ-loop fixed-point iteration on e:
    it stops when max|F(e) − e| ≤ rtol (1 + max|F(e)|), or, once it stalls in a
    round-off cycle (no decrease), when that relative change is ≤ floor.
    Returns the iterations (0: no loop), or −1 if neither happened within
    max_iter (the caller then solves the loop otherwise). ``guess`` (L, width)
    holds the last converged e and is updated; ``resid[0]`` keeps the largest
    relative change accepted.
    """
    rtol, floor, max_iter = loop[0], loop[1], int(loop[2])
    L = ip.shape[0]
    if tip.shape[0] > 0:
        teacher_pass(x, y, tip, tfp, tWst, twork, Wg_t)
        top = tip.shape[0] - 1
        for i in range(tip[top, N]):
            target[i] = twork[R, top, i]
    gather(y, ip, fp, Wst, work, Wg)
    looped = False
    if mode != NO_ERRORS:
        for l in range(L):
            if sc[l, 0] != 0.0:
                looped = True
    if not looped:
        work[E_IN, :, :] = 0.0
        sweep(x, target, ip, fp, sc, work, Wg, beta, mode)
        return 0
    work[E_IN, :, :] = guess
    last = np.inf
    for it in range(max_iter):
        sweep(x, target, ip, fp, sc, work, Wg, beta, mode)
        change = 0.0
        big = 0.0
        for l in range(L):
            for i in range(ip[l, N]):
                change = max(change, abs(work[E, l, i] - work[E_IN, l, i]))
                big = max(big, abs(work[E, l, i]))
        rel = change / (1.0 + big)
        # converged, or stalled in a round-off cycle (no progress) within the floor
        if rel <= rtol or (it >= 2 and change >= last and rel <= floor):
            guess[:, :] = work[E]
            resid[0] = max(resid[0], rel)
            return it + 1
        last = change
        work[E_IN, :, :] = work[E]
    return -1


@njit(cache=True)
def assemble(dy, y, x, work, ip, fp, sc, tip, tfp, twork, learning, mode):
    """dy/dt from the instantaneous variables in ``work``; the teacher's part from its pass already in ``twork``.

    ``twork`` must hold :func:`teacher_pass` at (x, y) (:func:`evaluate` leaves it there).
    """
    for l in range(ip.shape[0]):
        n, m = ip[l, N], ip[l, M]
        for i in range(n):
            dy[ip[l, OFF_U] + i] = (work[S, l, i] - work[U, l, i]) / fp[l, TAU_M, i]
            if mode == PROSPECTIVE:
                inst = work[RP, l, i] * work[EPS, l, i]
                dy[ip[l, OFF_V] + i] = (inst - work[V, l, i]) / fp[l, TAU_R, i]
        if ip[l, OFF_W] >= 0:
            rate = sc[l, 1] if learning else 0.0
            for i in range(n):
                ei = work[E, l, i]
                for j in range(m):
                    pre = x[j] if l == 0 else work[R, l - 1, j]
                    dy[ip[l, OFF_W] + i * m + j] = rate * (ei * pre)
                dy[ip[l, OFF_B] + i] = rate * ei
    for l in range(tip.shape[0]):
        for i in range(tip[l, N]):
            dy[tip[l, OFF_U] + i] = (twork[S, l, i] - twork[U, l, i]) / tfp[l, TAU_M, i]


@njit(cache=True)
def rhs(dy, x, target, y, learning, ip, fp, sc, Wst, tip, tfp, tWst, beta, mode, loop, guess, resid):
    """dy/dt at one state; returns the γ-loop iterations, or −1 (dy untouched) if the loop failed."""
    L, width, fan = Wst.shape
    work = np.zeros((WORK_ROWS, L, width))
    Wg = np.empty((L, width, fan))
    Lt, twidth, tfan = tWst.shape
    twork = np.zeros((WORK_ROWS, Lt, twidth))
    Wg_t = np.empty((Lt, twidth, tfan))
    return rhs_in(dy, x, target, y, learning, ip, fp, sc, Wst, tip, tfp, tWst, beta, mode, loop, guess, resid,
                  work, Wg, twork, Wg_t)


@njit(cache=True)
def rhs_in(dy, x, target, y, learning, ip, fp, sc, Wst, tip, tfp, tWst, beta, mode, loop, guess, resid,
           work, Wg, twork, Wg_t):
    """:func:`rhs` in caller-owned work arrays (zeroed once: every entry read is written first, or stays 0)."""
    it = evaluate(x, target, y, ip, fp, sc, Wst, tip, tfp, tWst, beta, mode, loop, guess, resid, work, Wg, twork, Wg_t)
    if it >= 0:
        assemble(dy, y, x, work, ip, fp, sc, tip, tfp, twork, learning, mode)
    return it


@njit(cache=True)
def rk4_steps(y, k0, k1, dt, learn_after, every, xs, targets, out, ip, fp, sc, Wst, tip, tfp, tWst,
              beta, mode, loop, guess, resid, stats):
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
    work, Wg = np.zeros((WORK_ROWS,) + Wst.shape[:2]), np.zeros(Wst.shape)
    twork, Wg_t = np.zeros((WORK_ROWS,) + tWst.shape[:2]), np.zeros(tWst.shape)
    h2, h6 = dt / 2, dt / 6
    for k in range(k0, k1):
        t = k * dt
        learn = t >= learn_after - 1e-9 * dt
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
            if tip.shape[0] == 0:
                tgt[:] = targets[row, c]
            it = rhs_in(stages[q], xs[row, c], tgt, ytmp, learn, ip, fp, sc, Wst, tip, tfp, tWst,
                        beta, mode, loop, guess, resid, work, Wg, twork, Wg_t)
            if it < 0:
                return k
            stats[0] = max(stats[0], it)
        for i in range(n):
            y[i] = y[i] + h6 * (((k1v[i] + 2 * k2v[i]) + 2 * k3v[i]) + k4v[i])
        if (k + 1) % every == 0:
            out[(k + 1) // every] = y
    return k1


# ----------------------------------------------------------------------------
# Packing (Python side)
# ----------------------------------------------------------------------------


@dataclass
class Layer:
    """Per-layer constants of the continuous equations."""

    n: int
    m: int
    tau_m: np.ndarray
    tau_r: np.ndarray
    k_u: np.ndarray  # 1 − τr/τm: weight of u in ŭ
    k_s: np.ndarray  # τr/τm: weight of the summed input in ŭ
    k_v: np.ndarray  # 1 − τm/τr: weight of v in e
    k_p: np.ndarray  # τm/τr: weight of r′ε in e
    code: int  # activation code of the compiled φ (analogvle.activations.activate)
    gamma: float
    eta: float


def elaborate(net: NetworkSpec) -> list[Layer]:
    """Per-layer constants of a network (the ratios the equations use)."""
    out = []
    for layer in net.layers:
        ratio = layer.tau_r / layer.tau_m
        out.append(
            Layer(
                n=layer.size,
                m=layer.fan_in,
                tau_m=layer.tau_m,
                tau_r=layer.tau_r,
                k_u=1.0 - ratio,
                k_s=ratio,
                k_v=1.0 - 1.0 / ratio,
                k_p=1.0 / ratio,
                code=ACTIVATIONS[layer.phi].code,
                gamma=layer.gamma,
                eta=layer.eta,
            )
        )
    return out


def pack(net: NetworkSpec | None, offset: Callable[[str], int], prefix: str) -> tuple[np.ndarray, ...]:
    """The kernels' arrays (ip, fp, sc, Wst) of one network; ``offset(name)`` is a state slot's start or −1."""
    if net is None:
        return np.zeros((0, 7), np.int64), np.zeros((0, 7, 1)), np.zeros((0, 2)), np.zeros((0, 1, 1))
    lays = elaborate(net)
    L, width, fan = len(lays), max(lay.n for lay in lays), max(lay.m for lay in lays)
    ip = np.zeros((L, 7), np.int64)
    fp = np.zeros((L, 7, width))
    sc = np.zeros((L, 2))
    Wst = np.zeros((L, width, fan))
    for l, (lay, ls) in enumerate(zip(lays, net.layers)):
        i = l + 1
        ip[l] = (lay.n, lay.m, lay.code, offset(f"{prefix}u{i}"), offset(f"{prefix}v{i}"),
                 offset(f"{prefix}W{i}"), offset(f"{prefix}b{i}"))
        for row, vec in enumerate((lay.tau_m, lay.tau_r, lay.k_u, lay.k_s, lay.k_v, lay.k_p, ls.bias)):
            fp[l, row, : lay.n] = vec
        sc[l] = (lay.gamma, lay.eta)
        Wst[l, : lay.n, : lay.m] = ls.weights
    return ip, fp, sc, Wst


def new_work(Wst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zeroed ``work`` and ``Wg`` arrays for a network packed with static weights ``Wst``."""
    L, width, fan = Wst.shape
    return np.zeros((WORK_ROWS, L, width)), np.zeros((L, width, fan))
