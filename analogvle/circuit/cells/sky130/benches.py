"""Test benches of the sky130 cells: each cell alone, driven by ideal sources, for :mod:`analogvle.workflows.characterize`.

Every bench is a complete :class:`~analogvle.circuit.ir.Circuit` (PDK library,
init settings, supply, bias generator, the cell(s), the analyses). Several
copies of a cell share one sweep where that saves an ngspice run (the model
library takes about a second to load). Node ``cm`` is VCM.
"""

from __future__ import annotations

import numpy as np

from analogvle.circuit.cells.sky130 import library as lib
from analogvle.circuit.cells.sky130.pdk import INIT, IREF, OPTIONS, VCM, VDD, model_library
from analogvle.circuit.ir import Ac, Circuit, Dc, DcSweep, Pwl, Tran, ac_isource, instance, isource, vsource

BUS = ("vdd", "0", "nb", "nc", "pc")
SYN_M_GRID = (0.02, 0.03, 0.05, 0.08, 0.12, 0.18, 0.25, 0.35, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)
GM_M_GRID = (0.08, 0.11, 0.15, 0.2, 0.33, 0.5, 0.7, 1.0, 1.4, 1.8, 2.0, 2.2, 3.0, 4.0, 6.0)  # down to G/8 (beta G/S_E)
X_GRID = tuple(np.linspace(-3.0, 3.0, 13))


def _bench(title: str, *, corner: str = "tt", learn_line: float | None = None) -> tuple[Circuit, lib.CellSet]:
    cells = lib.CellSet()
    c = Circuit(title=f"analogvle sky130 bench: {title}", libraries=[model_library(corner)], init=dict(INIT),
                options=dict(OPTIONS))
    bias = lib.bias_ref(cells)
    c.add(vsource("VDD", "vdd", "0", Dc(VDD), owner="bench", role="supply"))
    c.add(vsource("VCM", "cm", "0", Dc(VCM), owner="bench", role="common mode"))
    c.add(instance("XB", BUS, bias, owner="bench", role="bias generator"))
    if learn_line is not None:  # the learning multiplier's own, weaker tail line
        lname = lib.bias_ref(cells, "bias_learn", learn_line * IREF)
        c.add(instance("XBL", ("vdd", "0", "nbl", "ncl", "pcl"), lname, owner="bench", role="learning bias line"))
    return c, cells


def _finish(c: Circuit, cells: lib.CellSet) -> Circuit:
    c.subckts = list(cells.subckts.values())
    return c


def dc_transfer(m_syn: float, m_bump: float) -> Circuit:
    """One VIN sweep (0.8..1.6 V) of: tanh_syn at m_syn (output at VCM, VCM ∓ 150 mV), tanh_syn at every
    SYN_M_GRID tail, lin_gm at m = 1 and every GM_M_GRID multiplier, and the φ′ bump; plus an output sweep of lin_gm."""
    c, cells = _bench("DC transfers of tanh_syn, lin_gm, bump_dphi")
    c.add(vsource("VIN", "inp", "0", Dc(VCM), owner="bench", role="swept input"))
    syn = lib.tanh_syn(cells, "syn", m_syn)
    for k, vo in enumerate((VCM, VCM - 0.15, VCM + 0.15)):
        c.add(vsource(f"VO{k}", f"o{k}", "0", Dc(vo), owner="bench", role="output held (current probe)"))
        c.add(instance(f"XS{k}", ("inp", "cm", f"o{k}", *BUS), syn, owner="bench", role="tanh_syn"))
    for k, m in enumerate(SYN_M_GRID):
        name = lib.tanh_syn(cells, f"syn_m{k}", m)
        c.add(instance(f"XSM{k}", ("inp", "cm", f"om{k}", *BUS), name, owner="bench", role=f"tanh_syn m={m}"))
        c.add(vsource(f"VOM{k}", f"om{k}", "0", Dc(VCM), owner="bench", role="current probe"))
    for k, m in enumerate((1.0, *GM_M_GRID)):
        name = lib.lin_gm(cells, f"gm_m{k}", m)
        c.add(instance(f"XG{k}", ("inp", "cm", f"og{k}", *BUS), name, owner="bench", role=f"lin_gm m={m}"))
        c.add(vsource(f"VOG{k}", f"og{k}", "0", Dc(VCM), owner="bench", role="current probe"))
    bump = lib.bump_dphi(cells, "bump", m_bump)
    c.add(instance("XP", ("inp", "cm", "ob", *BUS), bump, owner="bench", role="bump_dphi"))
    c.add(vsource("VOB", "ob", "0", Dc(0.9), owner="bench", role="current probe"))
    # lin_gm output conductance: input at VCM, output swept
    gm1 = lib.lin_gm(cells, "gm_m0", 1.0)
    c.add(instance("XGO", ("cm", "cm", "oo", *BUS), gm1, owner="bench", role="lin_gm, output swept"))
    c.add(vsource("VOO", "oo", "0", Dc(VCM), owner="bench", role="swept output"))
    c.analyses = [DcSweep("VIN", 0.8, 1.6, 0.002), DcSweep("VOO", 1.0, 1.4, 0.005)]
    return _finish(c, cells)


def neuron(a: float, c_farad: float, m_load: float, m_u: float, vrefs: tuple[float, float], g: float,
           t_unit: float) -> Circuit:
    """The representation neuron (membrane y, prospective z) driven like a synapse pair: AC and a step."""
    c, cells = _bench(f"membrane and prospective potential, tau_r/tau_m = {a:g}")
    cell = lib.membrane(cells, "membrane", a, c_farad, m_load, m_u)
    c.add(vsource("VGP", "gp", "0", Dc(vrefs[0]), owner="bench", role="lin_gm + reference (trim)"))
    c.add(vsource("VGN", "gn", "0", Dc(vrefs[1]), owner="bench", role="lin_gm - reference (trim)"))
    c.add(instance("X1", ("y", "z", "gp", "gn", *BUS), cell, owner="bench", role="neuron"))
    step = 0.5 * 0.0723 * g  # half a model unit
    c.add(ac_isource("IYA", "y", 1.0, owner="bench", role="AC I0 s"))
    c.add(ac_isource("IZA", "z", a, owner="bench", role="AC a I0 s"))
    c.add(isource("IY", "y", Pwl(((0.0, 0.0), (1e-6, 0.0), (1.001e-6, step))), owner="bench", role="step I0 s"))
    c.add(isource("IZ", "z", Pwl(((0.0, 0.0), (1e-6, 0.0), (1.001e-6, a * step))), owner="bench", role="step a I0 s"))
    c.analyses = [Ac(40, 0.01, 1e6), Tran(t_unit / 200, 6 * t_unit, t_unit / 100, uic=False)]
    return _finish(c, cells)


def error(a: float, c_farad: float, m_load: float) -> Circuit:
    """The error neuron, current into p, AC."""
    c, cells = _bench(f"error neuron, tau_m/tau_r = {a:g}")
    cell = lib.error_cell(cells, "error_neuron", a, c_farad, m_load)
    c.add(instance("X1", ("p", "e", "cm", *BUS), cell, owner="bench", role="error neuron"))
    c.add(ac_isource("IP", "p", 1.0, owner="bench", role="AC drive"))
    c.analyses = [Ac(40, 0.01, 1e7)]
    return _finish(c, cells)


def _x_pair(c: Circuit, cells: lib.CellSet, tag: str, x: float, ix0: float, xm: float) -> tuple[str, str]:
    xin = lib.x_in(cells)
    ip, in_ = f"ip{tag}", f"in{tag}"
    c.add(isource(f"IIP{tag}", ip, ix0 * (1 + x / xm), owner="bench", role="input current IX0 (1 + x/XM)"))
    c.add(isource(f"IIN{tag}", in_, ix0 * (1 - x / xm), owner="bench", role="input current IX0 (1 - x/XM)"))
    c.add(instance(f"XIN{tag}", (ip, in_, "0"), xin, owner="bench", role="input predistortion"))
    return ip, in_


def multipliers(gil_m: float, learn_m: float, ix0: float, xm: float, vwcm: float, m_load: float,
                vref_gp: float) -> Circuit:
    """Both Gilbert multipliers at every X_GRID input: the forward one against the weight voltage
    (VY, VWCM ± 100 mV), output held at VCM and, as in the network, into a neuron's load (node ``z<k>``);
    the learning one against e (VE, VCM ± 150 mV)."""
    c, cells = _bench("Gilbert multipliers", learn_line=learn_m)
    fwd = lib.gilbert(cells, "gil_fwd", gil_m)
    lrn = lib.gilbert(cells, "gil_learn", 1.0, shift=True)
    load = lib.lin_gm(cells, "load_gm", m_load)
    c.add(vsource("VGP", "gp", "0", Dc(vref_gp), owner="bench", role="lin_gm + reference (trim)"))
    c.add(vsource("VY", "y", "0", Dc(vwcm), owner="bench", role="weight voltage (swept)"))
    c.add(vsource("VYR", "yr", "0", Dc(vwcm), owner="bench", role="weight reference"))
    c.add(vsource("VE", "ee", "0", Dc(VCM), owner="bench", role="error voltage (swept)"))
    for k, x in enumerate(X_GRID):
        ip, in_ = _x_pair(c, cells, f"f{k}", x, ix0, xm)
        c.add(instance(f"XF{k}", (ip, in_, "y", "yr", f"of{k}", *BUS), fwd, owner="bench", role=f"forward x={x:g}"))
        c.add(vsource(f"VOF{k}", f"of{k}", "0", Dc(VCM), owner="bench", role="current probe"))
        c.add(instance(f"XFZ{k}", (ip, in_, "y", "yr", f"z{k}", *BUS), fwd, owner="bench",
                       role=f"forward x={x:g} into a load"))
        c.add(instance(f"XLZ{k}", ("gp", f"z{k}", f"z{k}", *BUS), load, owner="bench", role="neuron load G"))
        ip, in_ = _x_pair(c, cells, f"l{k}", x, ix0, xm)
        c.add(instance(f"XL{k}", (ip, in_, "ee", "cm", f"ol{k}", "vdd", "0", "nbl", "nc", "pc"), lrn, owner="bench",
                       role=f"learning x={x:g}"))
        c.add(vsource(f"VOL{k}", f"ol{k}", "0", Dc(vwcm), owner="bench", role="current probe"))
    c.analyses = [DcSweep("VY", vwcm - 0.1, vwcm + 0.1, 0.1 / 30), DcSweep("VE", VCM - 0.15, VCM + 0.15, 0.005)]
    return _finish(c, cells)


UH_GRID = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)


def rprime_eps(m_bump: float, m_gm: float, vu: float, vref_dphi: float, vref_eps: float) -> Circuit:
    """The r′·ε cell at every UH_GRID potential (ŭ against ``vref_dphi``), ε swept (VE, VCM ± 160 mV)."""
    c, cells = _bench("r' eps cell")
    cell = lib.dphi_eps(cells, "dphi_eps", m_bump, m_gm)
    c.add(vsource("VE", "ep", "0", Dc(VCM), owner="bench", role="eps (swept)"))
    c.add(vsource("VEN", "en", "0", Dc(vref_eps), owner="bench", role="eps reference"))
    c.add(vsource("VRD", "rd", "0", Dc(vref_dphi), owner="bench", role="uh reference"))
    for k, u in enumerate(UH_GRID):
        c.add(vsource(f"VU{k}", f"u{k}", "0", Dc(VCM + u * vu), owner="bench", role=f"uh = {u:g}"))
        c.add(instance(f"X{k}", (f"u{k}", "rd", "ep", "en", f"o{k}", *BUS), cell, owner="bench", role=f"uh = {u:g}"))
        c.add(vsource(f"VO{k}", f"o{k}", "0", Dc(VCM), owner="bench", role="current probe"))
    c.analyses = [DcSweep("VE", VCM - 0.16, VCM + 0.16, 0.004)]
    return _finish(c, cells)


def error_path(m_load: float, m_gm: float, m_bump: float, vrefs: tuple[float, float, float, float]) -> Circuit:
    """The error path's stages as the network wires them, all driven by one swept error voltage VE (node ``ein``).

    Chain A: ε term (lin_gm of multiplier ``m_gm``, inputs ein − gn) into a node with the load lin_gm: q.
    Chain B: r′ε cell at ŭ = 0 (ε = ein − ge) into a p node with the load: p (= e of a τr = τm neuron).
    Chain C: the same r′ε cell into an error neuron (τm/τr = 10, its p load): DC output e.
    Each node's conductance is its load's G plus the output conductance of every cell on it (what the gains measure).
    """
    vgp, vgn, vrd, vge = vrefs
    c, cells = _bench("error path stage gains (DC)")
    for name, node, v, role in (("VGP", "gp", vgp, "lin_gm + reference"), ("VGN", "gn", vgn, "lin_gm - reference"),
                                ("VRD", "rd", vrd, "phi' reference (uh = 0)"), ("VGE", "ge", vge, "r' eps reference")):
        c.add(vsource(name, node, "0", Dc(v), owner="bench", role=role))
    c.add(vsource("VE", "ein", "0", Dc(VCM), owner="bench", role="error voltage (swept)"))
    load = lib.lin_gm(cells, "load_gm", m_load)
    eps = lib.lin_gm(cells, "eps_gm", m_gm)
    rpe = lib.dphi_eps(cells, "rprime_eps", m_bump, m_load)
    err = lib.error_cell(cells, "error_neuron", 10.0, 1e-12, m_load)
    c.add(instance("XEA", ("ein", "gn", "q", *BUS), eps, owner="bench", role="eps term into q"))
    c.add(instance("XLQ", ("gp", "q", "q", *BUS), load, owner="bench", role="q load G"))
    c.add(instance("XEB", ("rd", "rd", "ein", "ge", "p", *BUS), rpe, owner="bench", role="r' eps into p"))
    c.add(instance("XLP", ("gp", "p", "p", *BUS), load, owner="bench", role="p load G"))
    c.add(instance("XEC", ("rd", "rd", "ein", "ge", "pe", *BUS), rpe, owner="bench", role="r' eps into the error cell"))
    c.add(instance("XEE", ("pe", "e", "gp", *BUS), err, owner="bench", role="error neuron"))
    c.analyses = [DcSweep("VE", VCM - 0.08, VCM + 0.08, 0.002)]
    return _finish(c, cells)
