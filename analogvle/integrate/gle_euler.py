"""The ``gle-euler`` reference method: the discrete semantics of the public GLE code.

This is not a discretisation chosen by us but a transcription of how the
public GLE PyTorch code (Ellenberger et al.) steps its networks, so results
can be matched against that code and the paper's figures (EQUATIONS.md, "The
discrete gle-euler semantics"). Step k (t_k = k·dt, model time units):

- every layer reads only values committed at step k−1 (all state starts at
  zero), then all layers commit together: a one-step delay between layers in
  both directions;
- s = W r_{ℓ−1} + b with r₀ = x_k; ε = the previous step's Wᵀe of layer ℓ+1,
  or β (target_k − r_L) with the previous step's r_L; inst = r′_old ⊙ ε;
- prospective errors: v̇ = (inst − v_old)/τr, v ← v_old + dt v̇,
  e = v_old + τm v̇; instantaneous: e = v = inst; "none": e = 0;
- u̇ = (s + γ e − u_old)/τm, u ← u_old + dt u̇, ŭ = u_old + τr u̇,
  r = φ(ŭ), r′ = φ′(ŭ); sent down: Wᵀe with this step's W;
- after the step, plastic layers with t_k ≥ learn_after:
  W ← W + (η·dt) e r_{ℓ−1}ᵀ, and b ← b + (η·dt) e where the layer learns its bias;
- a teacher runs the same steps without errors; target_k is its output at
  step k, i.e. its r_L committed at step k−1 (or ``[target]`` data[k]).

The saved point at t_k holds the state committed at step k−1 (before step k),
so ``layer{L}/r`` at t_k is the network's output at step k; ``x`` and
``target`` at t_k are the values step k consumes; ``W`` and ``b`` at t_k are
the ones step k uses.

The time loop is one numba kernel over float64 arrays (one thread). Because
e does not depend on this step's s, all errors are computed first; then each
layer, top down, makes one pass over its W that does the forward product
W r, the backward product Wᵀe and the rank-1 update together.
"""

from __future__ import annotations

import math
import time as _time

import numpy as np
from numba import njit
from numba.typed import List
from tqdm import tqdm

from analogvle.integrate.packing import ERROR_CODES, NO_ERRORS, PROSPECTIVE, pack_network
from analogvle.model.activations import activate
from analogvle.model.inputs import input_values
from analogvle.model.network import NetworkSpec
from analogvle.model.spec import Spec, check_fixed_step
from analogvle.model.terms import leaky_rate, look_ahead, nudge, signal_name
from analogvle.model.trajectory import Trajectory, producer_meta

CHUNK_STEPS = 4096  # most steps per kernel call: bounds the memory of the sampled input
CHUNK_WORK = 2e7  # synapse updates per kernel call (~20 ms): Ctrl-C and the progress bar get a turn between calls


# ----------------------------------------------------------------------------
# Kernel
# ----------------------------------------------------------------------------


@njit(cache=True, fastmath={"reassoc", "contract"})
def _weight_pass(W, pre, e, b, s, sent, n, m, backward, lr, lr_b):
    """One pass over W (n × m): s = W pre + b; sent = Wᵀe (if ``backward``); W += lr e preᵀ; b += lr_b e.

    ``sent`` uses W before the update; ``lr`` = η·dt, or 0 for no update (likewise ``lr_b`` for b).
    Performance: the input is copied and Wᵀe summed into fresh buffers (so the
    compiler sees no aliasing with W), and the fused loop takes two rows at a
    time (half the traffic on those buffers); the loop vectorises.
    """
    x = pre[:m].copy()
    if not backward and lr == 0.0 and lr_b == 0.0:
        for i in range(n):
            row = W[i]
            acc = 0.0
            for j in range(m):
                acc += row[j] * x[j]
            s[i] = acc + b[i]
        return
    back = np.zeros(m)
    for i in range(0, n - 1, 2):
        w0, w1 = W[i], W[i + 1]
        e0, e1 = e[i], e[i + 1]
        c0, c1 = lr * e0, lr * e1
        acc0 = 0.0
        acc1 = 0.0
        for j in range(m):
            a, c, xj = w0[j], w1[j], x[j]
            acc0 += a * xj
            acc1 += c * xj
            back[j] += a * e0 + c * e1
            w0[j] = a + c0 * xj
            w1[j] = c + c1 * xj
        s[i] = acc0 + b[i]
        s[i + 1] = acc1 + b[i + 1]
    if n % 2 == 1:  # the last, odd row
        i = n - 1
        w0, e0, c0 = W[i], e[i], lr * e[i]
        acc0 = 0.0
        for j in range(m):
            a, xj = w0[j], x[j]
            acc0 += a * xj
            back[j] += a * e0
            w0[j] = a + c0 * xj
        s[i] = acc0 + b[i]
    if backward:
        sent[:m] = back
    if lr_b != 0.0:
        for i in range(n):
            b[i] += lr_b * e[i]


@njit(cache=True)
def _network_step(net, W, b, state, x, target, beta, mode, learning, dt):
    """Advance one network (constants ``net``, weights ``W``, biases ``b``) by one step of dt, in place."""
    u, v, r, rp, uh, e, sent, s = state
    n_layers = net.sizes.shape[0]
    top = n_layers - 1
    # 1. errors, from the previous step's r′, Wᵀe of the layer above and r_L
    if mode != NO_ERRORS:
        for l in range(n_layers):
            for i in range(net.sizes[l]):
                if l == top:
                    eps = nudge(beta, target[i], r[top, i])
                else:
                    eps = sent[l + 1, i]
                inst = rp[l, i] * eps
                if mode == PROSPECTIVE:
                    vdot = leaky_rate(inst, v[l, i], net.tau_r[l, i])
                    e[l, i] = look_ahead(v[l, i], vdot, net.tau_m[l, i])
                    v[l, i] = v[l, i] + dt * vdot
                else:
                    e[l, i] = inst
                    v[l, i] = inst
    # 2. top down, so that r[l - 1] is still the previous step's when layer l reads it
    for l in range(top, -1, -1):
        n = net.sizes[l]
        pre = x if l == 0 else r[l - 1]
        lr = net.eta[l] * dt if (learning and net.plastic[l]) else 0.0
        lr_b = lr if net.learn_bias[l] else 0.0
        backward = mode != NO_ERRORS and l > 0
        _weight_pass(W[l], pre, e[l], b[l], s, sent[l], n, net.fans[l], backward, lr, lr_b)
        g = net.gamma[l]
        for i in range(n):
            udot = leaky_rate(s[i] + g * e[l, i], u[l, i], net.tau_m[l, i])
            uh[l, i] = look_ahead(u[l, i], udot, net.tau_r[l, i])
            u[l, i] = u[l, i] + dt * udot
        activate(net.codes[l], uh[l], r[l], rp[l], n)


@njit(cache=True)
def _run(k0, k1, clock, beta, mode, xs, targets, net, W, b, state, has_teacher, teacher, tW, tb, teacher_state, rec):
    """Steps k0 .. k1−1 (stopping at n_steps), recording every ``save_every``-th point.

    ``clock`` = (n_steps, save_every, learn_start, dt); ``xs[k − k0]`` is x_k;
    ``targets[k − k0]`` the sampled target_k when there is no teacher;
    ``rec`` = (u, ŭ, r, v, e, b, W list, target) record arrays.
    """
    n_steps, save_every, learn_start, dt = clock
    u_rec, uh_rec, r_rec, v_rec, e_rec, b_rec, W_rec, target_rec = rec
    u, v, r, uh, e = state[0], state[1], state[2], state[4], state[5]
    n_layers = net.sizes.shape[0]
    t_top = teacher.sizes.shape[0] - 1
    n_out = net.sizes[n_layers - 1]
    for k in range(k0, k1):
        if has_teacher:
            target = teacher_state[2][t_top, :n_out]  # the teacher's output at step k
        else:
            target = targets[k - k0]
        if k % save_every == 0:
            p = k // save_every
            u_rec[p] = u
            uh_rec[p] = uh
            r_rec[p] = r
            if mode != NO_ERRORS:
                v_rec[p] = v
                e_rec[p] = e
            for l in range(n_layers):
                if net.plastic[l]:
                    W_rec[l][p] = W[l, : net.sizes[l], : net.fans[l]]
                if net.learn_bias[l]:
                    b_rec[p, l] = b[l]
            target_rec[p] = target
        if k == n_steps:
            break
        _network_step(net, W, b, state, xs[k - k0], target, beta, mode, k >= learn_start, dt)
        if has_teacher:
            _network_step(teacher, tW, tb, teacher_state, xs[k - k0], target, 0.0, NO_ERRORS, False, dt)


# ----------------------------------------------------------------------------
# Python side
# ----------------------------------------------------------------------------


def _zero_state(net: NetworkSpec) -> tuple:
    """u, v, r, r′, ŭ, e, Wᵀe (to the layer below) and a scratch s, all zero."""
    n_layers, width = len(net.layers), max(net.sizes)
    fan = max(layer.fan_in for layer in net.layers)
    vectors = tuple(np.zeros((n_layers, width)) for _ in range(6))
    return (*vectors, np.zeros((n_layers, fan)), np.zeros(width))


def integrate_gle_euler(spec: Spec, *, progress: bool = False) -> Trajectory:
    """Run the spec with the public GLE code's discrete semantics; trajectory on the save grid.

    Times in model time units; all signals in model units (see the module docstring
    for what each saved point holds).
    """
    check_fixed_step(spec, "gle-euler")
    start = _time.perf_counter()
    net, tm = spec.network, spec.time
    dt, n_steps, every = tm.dt, tm.n_steps, tm.save_every
    n_save = n_steps // every + 1
    mode = ERROR_CODES[net.errors]
    n_layers, width, n_out = len(net.layers), max(net.sizes), net.sizes[-1]
    # first k with t_k >= learn_after (up to round-off in learn_after/dt)
    learn_start = max(0, math.ceil(tm.learn_after / dt - 1e-9))
    clock = (n_steps, every, learn_start, dt)

    packed, state = pack_network(net), _zero_state(net)
    W, b = packed.W.copy(), packed.bias.copy()  # the weights and biases this run changes
    has_teacher = spec.teacher is not None
    teacher_net = spec.teacher if has_teacher else net  # a placeholder the kernel never steps
    teacher, teacher_state = pack_network(teacher_net), _zero_state(teacher_net)

    errors_on = mode != NO_ERRORS
    rec = (
        np.zeros((n_save, n_layers, width)),
        np.zeros((n_save, n_layers, width)),
        np.zeros((n_save, n_layers, width)),
        np.zeros((n_save, n_layers, width) if errors_on else (1, n_layers, width)),
        np.zeros((n_save, n_layers, width) if errors_on else (1, n_layers, width)),
        np.zeros((n_save, n_layers, width)),
        List([np.zeros((n_save if layer.plastic else 0, layer.size, layer.fan_in)) for layer in net.layers]),
        np.zeros((n_save, n_out)),
    )

    x_saved = []
    no_target = np.zeros((1, n_out))
    synapses = sum(layer.size * layer.fan_in for n in (net, spec.teacher) if n is not None for layer in n.layers)
    chunk = int(max(1, min(CHUNK_STEPS, CHUNK_WORK // max(1, synapses))))
    with tqdm(total=n_steps, desc="gle-euler", unit="step", delay=2.0, mininterval=1.0, leave=False,
              disable=not progress) as bar:
        for k0 in range(0, n_steps + 1, chunk):
            k1 = min(k0 + chunk, n_steps + 1)
            ks = np.arange(k0, k1)
            xs = np.ascontiguousarray(input_values(spec.input, ks * dt, dt), dtype=np.float64)
            targets = np.ascontiguousarray(spec.target.data[k0:k1], dtype=np.float64) if spec.target else no_target
            _run(k0, k1, clock, net.beta, mode, xs, targets, packed, W, b, state, has_teacher, teacher, teacher.W,
                 teacher.bias, teacher_state, rec)
            x_saved.append(xs[ks % every == 0])
            bar.update(min(k1, n_steps) - min(k0, n_steps))

    u_rec, uh_rec, r_rec, v_rec, e_rec, b_rec, W_rec, target_rec = rec
    signals: dict[str, np.ndarray] = {"x": np.concatenate(x_saved)}
    if spec.has_target:
        signals["target"] = target_rec
    for l, layer in enumerate(net.layers):
        n, name = layer.size, l + 1
        signals[signal_name(name, "u")] = np.ascontiguousarray(u_rec[:, l, :n])
        signals[signal_name(name, "uhat")] = np.ascontiguousarray(uh_rec[:, l, :n])
        signals[signal_name(name, "r")] = np.ascontiguousarray(r_rec[:, l, :n])
        if errors_on:
            signals[signal_name(name, "v")] = np.ascontiguousarray(v_rec[:, l, :n])
            signals[signal_name(name, "e")] = np.ascontiguousarray(e_rec[:, l, :n])
        if layer.plastic:
            signals[signal_name(name, "W")] = W_rec[l]
        if layer.learns_bias:
            signals[signal_name(name, "b")] = np.ascontiguousarray(b_rec[:, l, :n])
    wall = _time.perf_counter() - start
    meta = producer_meta(spec, {"kind": "reference", "method": "gle-euler"}, wall)
    return Trajectory(t=tm.save_times, signals=signals, meta=meta, spec=spec)
