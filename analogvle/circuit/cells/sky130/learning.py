"""Plasticity on sky130 transistors: weights and biases on MIM capacitors, learning currents η·e·r from Gilbert cells.

Per plastic synapse (layer 1, input channel j → neuron i):

- the weight is the voltage of a MIM capacitor C_w (``weight_cap``), read by
  the forward Gilbert synapse through the measured map W = Wmax·tanh(κw(Vw −
  VWCM − w0)/2UT); it starts at the spec's weight (``.ic``: held while the
  operating point is solved);
- a learning multiplier (``gilbert`` with level-shifted lower pair, on its own
  bias line) computes A·tanh(κe·e_i VE/2UT)·x_j/XM from the neuron's error
  node (at the error scale VE = VU/S_E) and the input's predistorted pair;
  dW/dt = η e x at W = 0 with C_w sized for η = ETA_DESIGN at the 1 nA line
  (``calibration.json``: LEARN_M, C_w); the line is LEARN_M·S_E·η/ETA_DESIGN ×
  LEARN_GAIN (the measured slope of the 4 nA line against 4× the 1 nA one);
- a ``learn_gate`` (two transmission gates, ideal control voltages lrn/lrnb
  stepping at learn_after) steers that current into the capacitor, or before
  learn_after into a dump node held at VWCM by an ideal source per synapse,
  whose current is the multiplier's offset while the network is at rest: the
  calibration reads it and sets a trim current at the multiplier's output
  (``m_l1_n{i}_j{j}``, model units of I0: a chip's offset-trim DAC).

Plastic layers ≥ 2 (presynaptic tanh neurons) and plastic biases use the same
cells with the presynaptic ŭ node (or, for a bias, a pair held switched: x = 1)
on the Gilbert cells' upper quad in place of the input's predistorted pair
(``gilbert_r``): that quad computes tanh(ŭ) = r itself (VU = 2UT/κ), not x/XM,
so its tails are the layer-1 ones divided by XM, times a measured correction
(GIL_R_M, LEARN_R_M); the weight map W(Vw), C_w and the learning line are
layer 1's. The same forward cell, with the error node on its upper quad,
is the plastic transposed path W_ki·e_k into the layer-below's ε node.

The rest of the error path runs at the error scale S_E when the network
learns: layer-1 errors reach ~3 units, 220 mV at VU, outside the linear
transconductors' ±150 mV and the learning multiplier's bilinear range.
"""

from __future__ import annotations

from analogvle.circuit.cells.sky130 import library as lib
from analogvle.circuit.cells.sky130.pdk import IREF, VDD
from analogvle.circuit.ir import Dc, Pwl, instance, isource, vsource
from analogvle.formatting import format_number

S_E = 4.0  # error nodes: V = VCM + e·VU/S_E when the network learns
ETA_DESIGN = 0.02  # the learning rate C_w was sized for, at LEARN_M·IREF and the VU error scale
LEARN_GAIN = 1.0613  # measured: the learning multiplier's slope on a 4 nA line is 5.8 % below 4x the 1 nA one
GATE_EDGE = 0.01  # model time units: rise time of the learn_after control step
LEARN_BUS = ("vdd", "0", "nbl", "ncl", "pcl")
# Layers >= 2 and biases: the Gilbert cells' upper quad reads ŭ against VCM (tanh(ŭ) = r), not the input's x/XM.
# Tails measured (benchmarks/bench_sky130_gilbert_r.py, tt, DC sweeps, ngspice + PDK): a forward Gilbert of tail GIL_M/XM
# gives 0.934-0.957 x W tanh(ŭ) I0 over |ŭ| <= 2 (0.957 at x = 1, a switched pair), so its tail is 1.58 x IREF (mean
# 0.95 corrected; against today's loaded map W(Vw) it gives 0.988-1.012 with its output held, and the 1.05 stands in
# for the node loss that map includes, 1/0.945); a learning multiplier of tail 1/XM on the learning line gives 6.76-6.95e-11 A per unit e r at the
# 1 nA line and VU/4 (vs 5.85e-11 per unit e x of layer 1's at x = 1): its tail is 0.213 of the line.
GIL_R_M = 1.58
LEARN_R_M = 0.213
X_ON = ("cm", "wref")  # a bias's "presynaptic rate" r = 1: the upper quad held switched (VCM against VWCM: 450 mV)


def weight_storage(e, owner: str, node: str, weight: float, volts: float) -> None:
    """The weight capacitor on ``node``, starting at ``volts`` (the spec's ``weight``)."""
    cell = lib.weight_cap(e.cells, "weight_cap", e.cal.C_w)
    e.add_instance(f"XW_{node}", (node, "0"), cell, owner, f"weight storage, W(0) = {format_number(weight)}")
    e.c.ics[node] = volts


def learning_line(e, eta: float) -> None:
    """The learning multipliers' bias line (its own reference current) and the learn_after control voltages."""
    cal, c = e.cal, e.c
    iref = cal.LEARN_M * S_E * eta / ETA_DESIGN * LEARN_GAIN * IREF * e.bias_scale
    e.learn_iref = iref
    c.comment("")
    c.comment(f"==== learning: multipliers on their own bias line ({format_number(iref)} A: eta = {format_number(eta)}),"
              " learn_after gates, weight capacitors")
    c.add(instance("XBL", LEARN_BUS, lib.bias_ref(e.cells, "bias_learn", iref), owner="learning",
                   role="learning-rate bias line (a chip's DAC)"))
    if e.calibrating:  # start-up calibration: the weights hold, the multipliers' currents go to the dump sources
        lrn, lrnb = Dc(0.0), Dc(VDD)
    else:
        t0 = e.spec.time.learn_after * e.T
        edge = GATE_EDGE * e.T
        if t0 > 0:
            lrn = Pwl(((0.0, 0.0), (max(t0 - edge, 0.0), 0.0), (t0, VDD)))
            lrnb = Pwl(((0.0, VDD), (max(t0 - edge, 0.0), VDD), (t0, 0.0)))
        else:
            lrn, lrnb = Dc(VDD), Dc(0.0)
    c.add(vsource("VLRN", "lrn", "0", lrn, owner="learning", role="learn_after control (ideal)"))
    c.add(vsource("VLRNB", "lrnb", "0", lrnb, owner="learning", role="learn_after control, inverted (ideal)"))


def learning_synapse(e, l: int, i: int, j: int | None, pre: tuple[str, str], e_node: str, w_node: str, owner: str,
                     eta_ratio: float = 1.0) -> str:
    """Multiplier η·e_i·r_j into the weight capacitor through the gate; returns its dump source's name.

    Layer 1: r_j = x_j through the input's predistorted pair (``learn_gil``); layers ≥ 2: ``pre`` is the
    presynaptic ŭ against VCM (``learn_gil_r``, tail LEARN_R_M, × ``eta_ratio`` = η_l/η of the line); ``j`` None:
    the bias, ``pre`` = X_ON (r = 1).
    """
    cal, c = e.cal, e.c
    tag = f"l{l}_n{i}_" + ("b" if j is None else f"j{j}")
    lo, dump = f"lo_{tag}", f"dump_{tag}"
    if l == 1 and j is not None:
        mult = lib.gilbert(e.cells, "learn_gil", 1.0, shift=True)
        # on its own line: tail + two output copies + two follower tails of that line's current (design share)
        e.cells.supply[mult] = 4 * e.learn_iref / e.bias_scale
    else:
        m = LEARN_R_M * eta_ratio
        mult = lib.gilbert(e.cells, f"learn_gil_r_m{lib._tag(m)}", m, shift=True)
        e.cells.supply[mult] = (2 * m + 2) * e.learn_iref / e.bias_scale
    gate = lib.learn_gate(e.cells)
    ip, in_ = pre
    e.add_instance(f"XLM_{tag}", (ip, in_, e_node, "cm", lo, *LEARN_BUS), mult, owner,
                   "learning multiplier eta e x (learning rule)")
    e.add_instance(f"XLG_{tag}", (lo, w_node, dump, "lrn", "lrnb", "vdd", "0"), gate, owner, "learn_after gate")
    c.add(vsource(f"VDUMP_{tag}", dump, "0", Dc(cal.VWCM), owner="learning",
                  role="dump reference VWCM before learn_after (its current: the multiplier's offset)"))
    trim = e.trims.get(f"m_{tag}", 0.0)
    if trim:
        c.add(isource(f"ITM_{tag}", lo, trim * cal.I0 * e.bias_scale, owner=owner,
                      role="learning-multiplier offset trim (ideal trim DAC, set by the calibration)"))
    return f"VDUMP_{tag}"
