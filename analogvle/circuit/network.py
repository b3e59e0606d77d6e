"""Network elaboration shared by every realization: one block per term of EQUATIONS.md.

Node names (lower case): ``s_l{l}_n{i}`` summing node (voltage-input cells
only), ``u_`` membrane, ``uhat_`` prospective potential, ``r_`` rate, ``q_``
error sum, ``p_`` r′⊙ε (voltage-input cells only), ``v_`` error state, ``e_``
error, ``w_l{l}_n{i}_j{j}`` plastic weight, ``b_l{l}_n{i}`` plastic bias;
inputs ``x_n{c}``, target ``target_n{i}``. Every voltage is v_scale volts per
model unit (a weight too).

With a current-input cell (the ideal realization) every current that feeds a
neuron (synapses, bias, nudging, noise) flows straight into ŭ, and r′⊙ε into e:
a forward neuron has three unknowns (ŭ, u, r) and no branch current. A rate
is a current g_unit·v_scale·φ(ŭ) into a 1/g_unit load, so it needs no branch
current either.

Behavioural (B) elements appear only for φ(ŭ), φ′(ŭ)·ε (one element: the
derivative and its product) and the products of plastic synapses; linear
terms are R, C, G and E.
"""

from __future__ import annotations

from dataclasses import dataclass

from analogvle.circuit.cells import Builder
from analogvle.circuit.ir import bcurrent, bvoltage, capacitor, isource, resistor, vccs, vcvs
from analogvle.circuit.nonideal import (
    limited_node,
    noise_source,
    offset_term,
    output_resistance,
    tanh_input,
    weight_rail,
)
from analogvle.circuit.passes import R_MAX
from analogvle.formatting import format_number
from analogvle.model.activations import ACTIVATIONS
from analogvle.model.expr import Expr, Mul, Node, Scaled, product, substitute
from analogvle.model.network import LayerSpec, NetworkSpec

#: leak time constant of a plastic weight's capacitor, model time units (a reported non-ideality)
WEIGHT_LEAK_TAU = 1e8


def node(kind: str, layer: int, neuron: int) -> str:
    return f"{kind}_l{layer}_n{neuron}"


def weight_node(layer: int, i: int, j: int) -> str:
    return f"w_l{layer}_n{i}_j{j}"


@dataclass(frozen=True)
class NetworkNodes:
    """Where a built network's signals are (node names per layer, bottom to top)."""

    u: list[list[str]]
    uhat: list[list[str]]
    r: list[list[str]]
    v: list[list[str]]
    e: list[list[str]]
    w: dict[int, list[list[str]]]  # plastic layers only
    bias: dict[int, list[str]]


def _phi_arg(b: Builder, uhat: str) -> Expr:
    """φ's argument in model units: V(ŭ)/v_scale."""
    vs = b.scales.v_scale
    return Node(uhat) if vs == 1.0 else Node(uhat) / vs


def build_network(
    b: Builder,
    net: NetworkSpec,
    *,
    label: str,
    inputs: list[str],
    errors: str,
    target: list[str] | None = None,
    top_rates: list[str] | None = None,
    learn_gate: str | None = None,
) -> NetworkNodes:
    """Add the forward path, the error path (``errors``) and plasticity of ``net``.

    ``inputs`` are the x nodes; ``target`` the target nodes (needed when errors
    are on); ``top_rates`` renames the top layer's rate nodes (a teacher's
    output port); ``learn_gate`` a 0/1 V node gating learning (None: always on).
    """
    L = len(net.layers)
    nodes = NetworkNodes([], [], [], [], [], {}, {})
    errors_on = errors != "none"
    for l, layer in enumerate(net.layers, 1):
        pre = inputs if l == 1 else nodes.r[-1]
        rates = top_rates if (l == L and top_rates is not None) else [node("r", l, i) for i in range(layer.size)]
        nodes.u.append([node("u", l, i) for i in range(layer.size)])
        nodes.uhat.append([node("uhat", l, i) for i in range(layer.size)])
        nodes.r.append(rates)
        nodes.v.append([node("v", l, i) for i in range(layer.size)] if errors == "prospective" else
                       [node("e", l, i) for i in range(layer.size)])
        nodes.e.append([node("e", l, i) for i in range(layer.size)])
        if layer.plastic:
            nodes.w[l] = [[weight_node(l, i, j) for j in range(layer.fan_in)] for i in range(layer.size)]
        if layer.learns_bias:
            nodes.bias[l] = [node("b", l, i) for i in range(layer.size)]
        b.comment("")
        b.comment(f"==== {label} layer {l}: {layer.size} neuron(s), phi = {layer.phi}, fan-in {layer.fan_in}"
                  f"{', plastic' if layer.plastic else ''}")
        for i in range(layer.size):
            _forward_neuron(b, net, l, i, pre, nodes, label=label, errors_on=errors_on)
    if errors_on:
        for l in range(L, 0, -1):
            layer = net.layers[l - 1]
            b.comment("")
            b.comment(f"==== {label} layer {l}: error neurons ({errors})")
            for i in range(layer.size):
                _error_neuron(b, net, l, i, nodes, label=label, errors=errors, target=target)
        for l, layer in enumerate(net.layers, 1):
            if layer.plastic:
                pre = inputs if l == 1 else nodes.r[l - 2]
                _plasticity(b, layer, l, pre, nodes, label=label, learn_gate=learn_gate)
    return nodes


def _forward_neuron(b: Builder, net, l: int, i: int, pre: list[str], nodes: NetworkNodes, *, label: str,
                    errors_on: bool) -> None:
    sc = b.scales
    layer = net.layers[l - 1]
    tag = f"l{l}_n{i}"
    owner = f"{label} layer {l} neuron {i}"
    uhat = node("uhat", l, i)
    current = b.cells.current_input
    b.comment(f"-- {owner}: tau_m = {format_number(layer.tau_m[i])}, tau_r = {format_number(layer.tau_r[i])}")
    if current:
        # the cell's input is the current into uhat: g_unit*s with s = W r_prev + b + gamma e
        into = uhat
        b.comment("synapses inject g_unit*(W r_prev + b + gamma e) straight into uhat (the cell's current input)")
    else:
        into = node("s", l, i)
        b.comment("summing node: V(s) = W r_prev + b + gamma e  (1/g_unit to ground, synapses W*g_unit)")
        b.add(resistor(f"Rs_{tag}", into, "0", 1.0 / sc.g_unit, owner=owner, role="summing resistor 1/g_unit"))
    n_gm = 0  # transconductors feeding the node (for their output resistance)
    for j, src in enumerate(pre):
        if layer.plastic:
            w = weight_node(l, i, j)
            b.add(bcurrent(f"Bw_{tag}_j{j}", into,
                           Scaled(sc.g_unit / sc.v_scale, product(Node(w), tanh_input(b, src))),
                           owner=owner, role=f"plastic synapse from input {j}: g_unit*W*r"))
            n_gm += 1
        elif layer.weights[i, j] != 0.0:
            _synapse(b, f"w_{tag}_j{j}", into, src, layer.weights[i, j] * sc.g_unit, owner=owner,
                     role=f"synapse from input {j}: W*g_unit")
            n_gm += 1
    if layer.learns_bias:
        b.add(vccs(f"Gb_{tag}", into, node("b", l, i), "0", sc.g_unit, owner=owner, role="plastic bias: g_unit*V(b)"))
        n_gm += 1
    elif layer.bias[i] != 0.0:
        b.add(isource(f"Ib_{tag}", into, layer.bias[i] * sc.v_scale * sc.g_unit, owner=owner, role="bias b*g_unit"))
    if errors_on and layer.gamma != 0.0:
        b.add(vccs(f"Gg_{tag}", into, node("e", l, i), "0", layer.gamma * sc.g_unit, owner=owner,
                   role="nudging gamma*e*g_unit"))
        n_gm += 1
    output_resistance(b, f"Rso_{tag}", into, n_gm, owner=owner)
    noise_source(b, f"Gnz_{tag}", into, tag, owner=owner)
    b.comment("membrane tau_m du/dt = -u + s and prospective potential uhat = u + tau_r du/dt:")
    b.comment("uhat = (1 + s tau_r)/(1 + s tau_m) applied to s; u = 1/(1 + s tau_m) applied to s")
    taus = {"tau_num": float(layer.tau_r[i]), "tau_den": float(layer.tau_m[i])}
    if current:
        b.cells.current_cell(b, role="m", tag=tag, out=uhat, state=node("u", l, i), owner=owner, **taus)
    else:
        b.cells.filter_cell(b, role="m", tag=tag, inp=into, out=uhat, state=node("u", l, i), stiff=False,
                            owner=owner, **taus)
    r = nodes.r[l - 1][i]
    b.comment(f"rate r = phi(uhat), phi = {layer.phi}: a current g_unit*v_scale*phi into 1/g_unit")
    if layer.phi == "linear":
        b.add(vccs(f"Gr_{tag}", r, uhat, "0", sc.g_unit, owner=owner, role="linear rate current g_unit*V(uhat)"))
    else:
        expr = substitute(ACTIVATIONS[layer.phi].expr_phi, {"x": _phi_arg(b, uhat)})
        b.add(bcurrent(f"Br_{tag}", r, product(sc.g_unit * sc.v_scale, expr), owner=owner,
                       role=f"rate current g_unit*v_scale*phi, phi = {layer.phi}"))
    b.add(resistor(f"Rr_{tag}", r, "0", 1.0 / sc.g_unit, owner=owner, role="rate load 1/g_unit (V(r) = v_scale*phi)"))


def _error_neuron(b: Builder, net, l: int, i: int, nodes: NetworkNodes, *, label: str, errors: str,
                  target: list[str] | None) -> None:
    sc = b.scales
    L = len(net.layers)
    layer = net.layers[l - 1]
    tag = f"l{l}_n{i}"
    owner = f"{label} layer {l} neuron {i}"
    linear = layer.phi == "linear"
    e = node("e", l, i)
    # current-input cell: p = r' eps is the current into e (no p node); a linear neuron sums eps straight into e
    current = b.cells.current_input and errors == "prospective"
    q = e if (current and linear) else node("q", l, i)
    b.comment(f"-- {owner}: error")
    if q != e:
        b.add(resistor(f"Rq_{tag}", q, "0", 1.0 / sc.g_unit, owner=owner, role="error summing resistor 1/g_unit"))
    n_gm = 0  # transconductors feeding q (for their output resistance)
    if l == L:
        b.comment("top: eps = beta (target - r)  (one VCCS on the difference)")
        if net.beta != 0.0:
            b.add(vccs(f"Gt_{tag}", q, target[i], nodes.r[l - 1][i], net.beta * sc.g_unit, owner=owner,
                       role="beta*g_unit*(target - r)"))
            n_gm += 1
    else:
        above = net.layers[l]
        b.comment(f"hidden: eps = W_{l + 1}^T e_{l + 1}  (transposed synapses)")
        for k in range(above.size):
            e_k = node("e", l + 1, k)
            if above.plastic:
                w = weight_node(l + 1, k, i)
                expr = Scaled(sc.g_unit / sc.v_scale, product(Node(w), tanh_input(b, e_k)))
                b.add(bcurrent(f"Bwt_{tag}_k{k}", q, expr, owner=owner,
                               role=f"transposed plastic synapse from error {k} of layer {l + 1}"))
                n_gm += 1
            elif above.weights[k, i] != 0.0:
                _synapse(b, f"wt_{tag}_k{k}", q, e_k, above.weights[k, i] * sc.g_unit, owner=owner,
                         role=f"transposed synapse from error {k} of layer {l + 1}")
                n_gm += 1
    output_resistance(b, f"Rqo_{tag}", q, n_gm, owner=owner)
    uhat = node("uhat", l, i)
    p = node("p", l, i) if errors == "prospective" else e
    if current and not linear:
        b.comment("p = r' eps = phi'(uhat) * eps: a current g_unit*phi'(uhat)*V(q) into e (one behavioural source)")
        expr = product(sc.g_unit, substitute(ACTIVATIONS[layer.phi].expr_dphi, {"x": _phi_arg(b, uhat)}), Node(q))
        b.add(bcurrent(f"Bp_{tag}", e, expr, owner=owner, role=f"g_unit*phi'(uhat)*eps, phi = {layer.phi}"))
    elif not current and linear:
        b.comment("p = r' eps = eps (linear: r' = 1, a unity VCVS)")
        b.add(vcvs(f"Ep_{tag}", p, "0", q, "0", 1.0, owner=owner, role="r' eps with r' = 1"))
    elif not current:
        b.comment("p = r' eps = phi'(uhat) * eps  (phi' and the product in one behavioural source)")
        expr = product(substitute(ACTIVATIONS[layer.phi].expr_dphi, {"x": _phi_arg(b, uhat)}), Node(q))
        b.add(bvoltage(f"Bp_{tag}", p, expr, owner=owner, role=f"phi'(uhat)*eps, phi = {layer.phi}"))
    if errors != "prospective":
        return
    b.comment("error neuron: tau_r dv/dt = -v + p, e = v + tau_m dv/dt: e = (1 + s tau_m)/(1 + s tau_r) p")
    taus = {"tau_num": float(layer.tau_m[i]), "tau_den": float(layer.tau_r[i])}
    if current:
        b.cells.current_cell(b, role="v", tag=tag, out=e, state=node("v", l, i), owner=owner, **taus)
    else:
        b.cells.filter_cell(b, role="v", tag=tag, inp=p, out=e, state=node("v", l, i), stiff=True, owner=owner,
                            **taus)


def _plasticity(b: Builder, layer: LayerSpec, l: int, pre: list[str], nodes: NetworkNodes, *, label: str,
                learn_gate: str | None) -> None:
    sc = b.scales
    c = sc.c_unit
    leak_tau = b.nonideal.leak_tau  # None: only the DC path every capacitor-only node needs
    r_leak = leak_tau * sc.time_scale / c if leak_tau is not None else min(WEIGHT_LEAK_TAU * sc.time_scale / c, R_MAX)
    tau_leak = r_leak * c / sc.time_scale
    what = "weight/bias" if layer.learns_bias else "weight"
    b.notes.append(f"{label} layer {l}: {what} capacitors leak through {format_number(r_leak)} Ohm "
                   f"(time constant {tau_leak:.3g} model time units)")
    offset = offset_term(b)  # multiplier offset (non-ideality), 0 when off
    # I = C dV/dt with V = v_scale*W, dW/dt = eta e r  ->  I = C*eta/(v_scale*time_scale) * V(e) V(r)
    k_w = c * layer.eta / (sc.v_scale * sc.time_scale)
    k_b = c * layer.eta / sc.time_scale  # I = C*eta/time_scale * V(e)
    gate = (Node(learn_gate),) if learn_gate else ()
    b.comment("")
    b.comment(f"==== {label} layer {l}: plasticity dW/dt = eta e r_prev^T"
              f"{', db/dt = eta e' if layer.learns_bias else ' (biases fixed)'} (eta = {format_number(layer.eta)})")
    b.comment("each weight is the voltage of its capacitor (v_scale V per unit; initial value = spec weight)")
    for i in range(layer.size):
        tag = f"l{l}_n{i}"
        owner = f"{label} layer {l} neuron {i}"
        e = Node(node("e", l, i))
        for j, src in enumerate(pre):
            w = weight_node(l, i, j)
            wt = f"{tag}_j{j}"
            b.add(capacitor(f"Cw_{wt}", w, "0", c, layer.weights[i, j] * sc.v_scale, owner=owner,
                            role=f"weight {j} capacitor"))
            b.add(resistor(f"Rwl_{wt}", w, "0", r_leak, owner=owner, role="weight leak (DC path, non-ideality)"))
            factor = Mul((e, Node(src))) if not offset else Mul((e, Node(src))) + offset
            b.add(bcurrent(f"Bdw_{wt}", w, Scaled(k_w, Mul((factor, *gate))),
                           owner=owner, role="learning current C*eta*e*r" + (" (+ multiplier offset)" if offset else "")))
            weight_rail(b, f"Bwr_{wt}", w, owner=owner)
        if not layer.learns_bias:
            continue
        bn = node("b", l, i)
        b.add(capacitor(f"Cb_{tag}", bn, "0", c, layer.bias[i] * sc.v_scale, owner=owner, role="bias capacitor"))
        b.add(resistor(f"Rbl_{tag}", bn, "0", r_leak, owner=owner, role="bias leak (DC path, non-ideality)"))
        weight_rail(b, f"Bbr_{tag}", bn, owner=owner)
        if learn_gate:
            b.add(bcurrent(f"Bdb_{tag}", bn, Scaled(k_b, Mul((e, *gate))), owner=owner,
                           role="bias learning current C*eta*e (gated)"))
        else:
            b.add(vccs(f"Gdb_{tag}", bn, e.name, "0", k_b, owner=owner, role="bias learning current C*eta*e"))


def _synapse(b: Builder, name: str, into: str, src: str, gm: float, *, owner: str, role: str) -> None:
    """A static synapse: the VCCS ``G{name}`` gm·V(src); when limited, gm·V_L·tanh(V(src)/V_L), a VCCS from
    the driving node's shared limited copy (:func:`~analogvle.circuit.nonideal.limited_node`)."""
    if b.nonideal.synapse_linear_range is None:
        b.add(vccs(f"G{name}", into, src, "0", gm, owner=owner, role=role))
    else:
        b.add(vccs(f"G{name}", into, limited_node(b, src, owner=owner), "0", gm, owner=owner,
                   role=role + ", tanh-limited (differential pair)"))


def minimum_b_count(net: NetworkSpec, errors: str, *, gated: bool) -> int:
    """The fewest behavioural elements ``net`` needs: φ, φ′·ε and the products of plasticity.

    Per nonlinear neuron: φ, and φ′·ε when errors are on. Per plastic weight:
    the forward product W·r, the learning product e·r (·gate) and, above layer
    1, the transposed product W·e. Per learning bias: e·gate when ``gated``.
    """
    count = 0
    for l, layer in enumerate(net.layers, 1):
        nonlinear = layer.phi != "linear"
        count += layer.size * nonlinear
        if errors != "none":
            count += layer.size * nonlinear
            if layer.plastic:
                n_w = layer.size * layer.fan_in
                count += n_w * (3 if l > 1 else 2) + (layer.size if gated and layer.learns_bias else 0)
    return count
