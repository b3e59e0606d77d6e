"""The sky130 cell library: one subcircuit per role, built from sky130_fd_pr nfet/pfet devices and MIM capacitors.

Every cell ends with the bus ports ``vdd vss nb nc pc`` (:data:`BUS`): nb is
the gate line of the nfet tail sources (an nfet W = m·WT, L = LT at gate nb
sinks m·IREF), nc / pc the nfet / pfet cascode gates. The only ideal elements
are in :func:`bias_ref` (the chip's bias generator: one reference current and
two cascode voltages); no cell holds a B element or an ideal E/G.

Signal convention (the numbers come from the characterization, :mod:`.calibration`):
a model quantity q on a node is the voltage VCM + q·VU with VU = 2UT/κ of the
plain nfet pair, so a differential pair computes tanh(q) without a gain stage;
a synaptic current is q·I0; a load ``lin_gm`` of conductance G = I0/VU turns a
current back into a node voltage; time is τ = C/G.

The PDK subcircuit's ``mult`` does not multiply the current (only the mismatch
σ), so every ratio here is a real width. Geometry in µm.
"""

from __future__ import annotations

import math

from analogvle.circuit.cells.sky130.pdk import CAP, IREF, NFET, PFET, VNCAS, VPCAS, mim_side
from analogvle.circuit.ir import Dc, Subckt, instance, isource, vsource

BUS = ("vdd", "vss", "nb", "nc", "pc")
WT, LT = 2.0, 4.0  # tail / bias-mirror nfet (long L: high output resistance)
WN, LN = 4.0, 2.0  # input pair nfet
WP, LP = 4.0, 4.0  # pfet mirror
# Gilbert output mirrors, pfet and nfet. The pfets were 2/8: at a 240 nA tail (bias_scale 4) their Vsg left the
# upper quad no headroom and the cell collapsed; 4/4 (same area, 4x W/L) keeps it working there, and 8/8 (4x the
# gate capacitance) cost 20 % of the forward nrmse at bias_scale 1 (measured, README "Bias current")
WPG, LPG, WNG, LNG = 4.0, 4.0, 2.0, 8.0
GM_W, GM_L = 1.0, 2.0  # lin_gm unit devices
A_DOUBLET = 4.5  # lin_gm width ratio (cubic cancels at 3.73; 4.5 = measured equiripple optimum over ±150 mV)
WMIN, LMAX = 0.5, 20.0  # keep every device inside the model bins (wmin 0.42 µm, lmax 20 µm)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


class CellSet:
    """Subcircuit definitions, each once by name, in the order they were first needed."""

    def __init__(self) -> None:
        self.subckts: dict[str, Subckt] = {}
        self.supply: dict[str, float] = {}  # design supply current of each cell (A)

    def has(self, name: str) -> bool:
        return name in self.subckts

    def add(self, sub: Subckt, supply: float = 0.0) -> str:
        """Add ``sub`` (once) with its design supply current: tails plus the copies its mirrors draw."""
        self.subckts.setdefault(sub.name, sub)
        self.supply.setdefault(sub.name, supply)
        return sub.name


def _fet(sub: Subckt, name: str, d: str, g: str, s: str, kind: str, w: float, l: float) -> None:
    model, bulk = (NFET, "vss") if kind == "n" else (PFET, "vdd")
    sub.add(instance(f"X{name}", (d, g, s, bulk), model, params={"w": round(w, 4), "l": round(l, 4)},
                     owner=sub.name, role=f"{kind}fet {w:.3g}/{l:.3g}"))


def _cap(sub: Subckt, name: str, a: str, b: str, c_farad: float) -> None:
    side = mim_side(c_farad)
    sub.add(instance(f"X{name}", (a, b), CAP, params={"w": round(side, 4), "l": round(side, 4)}, owner=sub.name,
                     role=f"MIM capacitor {c_farad:.4g} F ({side:.1f} µm square)"))


def _tail(sub: Subckt, tag: str, node: str, m: float) -> None:
    """nfet current sink m·IREF: W = m·WT at LT, or (small m) W = WMIN with L stretched (series above LMAX)."""
    w, l = m * WT, LT
    if w < WMIN:
        l, w = LT * WMIN / w, WMIN
    n = math.ceil(l / LMAX - 1e-9)
    nodes = [node] + [f"t{tag}_s{k}" for k in range(1, n)] + ["vss"]
    for k in range(n):
        _fet(sub, f"T{tag}" + (f"_{k}" if n > 1 else ""), nodes[k], "nb", nodes[k + 1], "n", w, l / n)


def _mirror(sub: Subckt, tag: str, diode: str, out: str, w: float, l: float, kind: str = "p",
            cas: str = "pc") -> None:
    """High-swing cascoded current mirror: current into ``diode`` is copied into ``out``."""
    rail = "vdd" if kind == "p" else "vss"
    _fet(sub, f"{tag}1", f"{tag}y1", diode, rail, kind, w, l)
    _fet(sub, f"{tag}C1", diode, cas, f"{tag}y1", kind, w, l)
    _fet(sub, f"{tag}2", f"{tag}y2", diode, rail, kind, w, l)
    _fet(sub, f"{tag}C2", out, cas, f"{tag}y2", kind, w, l)


def bias_ref(cells: CellSet, name: str = "bias_ref", iref: float = IREF) -> str:
    """The bias generator: the only ideal elements of the realization (a chip's bandgap and DACs)."""
    sub = Subckt(name, BUS)
    sub.comment(f"{name}: bias generator. IREF = {_fmt(iref)} A into a diode nfet W/L = {WT}/{LT} sets V(nb):")
    sub.comment(f"  any nfet W = m*{WT}, L = {LT} with gate nb sinks m*IREF. nc = {VNCAS} V, pc = {VPCAS} V cascode gates")
    sub.add(isource("IREF", "nb", iref, source="vdd", owner=name, role="reference current (ideal bias generator)"))
    _fet(sub, "D", "nb", "nb", "vss", "n", WT, LT)
    sub.add(vsource("VNC", "nc", "vss", Dc(VNCAS), owner=name, role="nfet cascode reference (ideal)"))
    sub.add(vsource("VPC", "pc", "vss", Dc(VPCAS), owner=name, role="pfet cascode reference (ideal)"))
    return cells.add(sub, iref)


def tanh_syn(cells: CellSet, name: str, m: float) -> str:
    """Differential pair into a cascoded pfet mirror: I(out) = m·IREF·tanh(κ(V(inp) − V(inn))/2UT)."""
    if cells.has(name):
        return name
    sub = Subckt(name, ("inp", "inn", "out", *BUS))
    sub.comment(f"{name}: rate x weight, I(out) = {_fmt(m)}*IREF*tanh(kappa (V(inp)-V(inn))/2UT), into out")
    sub.comment("  model: W*r with r = tanh(uh), uh = (V(inp)-VCM)/VU; W = tail/I0 (sign: swap inp/inn)")
    sub.comment(f"  bias: tail {_fmt(m)}*IREF; nfet pair {WN}/{LN}, cascoded pfet mirror {WP}/{LP}; 7 transistors")
    _fet(sub, "M1", "x", "inp", "t", "n", WN, LN)
    _fet(sub, "M2", "out", "inn", "t", "n", WN, LN)
    _mirror(sub, "P", "x", "out", WP, LP)
    _tail(sub, "", "t", m)
    return cells.add(sub, m * IREF)


def lin_gm(cells: CellSet, name: str, m: float, *, wscale: float | None = None) -> str:
    """Wide-linear-range transconductor: I(out) = G·(V(inp) − V(inn)), G ≈ m·g1 (measured)."""
    if cells.has(name):
        return name
    ws = m if wscale is None else wscale
    wn = round(max(GM_W * ws, WMIN), 3)
    wp = round(max(GM_W * ws, WMIN), 3)
    wa = round(A_DOUBLET * wn, 3)
    sub = Subckt(name, ("inp", "inn", "out", *BUS))
    sub.comment(f"{name}: linear transconductor, I(out) = G*(V(inp)-V(inn)) into out, G = {_fmt(m)}*g1 (measured)")
    sub.comment(f"  source-degenerated doublet: I = {_fmt(m)}*IREF/2*[tanh(x+d)+tanh(x-d)], x = kappa^2/(1+kappa) "
                f"dV/2UT, d = ln({A_DOUBLET})/2")
    sub.comment(f"  bias: two tails of {_fmt(m / 2)}*IREF; cascoded pfet mirror; 14 transistors")
    for tag, (w1, w2), tail in (("A", (wa, wn), "ta"), ("B", (wn, wa), "tb")):
        _fet(sub, f"{tag}1", "x", "inp", f"s{tag}1", "n", w1, GM_L)
        _fet(sub, f"{tag}1D", f"s{tag}1", f"s{tag}1", tail, "n", w1, GM_L)
        _fet(sub, f"{tag}2", "out", "inn", f"s{tag}2", "n", w2, GM_L)
        _fet(sub, f"{tag}2D", f"s{tag}2", f"s{tag}2", tail, "n", w2, GM_L)
    _mirror(sub, "P", "x", "out", wp, GM_L)
    _tail(sub, "A", "ta", m / 2)
    _tail(sub, "B", "tb", m / 2)
    return cells.add(sub, m * IREF)


def membrane(cells: CellSet, name: str, a: float, c_farad: float, m_load: float, m_u: float) -> str:
    """Representation neuron, current input: y = u (membrane, τm = C/G), z = ŭ = (1 − a)·u + a·s, a = τr/τm < 1.

    Ports ``y z vp vn``: y receives I0·s, z receives a·I0·s (a second synapse copy);
    vp / vn are the lin_gm input references (VCM ± their measured offset).
    """
    load = lin_gm(cells, "load_gm", m_load)
    ucopy = lin_gm(cells, f"ucopy_gm_{_tag(1 - a)}", m_u)
    side = mim_side(c_farad)
    sub = Subckt(name, ("y", "z", "vp", "vn", *BUS))
    sub.comment(f"{name}: membrane and prospective potential, a = tau_r/tau_m = {_fmt(a)}")
    sub.comment(f"  C dy/dt = I(y) - G (y-VCM): y = u, tau_m = C/G, C = {_fmt(c_farad)} F (MIM {side:.1f} um)")
    sub.comment("  G (z-VCM) = I(z) + (1-a) G (y-VCM): z = uh = (1-a) u + a s (I(z) = a I0 s); G = I0/VU")
    sub.comment("  3 lin_gm (load, leak, u copy) + 1 MIM capacitor")
    sub.add(instance("XL", ("vp", "z", "z", *BUS), load, owner=name, role="z load G"))
    _cap(sub, "C", "y", "vss", c_farad)
    sub.add(instance("XLY", ("vp", "y", "y", *BUS), load, owner=name, role="membrane leak G"))
    sub.add(instance("XU", ("y", "vn", "z", *BUS), ucopy, owner=name, role="(1-a) G u copy into z"))
    return cells.add(sub, 2 * cells.supply[load] + cells.supply[ucopy])


def error_cell(cells: CellSet, name: str, a: float, c_farad: float, m_load: float, kf: float = 1 / 3,
               ga_wmax: float = 3.0) -> str:
    """Error neuron: e = p + (a − 1)(p − v), τr dv/dt = p − v, a = τm/τr > 1 (e = (1 + sτm)/(1 + sτr)·p)."""
    load = lin_gm(cells, "load_gm", m_load)
    follow = lin_gm(cells, f"efollow_gm_{_tag(kf)}", m_load * kf)
    lead = lin_gm(cells, f"elead_gm_{_tag(a)}", m_load * kf * (a - 1), wscale=m_load * kf * min(a - 1, ga_wmax))
    side = mim_side(c_farad)
    sub = Subckt(name, ("p", "e", "vcm", *BUS))
    sub.comment(f"{name}: error neuron, a = tau_m/tau_r = {_fmt(a)}, tau_r = C/G, C = {_fmt(c_farad)} F "
                f"(MIM {side:.1f} um)")
    sub.comment("  G (VCM-p) + I(p) = 0: p = I(p)/(I0/VU);  C dv/dt = G (p-v): v;  kf G (p-e) + (a-1) kf G (p-v) = 0:")
    sub.comment("  e = p + (a-1)(p-v) = a p + (1-a) v (at DC e = p whatever the G ratio); 4 lin_gm + 1 MIM capacitor")
    sub.add(instance("XLP", ("vcm", "p", "p", *BUS), load, owner=name, role="p load G"))
    _cap(sub, "C", "v", "vss", c_farad)
    sub.add(instance("XGV", ("p", "v", "v", *BUS), load, owner=name, role="v follower G (tau_r)"))
    sub.add(instance("XF", ("p", "e", "e", *BUS), follow, owner=name, role="e follower kf G"))
    sub.add(instance("XGA", ("p", "v", "e", *BUS), lead, owner=name, role="lead (a-1) kf G (p-v)"))
    return cells.add(sub, 2 * cells.supply[load] + cells.supply[follow] + cells.supply[lead])


def bump_dphi(cells: CellSet, name: str, m: float, k: int = 4, wpb: float = 8.0, lpb: float = 1.0) -> str:
    """φ′ = sech²: I(out) = (k/4)·m·IREF·sech²(κ(V(inp) − V(inn))/2UT), a current correlator of a pair's halves."""
    if cells.has(name):
        return name
    sub = Subckt(name, ("inp", "inn", "out", *BUS))
    sub.comment(f"{name}: r' = phi'(uh) = sech^2(uh), I(out) = {_fmt(k / 4 * m)}*IREF*sech^2(kappa dV/2UT), "
                "from vdd into out")
    sub.comment(f"  correlator I = k I1 I2/(I1+I2) of the pair currents; bias: tail {_fmt(m)}*IREF; "
                f"{5 + 2 * k} transistors")
    _fet(sub, "M1", "x1", "inp", "t", "n", WN, LN)
    _fet(sub, "M2", "x2", "inn", "t", "n", WN, LN)
    _fet(sub, "P1", "x1", "x1", "vdd", "p", wpb, lpb)
    _fet(sub, "P2", "x2", "x2", "vdd", "p", wpb, lpb)
    for j in range(k):
        _fet(sub, f"P3_{j}", "c", "x1", "vdd", "p", wpb, lpb)
        _fet(sub, f"P4_{j}", "out", "x2", "c", "p", wpb, lpb)
    _tail(sub, "", "t", m)
    return cells.add(sub, (1 + k / 4) * m * IREF)


def dphi_eps(cells: CellSet, name: str, m_bump: float, m_gm: float, k: int = 4, wpb: float = 8.0,
             lpb: float = 1.0) -> str:
    """r′·ε: a φ′ bump whose output current is the tail of a linear transconductor on ε.

    I(out) = G(ŭ)·(V(ep) − V(en)), G(ŭ) = Gmax·sech²(κ(V(uhp) − V(uhn))/2UT): the bump's
    correlator current (≈ m_bump·IREF at ŭ = 0) is mirrored (nfet, 1 : ½ : ½) into the two
    tails of a degenerated doublet whose widths are those of a lin_gm of multiplier m_gm;
    in weak inversion its conductance is proportional to the tail current.
    """
    if cells.has(name):
        return name
    ws = round(max(GM_W * m_gm, WMIN), 3)
    wa = round(A_DOUBLET * ws, 3)
    sub = Subckt(name, ("uhp", "uhn", "ep", "en", "out", *BUS))
    sub.comment(f"{name}: p = r' eps, I(out) = Gmax sech^2(kappa (V(uhp)-V(uhn))/2UT) (V(ep)-V(en)), into out")
    sub.comment(f"  bump (tail {_fmt(m_bump)}*IREF, correlator of the pair's halves) -> nfet mirror 1:1/2:1/2 -> tails of a")
    sub.comment(f"  degenerated doublet (lin_gm widths of m = {_fmt(m_gm)}): G proportional to the tail current; "
                f"{5 + 2 * k + 3 + 12} transistors")
    _fet(sub, "M1", "x1", "uhp", "t", "n", WN, LN)
    _fet(sub, "M2", "x2", "uhn", "t", "n", WN, LN)
    _fet(sub, "P1", "x1", "x1", "vdd", "p", wpb, lpb)
    _fet(sub, "P2", "x2", "x2", "vdd", "p", wpb, lpb)
    for j in range(k):
        _fet(sub, f"P3_{j}", "c", "x1", "vdd", "p", wpb, lpb)
        _fet(sub, f"P4_{j}", "bo", "x2", "c", "p", wpb, lpb)
    _tail(sub, "", "t", m_bump)
    _fet(sub, "BD", "bo", "bo", "vss", "n", 2 * WT, LT)
    _fet(sub, "BA", "ta", "bo", "vss", "n", WT, LT)
    _fet(sub, "BB", "tb", "bo", "vss", "n", WT, LT)
    for tag, (w1, w2), tail in (("A", (wa, ws), "ta"), ("B", (ws, wa), "tb")):
        _fet(sub, f"{tag}1", "x", "ep", f"s{tag}1", "n", w1, GM_L)
        _fet(sub, f"{tag}1D", f"s{tag}1", f"s{tag}1", tail, "n", w1, GM_L)
        _fet(sub, f"{tag}2", "out", "en", f"s{tag}2", "n", w2, GM_L)
        _fet(sub, f"{tag}2D", f"s{tag}2", f"s{tag}2", tail, "n", w2, GM_L)
    _mirror(sub, "Q", "x", "out", ws, GM_L)
    return cells.add(sub, 2 * m_bump * IREF)  # the bump's tail, then its correlator current (at ŭ = 0) again


def gilbert(cells: CellSet, name: str, m: float, *, shift: bool = False) -> str:
    """Gilbert multiplier: I(out) = m·IREF·tanh(κl(V(yp) − V(yn))/2UT)·tanh(κ(V(xp) − V(xn))/2UT)."""
    if cells.has(name):
        return name
    sub = Subckt(name, ("xp", "xn", "yp", "yn", "out", *BUS))
    sub.comment(f"{name}: multiplier, I(out) = {_fmt(m)}*IREF*tanh(kl dVy/2UT)*tanh(kappa dVx/2UT), into out")
    sub.comment("  forward plastic synapse (y = weight voltage around 0.75 V, x = input via x_in: W(Vw)*x)")
    sub.comment("  or learning rule (shift: y = e level-shifted by two nfet followers); cascoded output mirrors")
    sub.comment(f"  bias: tail {_fmt(m)}*IREF{' + 2 follower tails IREF' if shift else ''}; "
                f"{21 if shift else 17} transistors")
    yp, yn = ("ypl", "ynl") if shift else ("yp", "yn")
    if shift:
        _fet(sub, "S1", "vdd", "yp", "ypl", "n", WN, LN)
        _fet(sub, "S2", "vdd", "yn", "ynl", "n", WN, LN)
        _tail(sub, "S1", "ypl", 1.0)
        _tail(sub, "S2", "ynl", 1.0)
    _fet(sub, "L1", "d1", yp, "t", "n", WN, LN)
    _fet(sub, "L2", "d2", yn, "t", "n", WN, LN)
    _fet(sub, "U1", "p", "xp", "d1", "n", WN, LN)
    _fet(sub, "U2", "q", "xn", "d1", "n", WN, LN)
    _fet(sub, "U3", "q", "xp", "d2", "n", WN, LN)
    _fet(sub, "U4", "p", "xn", "d2", "n", WN, LN)
    _mirror(sub, "P", "p", "out", WPG, LPG)
    _mirror(sub, "Q", "q", "qm", WPG, LPG)
    _mirror(sub, "N", "qm", "out", WNG, LNG, kind="n", cas="nc")
    _tail(sub, "", "t", m)
    return cells.add(sub, 2 * m * IREF + (2 * IREF if shift else 0.0))  # tail + the output copies


def x_in(cells: CellSet, name: str = "x_in", ix0: float = 0.0) -> str:
    """Input predistortion: currents IX0(1 ± x/XM) into two diode nfets give VU·atanh(x/XM) (a Gilbert quad: x/XM)."""
    sub = Subckt(name, ("ip", "in", "vss"))
    sub.comment(f"{name}: V(ip)-V(in) = VU atanh(x/XM) from the input currents IX0 (1 +- x/XM); 3 transistors")
    _fet(sub, "D1", "ip", "ip", "sx", "n", WN, LN)
    _fet(sub, "D2", "in", "in", "sx", "n", WN, LN)
    _fet(sub, "S", "sx", "sx", "vss", "n", 2 * WN, LN)
    return cells.add(sub, 2 * ix0)  # the input currents it sinks (drawn from VDD by the input sources)


def weight_cap(cells: CellSet, name: str, c_farad: float) -> str:
    """Plastic weight storage: V(w) on a MIM capacitor (no DC path); C dV(w)/dt = the learning current."""
    sub = Subckt(name, ("w", "vss"))
    sub.comment(f"{name}: weight storage, C dV(w)/dt = I_learn, C = {_fmt(c_farad)} F; W = Wmax tanh(kw (Vw-VWCM)/2UT)")
    _cap(sub, "C", "w", "vss", c_farad)
    return cells.add(sub)


def learn_gate(cells: CellSet, name: str = "learn_gate", w: float = 0.5, l: float = 0.5) -> str:
    """The learn_after switch: two transmission gates steer the learning current into the weight or a dump node."""
    sub = Subckt(name, ("in", "w", "dump", "lrn", "lrnb", "vdd", "vss"))
    sub.comment(f"{name}: learn_after gate. lrn high: in -> w (the weight capacitor integrates the learning current);")
    sub.comment("  lrn low: in -> dump (held at VWCM, so the multiplier's output never saturates while the weight holds)")
    sub.comment(f"  two CMOS transmission gates, nfet/pfet {w}/{l}; 4 transistors, no bias current")
    _fet(sub, "TN", "in", "lrn", "w", "n", w, l)
    _fet(sub, "TP", "in", "lrnb", "w", "p", w, l)
    _fet(sub, "DN", "in", "lrnb", "dump", "n", w, l)
    _fet(sub, "DP", "in", "lrn", "dump", "p", w, l)
    return cells.add(sub)


def _tag(x: float) -> str:
    return f"{x:.4g}".replace(".", "p").replace("-", "m")
