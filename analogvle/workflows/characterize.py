"""``analogvle characterize --realization sky130 --report DIR``: every cell against its ideal form, in ngspice.

Runs the benches of :mod:`analogvle.circuit.cells.sky130.benches` with the
PDK models, fits each cell's ideal form (κ and offset of a tanh, the
conductance of a linear transconductor, τ of a filter, the amplitude and
scale of a multiplier), derives the model-unit mapping from the fits (VU =
2UT/κ, I0, G = I0/VU, C = τ·G, the synapse and transconductor tables) and
checks the limits of issue 12. Writes DIR/cells.json and DIR/*.png; the
mapping section is what the realization reads (shipped as
``circuit/cells/sky130/calibration.json``).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import curve_fit, least_squares

from analogvle.circuit.cells.sky130 import benches
from analogvle.circuit.cells.sky130.calibration import CALIBRATION_FILE, load_calibration
from analogvle.circuit.cells.sky130.learning import S_E
from analogvle.circuit.cells.sky130.pdk import IREF, UT, VCM, mim_side
from analogvle.circuit.ir import Circuit
from analogvle.errors import NetlistError, SimulationError
from analogvle.files import staged_folder
from analogvle.netlist.netlist import write_circuit
from analogvle.report.cells import plot_cells
from analogvle.simulate.batch import run_analysis_plots

M_SYN = 0.5  # tanh_syn tail for a weight of 1: I0 ≈ 0.5·IREF
T_UNIT = 250e-6  # s per model time unit (target); C = T·G
GIL_M = 6.0  # forward Gilbert tail (× IREF): Wmax ≈ 3.8, so dW/dVw ∝ 1 − (W/Wmax)² stays ≥ 0.93 for |W| ≤ 1
LEARN_M = 0.1  # learning-multiplier tail line (× IREF, 1 nA)
ETA = 0.02  # learning rate the weight capacitor is sized for (LagNet)
IX0, XM = 10e-9, 4.0  # input cell: I = IX0 (1 ± x/XM), |x| ≤ 3
VWCM = 0.75  # weight-voltage common mode
RANGE_UH = 2.05  # |ŭ| used in LagNet (ideal: max 2.04)
RANGE_X_MAP, RANGE_VW_MAP, RANGE_UH_MAP = 2.0, 0.04, 1.5  # weight-map fit: LagNet's |x| (RMS 1.22), |W|, |ŭ|
RANGE_E = 3.0  # |e| of LagNet's layer-1 error neurons while it learns (ideal: max 3.1), at the error scale VU/S_E
RANGE_EPS = 1.6  # |ε| of LagNet's hidden error neurons with plasticity off (ideal: max 1.55)
A_NEURON, A_ERROR = 0.1, 10.0
M_BUMP0 = 0.91  # r′ε cell: first guess of the bump tail per unit of the transconductor's multiplier  # τr/τm of the characterized neuron, τm/τr of the error cell


class Results:
    """cells.json as it is filled: targets (limit checks), mapping, cells, run times."""

    def __init__(self) -> None:
        self.data: dict = {"realization": "sky130", "corner": "tt", "targets": {}, "mapping": {}, "cells": {},
                           "runtimes_s": {}}
        self.curves: dict = {}  # plot data for report.cells

    def target(self, key: str, value: float, limit: float, unit: str, note: str = "") -> None:
        self.data["targets"][key] = {"value": float(value), "limit": limit, "unit": unit,
                                     "pass": bool(abs(value) <= limit), "note": note}

    def run(self, circuit: Circuit, name: str) -> list[dict]:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="analogvle-sky130-") as tmp:
            path = write_circuit(name, circuit, {}, 1.0, {}).write(Path(tmp) / f"{name}.cir")
            plots = run_analysis_plots(path)
        self.data["runtimes_s"][name] = round(time.perf_counter() - start, 2)
        return plots


def _plot(plots: list[dict], start: float, points: int) -> dict:
    """The DC plot whose sweep starts at ``start`` with ``points`` points."""
    for p in plots:
        sweep = next(iter(p.values()))
        if len(sweep) == points and abs(float(np.real(sweep[0])) - start) < 1e-9:
            return p
    raise NetlistError(f"bench result has no sweep from {start} with {points} points")


def _fit_tanh(x, i):
    f = lambda x, a, k, o: a * np.tanh(k * (x - o) / (2 * UT))
    p, _ = curve_fit(f, x, i, p0=[np.max(np.abs(i)), 0.7, 0.0])
    return f, p


def dc_cells(res: Results) -> None:
    """tanh_syn, its amplitude table, lin_gm (linearity, G table, output conductance) and the φ′ bump."""
    plots = res.run(benches.dc_transfer(M_SYN, 2 * M_SYN), "dc_transfer")
    v = _plot(plots, 0.8, 401)
    x = np.real(v["v(inp)"]) - VCM
    i = np.real(v["i(vo0)"])  # i(VO) > 0: the cell drives current out of its port
    f, (amp, kappa, off) = _fit_tanh(x, i)
    vu = 2 * UT / kappa
    band = np.abs(x) <= RANGE_UH * vu
    err = np.max(np.abs(f(x[band], amp, kappa, off) - i[band])) / amp
    err_out = max(np.max(np.abs(f(x[band], amp, kappa, off) - np.real(v[f"i(vo{k})"])[band])) / amp for k in (1, 2))
    small = np.abs(x) <= 0.02
    slope, icpt = np.polyfit(x[small], i[small], 1)
    res.data["cells"]["tanh"] = {"ideal": "I0 tanh(uh), uh = (V - VCM)/VU", "amplitude_A": amp, "kappa": kappa,
                                 "VU_V": vu, "offset_V": off, "offset_smallsignal_V": -icpt / slope,
                                 "max_err_of_full_scale": err, "max_err_of_full_scale_out_pm150mV": err_out,
                                 "range_units": RANGE_UH}
    res.target("tanh_max_err_of_full_scale", 100 * err, 2, "%", f"|uh| <= {RANGE_UH}, output at VCM")
    res.target("tanh_max_err_of_full_scale_output_pm150mV", 100 * err_out, 2, "%", "output at VCM -/+ 150 mV")
    amps = [float((np.real(v[f"i(vom{k})"])[-1] - np.real(v[f"i(vom{k})"])[0]) / 2)
            for k in range(len(benches.SYN_M_GRID))]
    res.curves["tanh"] = (x, i, f(x, amp, kappa, off), band)
    # lin_gm: linearity at m = 1, conductance table, output conductance
    ig = np.real(v["i(vog0)"])
    rng = RANGE_UH * vu
    band = np.abs(x) <= rng
    fit = np.polyfit(x[band], ig[band], 1)
    g1 = fit[0]
    gerr = np.max(np.abs(np.polyval(fit, x[band]) - ig[band])) / np.max(np.abs(ig[band]))
    p2 = np.polyfit(x[small], ig[small], 1)
    goff = -p2[1] / p2[0]
    near = np.abs(x - goff) <= 0.01
    g_table = [float(np.polyfit(x[near], np.real(v[f"i(vog{k + 1})"])[near], 1)[0])
               for k in range(len(benches.GM_M_GRID))]
    vo = _plot(plots, 1.0, 81)
    io = -np.real(vo["i(voo)"])
    gout = abs(np.gradient(io, np.real(vo["v(oo)"]))[len(io) // 2])
    res.data["cells"]["lin_gm"] = {"ideal": "G (V+ - V-)", "g1_S": g1, "offset_smallsignal_V": goff,
                                   "max_err_of_full_scale": gerr, "range_V": rng, "gout_over_G": gout / g1,
                                   "g_table": {"m": list(benches.GM_M_GRID), "G_S": g_table}}
    res.target("lin_gm_max_err_of_full_scale", 100 * gerr, 2, "%", f"+-{1e3 * rng:.0f} mV")
    res.curves["lin_gm"] = (x, ig, np.polyval(fit, x), band)
    # φ′ bump, κ fixed to the tanh cell's
    ib = np.real(v["i(vob)"])
    band = np.abs(x) <= RANGE_UH * vu
    g = lambda x, a, o: a / np.cosh(kappa * (x - o) / (2 * UT)) ** 2
    pb, _ = curve_fit(g, x[band], ib[band], p0=[ib.max(), 0.0])
    berr = np.max(np.abs(g(x[band], *pb) - ib[band])) / pb[0]
    res.data["cells"]["dphi"] = {"ideal": "A sech^2(uh) with the tanh cell's kappa", "amplitude_A": pb[0],
                                 "offset_V": pb[1], "max_err_of_full_scale": berr}
    res.target("dphi_max_err_of_full_scale", 100 * berr, 5, "%", f"|uh| <= {RANGE_UH}")
    res.curves["dphi"] = (x, ib, g(x, *pb), band)
    g_unit = amp / vu
    res.data["mapping"].update(
        VCM=VCM, VU=vu, kappa=kappa, I0=amp, IREF=IREF, M_SYN=M_SYN, T_unit_s=T_UNIT, G=g_unit,
        VREF_SYN=VCM - (-icpt / slope), VREF_GP=VCM + goff, VREF_GN=VCM - goff, IX0=IX0, XM=XM, VWCM=VWCM,
        syn_table={"m": list(benches.SYN_M_GRID), "amplitude_A": amps},
        gm_table={"m": list(benches.GM_M_GRID), "G_S": g_table})


def _m_for(table: dict, value: float, key: str) -> float:
    """Log-log interpolation of a measured (m, value) table: the m giving ``value``."""
    return float(np.exp(np.interp(np.log(value), np.log(table[key]), np.log(table["m"]))))


def _band(w, h, hi, lo, hi_w, tau):
    k = (w >= lo / tau) & (w <= hi_w / tau)
    return float(np.max(np.abs(np.abs(h[k]) / np.abs(hi[k]) - 1))), float(np.max(np.abs(np.angle(h[k] / hi[k],
                                                                                                   deg=True))))


def neuron_cell(res: Results) -> None:
    """Membrane τ (step and AC) and the ŭ lead-lag, with one calibration of C by the measured τ."""
    mp = res.data["mapping"]
    g = mp["G"]
    m_load = _m_for(mp["gm_table"], g, "G_S")
    m_u = _m_for(mp["gm_table"], (1 - A_NEURON) * g, "G_S")
    c = T_UNIT * g
    for it in range(2):
        plots = res.run(benches.neuron(A_NEURON, c, m_load, m_u, (mp["VREF_GP"], mp["VREF_GN"]), g, T_UNIT),
                        f"neuron_{it}")
        ac = next(p for p in plots if "frequency" in p)
        tr = next(p for p in plots if "time" in p)
        t, y = np.real(tr["time"]), np.real(tr["v(y)"])
        k = np.argmax((y - y[0]) / (y[-1] - y[0]) >= 1 - np.exp(-1))
        tau = t[k] - 1e-6
        if it == 0:
            c *= T_UNIT / tau
    w = 2 * np.pi * np.real(ac["frequency"])
    hy, hz = ac["v(y)"], ac["v(z)"]
    r0 = hy[0].real
    em, ep = _band(w, hy / r0, 1 / (1 + 1j * w * T_UNIT), 0.1, 10, T_UNIT)
    lead = (1 + 1j * w * A_NEURON * T_UNIT) / (1 + 1j * w * T_UNIT)
    emz, epz = _band(w, hz / r0, lead, 0.1, 10, T_UNIT)
    res.data["cells"]["membrane"] = {"ideal": "u = s/(1 + s tau_m)", "C_F": c, "mim_side_um": mim_side(c),
                                     "tau_step_s": tau, "tau_rel_err": tau / T_UNIT - 1, "dc_gain": r0 * g,
                                     "ac_mag_err": em, "ac_phase_err_deg": ep}
    res.data["cells"]["prospective"] = {"ideal": "uh = (1 + s tau_r)/(1 + s tau_m) s, tau_r/tau_m = 0.1",
                                        "dc_gain_z_over_y": float((hz[0] / hy[0]).real), "ac_mag_err": emz,
                                        "ac_phase_err_deg": epz}
    res.target("membrane_tau_rel_err", 100 * (tau / T_UNIT - 1), 2, "%", "63 % step point vs 1 model time unit")
    res.target("membrane_ac_mag_err", 100 * em, 3, "%", "|H| vs 1/(1 + s tau), 0.1/tau..10/tau")
    res.target("membrane_ac_phase_err", ep, 3, "deg", "0.1/tau..10/tau")
    res.target("prospective_ac_mag_err", 100 * emz, 5, "%", "(1 + s tau_r)/(1 + s tau_m), 0.1/tau..10/tau")
    res.target("prospective_ac_phase_err", epz, 5, "deg", "0.1/tau..10/tau")
    res.curves["neuron"] = (w * T_UNIT, hy / r0, hz / r0, 1 / (1 + 1j * w * T_UNIT), lead, t / T_UNIT,
                            (y - y[0]) / (y[-1] - y[0]))
    mp.update(m_load=m_load, C_membrane=c, C_membrane_tau_m=1.0)


def _error_response(res: Results, c: float, name: str):
    if not np.isfinite(c) or c <= 0:
        raise SimulationError(f"characterize {name}: the error cell's fitted capacitance is {c!r} F")
    (ac,) = res.run(benches.error(A_ERROR, c, res.data["mapping"]["m_load"]), name)
    w = 2 * np.pi * np.real(ac["frequency"])
    h = ac["v(e)"] / ac["v(p)"]
    if not np.all(np.isfinite(h)):
        bad = np.flatnonzero(~np.isfinite(h))
        raise SimulationError(f"characterize {name}: ngspice's AC response e/p is not finite at "
                              f"{len(bad)} of {len(h)} frequencies (first {np.real(ac['frequency'][bad[0]]):.3g} Hz)")
    return w, h, h / h[0].real


def error_cell(res: Results) -> None:
    """The error neuron (1 + sτm)/(1 + sτr) with τm/τr = 10.

    C starts at τr·G, is rescaled once by τr fitted below 1/τr, then set (linear
    interpolation between two runs) where the magnitude error (%) equals the phase
    error (°) over 0.1/τm..10/τm: the parasitic poles trade one for the other.
    """
    mp = res.data["mapping"]
    taur = T_UNIT / A_ERROR
    c = taur * mp["G"]
    w, h, hn = _error_response(res, c, "error_0")
    low = w <= 1 / taur

    def resid(p):
        model = (1 + 1j * w * A_ERROR * p[0]) / (1 + 1j * w * p[0])
        return np.concatenate([np.log(np.abs(hn / model))[low], np.angle(hn / model)[low]])

    tau_fit = least_squares(resid, [taur], x_scale=[taur]).x[0]
    c *= taur / tau_fit
    ideal = (1 + 1j * w * A_ERROR * taur) / (1 + 1j * w * taur)

    def balance(c: float, name: str):
        w_, h_, hn_ = _error_response(res, c, name)
        em_, ep_ = _band(w_, hn_, ideal, 0.1 / A_ERROR, 10 / A_ERROR, taur)
        return 100 * em_ - ep_, (w_, h_, hn_)

    d0, _ = balance(c, "error_1")
    d1, _ = balance(1.01 * c, "error_2")
    c *= 1 + 0.01 * d0 / (d0 - d1) if d0 != d1 else 1.0
    _, (w, h, hn) = balance(c, "error_3")
    em, ep = _band(w, hn, ideal, 0.1 / A_ERROR, 10 / A_ERROR, taur)
    em_r, ep_r = _band(w, hn, ideal, 0.1, 10, taur)
    res.data["cells"]["error"] = {"ideal": "e = (1 + s tau_m)/(1 + s tau_r) p, tau_m/tau_r = 10", "C_F": c,
                                  "mim_side_um": mim_side(c), "tau_r_fit_rel_err": tau_fit / taur - 1,
                                  "dc_gain": float(h[0].real), "ac_mag_err": em, "ac_phase_err_deg": ep,
                                  "ac_mag_err_band_tau_r": em_r, "ac_phase_err_deg_band_tau_r": ep_r}
    res.target("error_ac_mag_err", 100 * em, 5, "%", "0.1/tau_m..10/tau_m (the model's signal band)")
    res.target("error_ac_phase_err", ep, 5, "deg", "0.1/tau_m..10/tau_m")
    res.curves["error"] = (w * T_UNIT, hn, ideal)
    mp.update(C_error=c, C_error_tau_r=1 / A_ERROR)


def rprime_eps_cell(res: Results) -> None:
    """p = r′·ε: G(ŭ)·ε with G(ŭ) = Gmax·sech²(ŭ) (κ of the tanh cell); Gmax set to the load G by the bump's tail."""
    mp = res.data["mapping"]
    vu, g = mp["VU"], mp["G"]
    m_gm = mp["m_load"]
    vref_dphi = VCM + res.data["cells"]["dphi"]["offset_V"]
    m_bump = M_BUMP0 * m_gm
    vref_eps = mp["VREF_GN"]
    for it in range(2):
        (v,) = res.run(benches.rprime_eps(m_bump, m_gm, vu, vref_dphi, vref_eps), f"rprime_eps_{it}")
        e = np.real(v["v(ep)"]) - vref_eps
        uh = np.asarray(benches.UH_GRID)
        cur = np.stack([np.real(v[f"i(vo{k})"]) for k in range(len(uh))])  # (uh, eps)
        small = np.abs(e) <= 0.01
        slopes = np.array([np.polyfit(e[small], c[small], 1) for c in cur])
        k0 = int(np.argmin(np.abs(uh)))
        gmax = slopes[k0, 0]
        if it == 0:  # fit Gmax·sech²(ŭ − o): the bump's current scales with its tail, o moves its reference;
            # the ε offset is the transconductor's input offset
            fit = least_squares(lambda p, uh=uh, gs=slopes[:, 0] / g: p[0] * np.cosh(p[2] * (uh - p[1])) ** -2 - gs,
                                [1.0, 0.0, 1.0]).x
            m_bump /= fit[0]
            vref_dphi -= fit[1] * vu
            vref_eps -= slopes[k0, 1] / slopes[k0, 0]
    band = np.abs(e) <= RANGE_EPS * vu
    ideal = g / np.cosh(uh)[:, None] ** 2 * e[None, :]
    err = float(np.max(np.abs(cur[:, band] - ideal[:, band])) / (g * RANGE_EPS * vu))
    res.data["cells"]["rprime_eps"] = {
        "ideal": "I0 sech^2(uh) eps (p = r' eps into a load G)", "m_bump": m_bump, "Gmax_S": gmax,
        "Gmax_over_G": gmax / g, "G_over_G0_by_uh": dict(zip(map(str, uh), (slopes[:, 0] / gmax).tolist())),
        "max_err_of_full_scale": err, "range_units": RANGE_EPS}
    res.target("rprime_eps_max_err_of_full_scale", 100 * err, 5, "%", f"|uh| <= 2, |eps| <= {RANGE_EPS}")
    res.curves["rprime_eps"] = (e, cur, ideal, band, uh)
    mp.update(m_bump=m_bump, VREF_DPHI=vref_dphi, VREF_EPS=vref_eps)


def error_path_gains(res: Results) -> None:
    """DC gain of each error-path stage as the network wires it, over |e| <= 3 units at the learning error scale.

    A node's conductance is its load's G plus the output conductance of every cell on it (≈ 0.7 % of G each),
    so a stage loses 1.5-2 % and the losses compound down the layers (LagNet's layer-1 error 12 % low).
    The network divides each ε term's conductance by the gains of the stages it drives (EPS_GAIN_*).
    """
    mp = res.data["mapping"]
    m_gm = _m_for(mp["gm_table"], mp["G"], "G_S")
    vrefs = (mp["VREF_GP"], mp["VREF_GN"], mp["VREF_DPHI"], mp["VREF_EPS"])
    (v,) = res.run(benches.error_path(mp["m_load"], m_gm, mp["m_bump"], vrefs), "error_path")
    ein = np.real(v["v(ein)"])
    band = np.abs(ein - VCM) <= RANGE_E * mp["VU"] / S_E
    x = ein[band]
    gain_gm = np.polyfit(x - mp["VREF_GN"], np.real(v["v(q)"])[band] - mp["VREF_GP"], 1)[0]
    gain_rp = np.polyfit(x - mp["VREF_EPS"], np.real(v["v(p)"])[band] - mp["VREF_GP"], 1)[0]
    gain_err = np.polyfit(np.real(v["v(pe)"])[band], np.real(v["v(e)"])[band], 1)[0]
    res.data["cells"]["error_path"] = {
        "ideal": "each stage's DC gain 1: eps term -> q (lin_gm into a load), r' eps -> p (at uh = 0), error neuron e/p",
        "gain_eps_gm": gain_gm, "gain_rprime_eps": gain_rp, "gain_error_cell": gain_err,
        "range_units": RANGE_E, "error_scale": S_E}
    mp.update(EPS_GAIN_GM=gain_gm, EPS_GAIN_RPRIME=gain_rp, EPS_GAIN_ERROR=gain_err)


def multiplier_cells(res: Results) -> None:
    """Forward W(Vw)·x and learning e·x Gilbert cells; the weight capacitor for η and its droop at e = 0."""
    mp = res.data["mapping"]
    plots = res.run(benches.multipliers(GIL_M, LEARN_M, IX0, XM, VWCM, mp["m_load"], mp["VREF_GP"]), "multipliers")
    xs = np.asarray(benches.X_GRID)
    model = lambda p, y, x: p[0] * np.tanh(p[1] * (y - p[2]) / (2 * UT)) * (x / XM - p[3]) + p[4]
    out = {}
    for key, start, probe, tail in (("forward", VWCM - 0.1, "vof", GIL_M * IREF), ("learning", VCM - 0.15, "vol",
                                                                                       LEARN_M * IREF)):
        npts = 61
        v = _plot(plots, start, npts)
        y = np.real(next(iter(v.values()))) - (VWCM if key == "forward" else VCM)
        Y = np.tile(y, len(xs))
        X = np.repeat(xs, len(y))
        current = np.concatenate([np.real(v[f"i({probe}{k})"]) for k in range(len(xs))])
        fit = least_squares(lambda p, Y=Y, X=X, current=current, tail=tail: (model(p, Y, X) - current) / tail,
                            [tail, 0.7, 0, 0, 0],
                            x_scale=[tail, 1, 0.01, 0.01, tail / 100]).x
        fs = np.max(np.abs(current))
        err = np.max(np.abs(model(fit, Y, X) - current)) / fs
        out[key] = {"A": fit[0], "kappa_y": fit[1], "y_offset_V": fit[2], "x_offset": fit[3], "out_offset_A": fit[4],
                    "max_err_of_full_scale": err, "form": "I = A tanh(ky (Vy - Vcm - y0)/2UT) (x/XM - x0) + c"}
        res.target(f"multiplier_{key}_max_err_of_full_scale", 100 * err, 2, "%", "|x| <= 3, " + (
            "|Vw - VWCM| <= 100 mV" if key == "forward" else "|e| <= 150 mV"))
        res.curves[f"multiplier_{key}"] = (X, Y, current, model(fit, Y, X))
        if key == "learning":
            at0 = np.argmin(np.abs(y))
            out[key]["current_at_e0_A"] = [float(np.real(v[f"i({probe}{k})"])[at0]) for k in range(len(xs))]
    # the weight map the network uses: the forward cell as wired there, into a neuron's load, over the range LagNet
    # uses (|W| <= ~1.5, |x| <= 2, |ŭ| <= 1.5): the load's and the cell's output conductances and the x path's curvature make
    # the node's W·x 2-5 % smaller than the held-output fit says
    v = _plot(plots, VWCM - 0.1, 61)
    y = np.real(next(iter(v.values()))) - VWCM
    Y, X = np.tile(y, len(xs)), np.repeat(xs, len(y))
    node = np.concatenate([(np.real(v[f"v(z{k})"]) - mp["VREF_GP"]) * mp["G"] for k in range(len(xs))])
    used = (np.abs(X) <= RANGE_X_MAP + 1e-9) & (np.abs(Y) <= RANGE_VW_MAP) & (np.abs(node) <= RANGE_UH_MAP * mp["I0"])
    tail = GIL_M * IREF
    ky = out["forward"]["kappa_y"]  # the lower pair's tanh shape (from the wide held sweep; ±40 mV barely bends it)
    fit = least_squares(lambda p: (model((p[0], ky, *p[1:]), Y[used], X[used]) - node[used]) / tail,
                        [out["forward"]["A"], out["forward"]["y_offset_V"], 0, 0], x_scale=[tail, 0.01, 0.01, tail / 100]).x
    fit = np.array([fit[0], ky, *fit[1:]])
    err = np.max(np.abs(model(fit, Y[used], X[used]) - node[used])) / np.max(np.abs(node[used]))
    out["forward_loaded"] = {"A": fit[0], "kappa_y": fit[1], "y_offset_V": fit[2], "x_offset": fit[3],
                             "out_offset_A": fit[4], "max_err_of_full_scale": err,
                             "A_over_held_A": fit[0] / out["forward"]["A"],
                             "range": f"|x| <= {RANGE_X_MAP}, |Vw - VWCM| <= {1e3 * RANGE_VW_MAP:g} mV, |uh| <= {RANGE_UH_MAP}",
                             "form": "G (V(z) - VREF_GP) = A tanh(ky (Vw - VWCM - y0)/2UT) (x/XM - x0) + c"}
    fwd, lrn = out["forward_loaded"], out["learning"]
    wmax = abs(fwd["A"]) / (XM * mp["I0"])
    dwdv = wmax * abs(fwd["kappa_y"]) / (2 * UT)
    slope = abs(lrn["A"] * lrn["kappa_y"]) * mp["VU"] / (2 * UT) / XM  # A per unit of e·x (small e)
    c_w = dwdv * slope * T_UNIT / ETA
    droop = max(abs(i) for i in lrn["current_at_e0_A"]) / c_w * T_UNIT * dwdv
    out["weight"] = {"C_w_F": c_w, "mim_side_um": mim_side(c_w), "Wmax": wmax, "dW_dVw_per_V": dwdv, "eta": ETA,
                     "droop_W_per_time_unit": droop,
                     "droop_note": "largest |I(e = 0)| of the learning multiplier over |x| <= 3, divided by C_w "
                                   "(the MIM model has no leakage)"}
    res.data["cells"]["multipliers"] = out
    res.target("weight_droop_per_time_unit", droop, ETA, "weight units", "measured; limit shown: eta (one unit of "
               "learning per time unit at e x = 1)")
    mp.update(GIL_M=GIL_M, LEARN_M=LEARN_M, Wmax=wmax, kappa_w=abs(fwd["kappa_y"]), w_offset_V=fwd["y_offset_V"],
              C_w=c_w, gilbert_A=fwd["A"])


def characterize(report: str | Path, *, realization: str = "sky130", progress=None) -> dict:
    """Characterize every cell of ``realization``; write ``report``/cells.json and the plots; return cells.json."""
    if realization != "sky130":
        raise NetlistError(f"characterize: realization {realization!r} has no transistor cells (expected: sky130)")
    say = progress or (lambda message: None)
    res = Results()
    start = time.perf_counter()
    for step, label in ((dc_cells, "DC transfers"), (neuron_cell, "membrane"), (error_cell, "error neuron"),
                        (rprime_eps_cell, "r' eps"), (error_path_gains, "error path"),
                        (multiplier_cells, "multipliers")):
        say(f"characterize: {label}")
        step(res)
    res.data["total_wall_s"] = round(time.perf_counter() - start, 1)
    if CALIBRATION_FILE.is_file():  # how far this measurement is from the mapping the realization ships
        shipped = load_calibration().values
        res.data["calibration_drift"] = {k: res.data["mapping"][k] / shipped[k] - 1
                                         for k in ("VU", "I0", "G", "C_membrane", "C_error", "C_w", "Wmax", "EPS_GAIN_GM",
                                                   "EPS_GAIN_RPRIME", "EPS_GAIN_ERROR")}
    res.data["passed"] = all(t["pass"] for t in res.data["targets"].values())
    with staged_folder(Path(report)) as stage:
        (stage / "cells.json").write_text(json.dumps(res.data, indent=1, default=float) + "\n", encoding="utf-8")
        plot_cells(res.curves, stage)
    return res.data
