"""The network on sky130 transistors: spec → circuit, one cell instance per term, with the measured mapping.

Forward path (EQUATIONS.md), per neuron i of layer l with a = τr/τm ≤ 1:

- layer 1: the input x is a differential current pair IX0(1 ± x/XM) (ideal
  sources: the chip's input) predistorted by ``x_in``; each synapse is a forward
  Gilbert cell whose weight is a voltage (W = Wmax·tanh(κw(Vw − VWCM)/2UT), the
  measured map; an ideal reference here, a capacitor when plasticity is on);
- layers ≥ 2: each synapse is a ``tanh_syn`` pair on the presynaptic ŭ node:
  it computes W·tanh(ŭ) itself (tail |W|·I0 from the measured table, sign by
  swapping its inputs); from a linear layer a ``lin_gm`` of |W|·G; a plastic
  layer's synapse is a forward Gilbert cell reading its weight capacitor with
  ŭ on the upper quad (``gil_r``, :mod:`.learning`), and a learned bias the
  same cell with that quad held switched (r = 1) reading a bias capacitor;
- a = 1 (Latent Equilibrium): ŭ = s, the node ``uhat`` is a load G = I0/VU;
- a < 1: the ``membrane`` cell; y (= u) receives I0·s, z (= ŭ) a second copy
  of every synapse with tail a·|W|: z = (1 − a)u + a·s;
- r = φ(ŭ) is not a node of its own (the next layer's pairs compute it); each
  tanh neuron has an r-probe, a unit synapse into a 1 MΩ sense resistor to VCM
  (instrumentation, outside the network); a linear neuron's r is its ŭ node.

Supplies, VCM, the bias generator and the trim references (measured offsets)
are ideal sources. No B element and no ideal E/G.
"""

from __future__ import annotations

import numpy as np

from analogvle.circuit.cells.sky130 import learning
from analogvle.circuit.cells.sky130 import library as lib
from analogvle.circuit.cells.sky130.calibration import Calibration
from analogvle.circuit.cells.sky130.pdk import UT
from analogvle.circuit.cells.sky130.scope import check_spec
from analogvle.circuit.ir import Circuit, Dc, Samples, Sin, instance, isource, resistor, sampled_source, vsource
from analogvle.circuit.probes import Probe
from analogvle.errors import NetlistError
from analogvle.formatting import format_number
from analogvle.model.network import NetworkSpec
from analogvle.model.spec import Spec

BUS = ("vdd", "0", "nb", "nc", "pc")
R_SENSE = 1e6  # Ω: r-probe sense resistor (instrumentation), 4.5 mV per unit of r at bias_scale 1
RANGE_UH = 2.05  # |ŭ| the cells were characterized over
# model time units: the error path's parasitic delay in front of a filtered error neuron (node capacitances over
# G = I0/VU), measured on LagNet's learning circuit at bias_scale 1 (at 4 it needs almost none: README, "Bias
# current"; benchmarks/bench_sky130_signal.py, compare.attribution.error_lags): local lags 0.02-0.03 per error stage
# with an r' cell plus 0.007 from the output stage feeding them; 0.035 is the value of the scan (0, 0.02, 0.035)
# whose learning signal <e1 x> came closest to the reference's (0.05 overshoots by about as much: 0.075 against
# 0.070; bench_sky130_signal.py --lags). The error neuron is built for tau_r - ERROR_LAG (C and
# a = tau_m/(tau_r - ERROR_LAG)), which adds that much lead: (1 + s tm)/((1 + s tr')(1 + s lag)) ~ (1 + s tm)/(1 + s tr)
ERROR_LAG = 0.035


class Elaboration:
    """Builds the network circuit; ``probes`` and ``notes`` are filled on the way."""

    def __init__(self, spec: Spec, cal: Calibration, circuit: Circuit, trims: dict[str, float],
                 calibrating: bool = False):
        self.spec, self.cal, self.c, self.trims = spec, cal, circuit, trims
        self.calibrating = calibrating
        self.bias_scale = spec.circuit.bias_scale  # every bias and input current x this: time unit / this
        self.T = cal.T_unit_s / self.bias_scale
        self.s_e = learning.S_E if spec.network.plastic else 1.0  # error nodes at VU/s_e
        self.plastic: list[tuple[int, int, int, str, str]] = []  # (l, i, j, weight node, owner)
        self.cells = lib.CellSet()
        self.probes: dict[str, Probe] = {}
        self.counts: dict[str, int] = {}
        self.weight_nodes: set[str] = set()

    def add_instance(self, name: str, ports: tuple[str, ...], cell: str, owner: str, role: str) -> None:
        self.c.add(instance(name, ports, cell, owner=owner, role=role))
        kind = cell.split("_m")[0] if cell.startswith(("syn", "gil")) else cell
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def references(self) -> None:
        cal = self.cal
        c = self.c
        c.comment("")
        c.comment("==== supply, common mode, bias generator and trim references (ideal: the chip's bias circuits)")
        c.add(vsource("VDD", "vdd", "0", Dc(1.8), owner="supply", role="VDD 1.8 V"))
        c.add(vsource("VCM", "cm", "0", Dc(cal.VCM), owner="references", role="VCM: model zero"))
        c.add(instance("XB", BUS, lib.bias_ref(self.cells, iref=lib.IREF * self.bias_scale), owner="references",
                       role="bias generator"))
        c.add(vsource("VRS", "rs", "0", Dc(cal.VREF_SYN), owner="references",
                      role="synapse reference VCM - measured tanh_syn offset"))
        c.add(vsource("VGP", "gp", "0", Dc(cal.VREF_GP), owner="references", role="lin_gm + reference (offset trim)"))
        c.add(vsource("VGN", "gn", "0", Dc(cal.VREF_GN), owner="references", role="lin_gm - reference (offset trim)"))

    def inputs(self) -> list[tuple[str, str]]:
        """x(t) as current pairs IX0(1 ± x/XM) into ``x_in``; returns each channel's (ip, in) nodes."""
        inp, cal = self.spec.input, self.cal
        ix0 = cal.IX0 * self.bias_scale
        xin = lib.x_in(self.cells, ix0=ix0)
        peak = [float(np.sum(np.abs(a))) for a in inp.amplitudes]
        if max(peak) > 0.8 * cal.XM:
            raise NetlistError(f"input amplitude {max(peak):g} exceeds the sky130 input cell's range "
                               f"(|x| <= {0.8 * cal.XM:g})")
        self.c.comment("")
        self.c.comment(f"==== input x(t) = sum a_k sin(omega_k t + phase_k) as currents IX0 (1 +- x/XM), "
                       f"IX0 = {format_number(ix0)} A, XM = {format_number(cal.XM)} (ideal input sources)")
        pairs = []
        for ch in range(inp.channels):
            ip, in_ = f"xp_n{ch}", f"xn_n{ch}"
            self.c.add(isource(f"IXP{ch}", ip, ix0, source="vdd", owner=f"input {ch}", role="IX0"))
            self.c.add(isource(f"IXN{ch}", in_, ix0, source="vdd", owner=f"input {ch}", role="IX0"))
            for k, (w, a, ph) in enumerate(zip(inp.omegas[ch], inp.amplitudes[ch], inp.phases[ch])):
                wave = Sin(0.0, ix0 * a / cal.XM, w / (2 * np.pi * self.T), 0.0, 0.0, float(np.degrees(ph)))
                self.c.add(isource(f"IXP{ch}_{k}", ip, wave, owner=f"input {ch}", role=f"+ IX0 x_{k}/XM"))
                self.c.add(isource(f"IXN{ch}_{k}", "0", wave, source=in_, owner=f"input {ch}", role=f"- IX0 x_{k}/XM"))
            self.add_instance(f"XIN{ch}", (ip, in_, "0"), xin, f"input {ch}", "predistortion")
            pairs.append((ip, in_))
        return pairs

    def synapse(self, name: str, tag: str, l: int, w: float, pre: tuple[str, str] | str, pre_linear: bool,
                into: str, scale: float, owner: str, gain: float = 1.0) -> None:
        """One synapse of weight ``w`` (its current scaled by ``scale``: the a·W copy) from ``pre`` into ``into``,
        a fixed one sized up by 1/``gain`` (its node's measured DC gain)."""
        cal = self.cal
        plastic = self.spec.network.layers[l - 1].plastic
        if l == 1 or plastic:  # Gilbert cell, weight as a voltage (an x_in pair or ŭ on the upper quad)
            ip, in_ = pre if l == 1 else (pre, "cm")
            vw = f"w_{tag}"
            _, i, j = tag.split("_")
            self.weight_node(vw, w, plastic, (l, int(i[1:]), int(j[1:])), owner)
            if l == 1:
                tail = cal.GIL_M * scale
                cell = lib.gilbert(self.cells, f"gil_m{_tag(tail)}", tail)
            else:
                tail = learning.GIL_R_M * scale
                cell = lib.gilbert(self.cells, f"gil_r_m{_tag(tail)}", tail)
            self.add_instance(f"X{name}", (ip, in_, vw, "wref", into, *BUS), cell, owner,
                              f"W x, W = {format_number(w)}" + (f", copy x {format_number(scale)}" if scale != 1 else ""))
            return
        inp, inn = (pre, "rs") if w > 0 else ("rs", pre)
        if pre_linear:
            m = cal.gm_multiplier(abs(w) * scale * cal.G / gain)
            cell = lib.lin_gm(self.cells, f"syngm_m{_tag(m)}", m)
            inp, inn = (pre, "gn") if w > 0 else ("gp", pre)
        else:
            m = cal.synapse_tail(abs(w) * scale / gain)
            cell = lib.tanh_syn(self.cells, f"syn_m{_tag(m)}", m)
        self.add_instance(f"X{name}", (inp, inn, into, *BUS), cell, owner, f"W r, W = {format_number(w * scale)}")

    def weight_node(self, node: str, w: float, plastic: bool, where: tuple, owner: str, what: str = "") -> None:
        """The voltage of weight (or bias) ``w`` on ``node``, once per node (a synapse and its a·W copy share it):
        a capacitor registered as plastic at ``where`` = (l, i, j or None), else a held source."""
        if node in self.weight_nodes:
            return
        self.weight_nodes.add(node)
        try:
            volts = self.cal.weight_voltage(w)
        except ValueError as exc:
            raise NetlistError(f"{owner}: {what}{exc}") from exc
        if plastic:
            learning.weight_storage(self, owner, node, w, volts)
            self.plastic.append((*where, node, owner))
        else:
            self.c.add(vsource(f"V{node}", node, "0", Dc(volts), owner=owner,
                               role=f"weight {format_number(w)} as a voltage (held: plasticity off)"))

    def bias_synapse(self, l: int, i: int, b: float, into: str, scale: float, suffix: str, owner: str) -> None:
        """A learned bias: a forward Gilbert cell on the bias capacitor with its upper quad held switched (r = 1)."""
        vb = f"w_l{l}_n{i}_b"
        self.weight_node(vb, b, True, (l, i, None), owner, what="bias ")
        tail = learning.GIL_R_M * scale
        cell = lib.gilbert(self.cells, f"gil_r_m{_tag(tail)}", tail)
        self.add_instance(f"XSB{suffix}_l{l}_n{i}", (*learning.X_ON, vb, "wref", into, *BUS), cell, owner,
                          f"b (learned), b = {format_number(b)}" + (f", copy x {format_number(scale)}" if scale != 1 else ""))

    def layer(self, net: NetworkSpec, l: int, pre, pre_linear: bool) -> list[str]:
        """Layer ``l``'s neurons; returns their ŭ nodes."""
        cal, layer = self.cal, net.layers[l - 1]
        self.c.comment("")
        self.c.comment(f"==== layer {l}: {layer.size} neuron(s), phi = {layer.phi}, fan-in {layer.fan_in}")
        uhat, u = [], []
        for i in range(layer.size):
            owner = f"layer {l} neuron {i}"
            tm, tr = float(layer.tau_m[i]), float(layer.tau_r[i])
            a = tr / tm
            z, y = f"uhat_l{l}_n{i}", f"u_l{l}_n{i}"
            self.c.comment(f"-- {owner}: tau_m = {format_number(tm)}, tau_r = {format_number(tr)}")
            targets = [(z, a)] if a < 1 else [(z, 1.0)]
            if a < 1:
                targets.insert(0, (y, 1.0))
                c_mem = cal.C_membrane * tm / cal.C_membrane_tau_m
                m_u = cal.gm_multiplier((1 - a) * cal.G)
                cell = lib.membrane(self.cells, f"membrane_a{_tag(a)}_tm{_tag(tm)}", a, c_mem, cal.m_load, m_u)
                self.add_instance(f"XM_l{l}_n{i}", (y, z, "gp", "gn", *BUS), cell, owner,
                                  f"membrane tau_m = {format_number(tm)}, uh = (1-a) u + a s")
                u.append(y)
            else:
                self.add_instance(f"XL_l{l}_n{i}", ("gp", z, z, *BUS), lib.lin_gm(self.cells, "load_gm", cal.m_load),
                                  owner, "load G: uh = s (tau_r = tau_m)")
            gain = self.trims.get(f"g_l{l}_n{i}", 1.0)  # measured by analogvle.simulate.trim.node_gains
            for node, scale in targets:
                suffix = "" if node == z and a >= 1 else ("y" if node == y else "z")
                for j, src in enumerate(pre):
                    w = float(layer.weights[i, j])
                    if w != 0.0 or layer.plastic:
                        self.synapse(f"S{suffix}_l{l}_n{i}_j{j}", f"l{l}_n{i}_j{j}", l, w, src, pre_linear, node,
                                     scale, owner, gain)
                b = float(layer.bias[i]) / gain + self.trims.get(f"l{l}_n{i}", 0.0)
                if layer.learns_bias:  # b on a capacitor (a weight on r = 1); the ideal current keeps the trim only
                    self.bias_synapse(l, i, float(layer.bias[i]), node, scale, suffix, owner)
                    b -= float(layer.bias[i])
                if b != 0.0:
                    self.c.add(isource(f"IB{suffix}_l{l}_n{i}", node, b * scale * cal.I0 * self.bias_scale, owner=owner,
                                       role="bias (b + offset trim) I0 (ideal reference current)"))
            uhat.append(z)
        vu, vcm = cal.VU, cal.VCM
        n = (layer.size,)
        self.probes[f"layer{l}/uhat"] = Probe(tuple(uhat), n, vu, vcm)
        if len(u) == layer.size:
            self.probes[f"layer{l}/u"] = Probe(tuple(u), n, vu, vcm)
        if layer.phi == "linear":
            self.probes[f"layer{l}/r"] = Probe(tuple(uhat), n, vu, vcm)
        else:
            probe = lib.tanh_syn(self.cells, f"syn_m{_tag(cal.synapse_tail(1.0))}", cal.synapse_tail(1.0))
            nodes = []
            for i, z in enumerate(uhat):
                rp = f"rp_l{l}_n{i}"
                self.add_instance(f"XR_l{l}_n{i}", (z, "rs", rp, *BUS), probe, "probe", "r-probe unit synapse")
                self.c.add(resistor(f"Rsense_l{l}_n{i}", rp, "cm", R_SENSE, owner="probe",
                                    role="r-probe sense resistor (instrumentation)"))
                nodes.append(rp)
            self.probes[f"layer{l}/r"] = Probe(tuple(nodes), n, cal.I0 * self.bias_scale * R_SENSE, vcm)
        return uhat


    @staticmethod
    def filtered(net: NetworkSpec, l: int, i: int) -> bool:
        """Whether neuron i of layer l has an error cell (prospective errors, τr ≠ τm)."""
        layer = net.layers[l - 1]
        return net.errors == "prospective" and float(layer.tau_m[i]) != float(layer.tau_r[i])

    def error_neuron(self, net: NetworkSpec, l: int, i: int, eps_sources: list, owner: str) -> str:
        """The error neuron of layer ``l`` neuron ``i``: ε from ``eps_sources`` → p = r′ε → e; returns the e node."""
        cal, layer = self.cal, net.layers[l - 1]
        tm, tr = float(layer.tau_m[i]), float(layer.tau_r[i])
        filtered = self.filtered(net, l, i)
        tr_cell = tr - min(ERROR_LAG, tr / 2) if filtered else tr  # the parasitic lag comes off the cell's tau_r
        a = tm / tr_cell
        e = f"e_l{l}_n{i}"
        p = f"p_l{l}_n{i}" if filtered else e
        load = lib.lin_gm(self.cells, "load_gm", cal.m_load)
        self.c.comment(f"-- {owner}: error, a = tau_m/tau_r' = {format_number(a)}" + (
            f" (tau_r' = tau_r - {format_number(tr - tr_cell)}: the error path's parasitic lag)" if filtered else ""))
        # the error offset trim enters p, or, below a plastic layer, the ε node q before r': offsets upstream of r'
        # (the W^T e Gilbert products') are scaled by r'(uh), so a trim at p nulls them at uh = 0 only and leaves
        # r'-dependent e offsets that drive learned biases away (measured: b1 ran to Wmax in 1000 units)
        at_q = layer.phi != "linear" and l < len(net.layers) and net.layers[l].plastic
        trims = [(f"p_l{l}_n{i}", f"q_l{l}_n{i}" if at_q else p, "error offset trim")] + (
            [(f"eo_l{l}_n{i}", e, "error-cell output trim")] if filtered else [])
        for key, node, role in trims:
            if self.trims.get(key, 0.0):
                self.c.add(isource(f"IT{key}", node, self.trims[key] * cal.I0 * self.bias_scale, owner=owner,
                                   role=f"{role} (ideal trim DAC, set by the calibration)"))
        if filtered:
            c_err = cal.C_error * tr_cell / cal.C_error_tau_r
            cell = lib.error_cell(self.cells, f"error_a{_tag(a)}_tr{_tag(tr_cell)}", a, c_err, cal.m_load)
            self.add_instance(f"XE_l{l}_n{i}", (p, e, "gp", *BUS), cell, owner, "error neuron e = (1+s tm)/(1+s tr) p")
        else:
            self.add_instance(f"XLE_l{l}_n{i}", ("gp", e, e, *BUS), load, owner, "p = e node load G")
        if layer.phi == "linear":
            q = p  # r' = 1: the ε currents go straight into p
        else:
            q = f"q_l{l}_n{i}"
            self.add_instance(f"XLQ_l{l}_n{i}", ("gp", q, q, *BUS), load, owner, "eps node load G")
            cell = lib.dphi_eps(self.cells, "rprime_eps", cal.m_bump, cal.m_load)
            self.add_instance(f"XP_l{l}_n{i}", (f"uhat_l{l}_n{i}", "rd", q, "ge", p, *BUS), cell, owner,
                              "p = phi'(uh) eps (bump-tailed transconductor)")
        # the measured DC gains of the stages this neuron's ε drives (each node's load G plus the output
        # conductance of the cells on it): the ε terms are sized up by them, so p = r'ε and e = p at DC
        gain = cal.EPS_GAIN_GM * (cal.EPS_GAIN_RPRIME if layer.phi != "linear" else 1.0) * (
            cal.EPS_GAIN_ERROR if filtered else 1.0)
        for name, (inp, inn), g in eps_sources:
            m = cal.gm_multiplier(g / gain)
            self.add_instance(name, (inp, inn, q, *BUS), lib.lin_gm(self.cells, f"syngm_m{_tag(m)}", m), owner,
                              f"eps term, G = {g:.4g} S / stage gain {gain:.4f}")
        return e

    def errors(self, net: NetworkSpec, target: list[str]) -> None:
        """Every error neuron, top down: ε = β(target − r) on top, Wᵀe below (lin_gm from the e voltages)."""
        cal, L = self.cal, len(net.layers)
        e_nodes: list[str] = []
        for l in range(L, 0, -1):
            layer = net.layers[l - 1]
            self.c.comment("")
            self.c.comment(f"==== layer {l}: error neurons ({net.errors})")
            made = []
            for i in range(layer.size):
                owner = f"layer {l} neuron {i}"
                if l == L:
                    g = net.beta * cal.G / self.s_e  # ε = β(target − r) at the error scale
                    sources = [(f"XT_l{l}_n{i}", (target[i], f"uhat_l{l}_n{i}"), g)] if net.beta else []
                else:
                    sources = []
                    for k, ek in enumerate(e_nodes):
                        w = float(net.layers[l].weights[k, i])
                        if w != 0.0 and not net.layers[l].plastic:
                            sources.append((f"XWT_l{l}_n{i}_k{k}", (ek, "gn") if w > 0 else ("gp", ek), abs(w) * cal.G))
                made.append(self.error_neuron(net, l, i, sources, owner))
                if l < L and net.layers[l].plastic:  # W_ki e_k from the weight capacitors of layer l + 1
                    q = (f"q_l{l}_n{i}" if layer.phi != "linear" else  # the ε node (error_neuron's q)
                         f"p_l{l}_n{i}" if self.filtered(net, l, i) else f"e_l{l}_n{i}")
                    cell = lib.gilbert(self.cells, f"gil_r_m{_tag(learning.GIL_R_M)}", learning.GIL_R_M)
                    for k, ek in enumerate(e_nodes):
                        self.add_instance(f"XWT_l{l}_n{i}_k{k}", (ek, "cm", f"w_l{l + 1}_n{k}_j{i}", "wref", q, *BUS),
                                          cell, owner, f"eps term W_{k}{i} e_{k} (plastic: Gilbert on the weight capacitor)")
            n = (layer.size,)
            self.probes[f"layer{l}/e"] = Probe(tuple(made), n, cal.VU / self.s_e, cal.VCM)
            if self.calibrating:  # the error neurons' input nodes p (= e for τr = τm), for their offset trims
                self.probes[f"calibration/p{l}"] = Probe(tuple(m.replace("e_", "p_", 1) if self.filtered(net, l, i)
                                                               else m for i, m in enumerate(made)), n, cal.VU, cal.VCM)
            e_nodes = made


    def learning(self, pre: list[tuple[str, str]]) -> dict[str, str]:
        """The plastic weights' learning path; probe name → dump source (the calibration reads their currents)."""
        cal, net = self.cal, self.spec.network
        first = next(layer for layer in net.layers if layer.plastic)
        learning.learning_line(self, float(first.eta))
        dumps = {}
        for l, i, j, vw, owner in self.plastic:
            x = learning.X_ON if j is None else pre[j] if l == 1 else (f"uhat_l{l - 1}_n{j}", "cm")
            ratio = float(net.layers[l - 1].eta) / float(first.eta)
            tag = f"l{l}_n{i}_" + ("b" if j is None else f"j{j}")
            dumps[tag] = learning.learning_synapse(self, l, i, j, x, f"e_l{l}_n{i}", vw, owner, ratio)
        scale, offset = 2 * UT / cal.kappa_w, cal.VWCM + cal.w_offset_V
        for l, layer in enumerate(net.layers, 1):
            if not layer.plastic:
                continue
            nodes = tuple(f"w_l{l}_n{i}_j{j}" for i in range(layer.size) for j in range(layer.fan_in))
            self.probes[f"layer{l}/W"] = Probe(nodes, (layer.size, layer.fan_in), scale, offset, saturation=cal.Wmax)
            if layer.learns_bias:
                self.probes[f"layer{l}/b"] = Probe(tuple(f"w_l{l}_n{i}_b" for i in range(layer.size)), (layer.size,),
                                                   scale, offset, saturation=cal.Wmax)
        if self.calibrating:
            self.probes["calibration/dump"] = Probe(tuple(dumps.values()), (len(dumps),), cal.I0 * self.bias_scale,
                                                    0.0, "i")
        return dumps


def target_nodes(spec: Spec, cal: Calibration, circuit: Circuit, samples, T: float) -> list[str]:
    """The target as an ideal sampled voltage VCM + VU·target (the ideal teacher's output, or the spec's data)."""
    nodes = [f"target_n{i}" for i in range(spec.network.sizes[-1])]
    data, dt = samples
    circuit.comment("")
    circuit.comment("==== target(t): an ideal sampled voltage VCM + VU*target "
                    + ("(the ideal teacher's output)" if spec.teacher is not None else "(the spec's target data)"))
    circuit.add(sampled_source("Atarget", tuple(nodes), Samples(np.asarray(data) + cal.VCM / cal.VU, dt, cal.VU,
                                                                 T, f"{spec.name}_target.txt"),
                               owner="target", role="sampled target"))
    return nodes


def build_network(spec: Spec, cal: Calibration, circuit: Circuit, target=None, trims: dict[str, float] | None = None,
                  calibrating: bool = False) -> tuple[dict[str, Probe], dict[str, int], lib.CellSet]:
    """Add ``spec``'s network to ``circuit``; (probes, cell instance counts, subcircuits).

    ``calibrating``: the start-up calibration's circuit (learn_after gates held off, dump currents probed).
    """
    check_spec(spec)
    e = Elaboration(spec, cal, circuit, trims or {}, calibrating)
    e.references()
    circuit.add(vsource("VWREF", "wref", "0", Dc(cal.VWCM + cal.w_offset_V), owner="references",
                        role="weight reference VWCM + measured offset"))
    pre = inputs = e.inputs()
    pre_linear = False
    for l, layer in enumerate(spec.network.layers, 1):
        uhat = e.layer(spec.network, l, pre, pre_linear)
        pre, pre_linear = uhat, layer.phi == "linear"
    if spec.network.errors != "none":
        circuit.add(vsource("VRD", "rd", "0", Dc(cal.VREF_DPHI), owner="references", role="phi' reference (trim)"))
        circuit.add(vsource("VGE", "ge", "0", Dc(cal.VREF_EPS), owner="references", role="r' eps reference (trim)"))
        nodes = target_nodes(spec, cal, circuit, target, e.T)
        e.probes["target"] = Probe(tuple(nodes), (len(nodes),), cal.VU, cal.VCM)
        e.errors(spec.network, nodes)
    if e.plastic:
        e.learning(inputs)
    # the supply current (ngspice's i(vdd) < 0 while VDD delivers current), in µA
    e.probes["hardware/supply_uA"] = Probe(("vdd",), (1,), -1e-6, 0.0, "i")
    return e.probes, e.counts, e.cells


def _tag(x: float) -> str:
    return f"{x:.4g}".replace(".", "p").replace("-", "m")
