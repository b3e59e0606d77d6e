"""The Gilbert cells of plastic layers >= 2 and learned biases against layer 1's (learning.GIL_R_M, LEARN_R_M).

DC sweeps in ngspice with the PDK (tt): the forward cell with ŭ (or a switched pair, "b") on its upper quad
against W(Vw)·tanh(ŭ)·I0, and the learning multiplier with ŭ on its upper quad against layer 1's at x = 1.

    .venv/bin/python benchmarks/bench_sky130_gilbert_r.py [forward tail, default GIL_M/XM]
"""

import sys

import numpy as np

from analogvle.circuit.cells.sky130 import benches
from analogvle.circuit.cells.sky130 import library as lib
from analogvle.circuit.cells.sky130.calibration import load_calibration
from analogvle.circuit.cells.sky130.pdk import UT, VCM
from analogvle.circuit.ir import Dc, DcSweep, instance, vsource
from analogvle.workflows.characterize import Results, _plot

cal = load_calibration()
BUS = benches.BUS
c, cells = benches._bench("layer2 gilberts", learn_line=cal.LEARN_M)
tail = float(sys.argv[1]) if len(sys.argv) > 1 else cal.GIL_M / cal.XM
fwd = lib.gilbert(cells, "gil_r", tail)
lrn = lib.gilbert(cells, "learn_gil_r", 1 / cal.XM, shift=True)
c.add(vsource("VY", "y", "0", Dc(cal.VWCM), owner="b", role="w"))
c.add(vsource("VYR", "yr", "0", Dc(cal.VWCM + cal.w_offset_V), owner="b", role="wref"))
c.add(vsource("VWR", "wr", "0", Dc(cal.VWCM), owner="b", role="wref low"))
c.add(vsource("VE", "ee", "0", Dc(VCM), owner="b", role="e"))
U = [-2, -1, -0.5, 0, 0.5, 1, 2, "b"]
for k, u in enumerate(U):
    if u == "b":
        xp, xn = "cm", "wr"
    else:
        xp, xn = f"u{k}", "cm"
        c.add(vsource(f"VU{k}", f"u{k}", "0", Dc(VCM + u * cal.VU), owner="b", role="u"))
    c.add(instance(f"XF{k}", (xp, xn, "y", "yr", f"of{k}", *BUS), fwd, owner="b", role="f"))
    c.add(vsource(f"VOF{k}", f"of{k}", "0", Dc(VCM), owner="b", role="probe"))
    c.add(instance(f"XL{k}", (xp, xn, "ee", "cm", f"ol{k}", "vdd", "0", "nbl", "nc", "pc"), lrn, owner="b", role="l"))
    c.add(vsource(f"VOL{k}", f"ol{k}", "0", Dc(cal.VWCM), owner="b", role="probe"))
f1 = lib.gilbert(cells, "gil_fwd", cal.GIL_M)
l1 = lib.gilbert(cells, "gil_learn", 1.0, shift=True)
ip, in_ = benches._x_pair(c, cells, "a", 1.0, cal.IX0, cal.XM)
c.add(instance("XFA1", (ip, in_, "y", "yr", "of1x", *BUS), f1, owner="b", role="f"))
c.add(vsource("VOF1X", "of1x", "0", Dc(VCM), owner="b", role="probe"))
ip, in_ = benches._x_pair(c, cells, "b", 1.0, cal.IX0, cal.XM)
c.add(instance("XLA1", (ip, in_, "ee", "cm", "ol1x", "vdd", "0", "nbl", "nc", "pc"), l1, owner="b", role="l"))
c.add(vsource("VOL1X", "ol1x", "0", Dc(cal.VWCM), owner="b", role="probe"))
c.analyses = [DcSweep("VY", cal.VWCM - 0.1, cal.VWCM + 0.1, 0.1 / 30), DcSweep("VE", VCM - 0.15, VCM + 0.15, 0.005)]
c = benches._finish(c, cells)
plots = Results().run(c, "l2")
v = _plot(plots, cal.VWCM - 0.1, 61)
vw = np.real(next(iter(v.values())))
W = cal.Wmax * np.tanh(cal.kappa_w * (vw - cal.VWCM - cal.w_offset_V) / (2 * UT))
print("forward cell: I/I0 at W = -2.2, 0, +2.2 against W tanh(u) (sign: the probe's); slope = measured / ideal")
for k, u in enumerate(U):
    i = -np.real(v[f"i(vof{k})"]) / cal.I0  # current into out = -i(VOF)? sign check
    r = 1.0 if u == "b" else np.tanh(u)
    ideal = W * r
    sl = np.polyfit(ideal[25:36], i[25:36], 1) if r != 0 else (np.nan, i[30])
    print(f"u={u}: I/I0 at W=-2.2,0,+2.2 idx: {i[[0,30,60]].round(4)} ideal {ideal[[0,30,60]].round(4)} slope {sl[0]:.4f} off {i[30]:.4f}")
v = _plot(plots, VCM - 0.15, 61)
ve = np.real(next(iter(v.values()))) - VCM
e = ve / cal.VU * 4  # error units at VU/4
print("learning: I at e=+-1 (VU/4 scale) per tanh(u)")
i1 = np.real(v["i(vol1x)"]); j = np.argmin(np.abs(e - 1)); jm = np.argmin(np.abs(e + 1))
print("layer-1 learning multiplier at x = 1: (I(1)-I(-1))/2 per unit e*x/XM =", (i1[j] - i1[jm]) / 2 * cal.XM,
      "(the layer >= 2 one below, per unit e*r, should equal it / XM: LEARN_R_M = 1/XM x that ratio)")
for k, u in enumerate(U):
    i = -np.real(v[f"i(vol{k})"])
    r = 1.0 if u == "b" else np.tanh(u)
    j = np.argmin(np.abs(e - 1)); j0 = np.argmin(np.abs(e)); jm = np.argmin(np.abs(e + 1))
    print(f"u={u}: I(e=-1,0,1) = {i[[jm, j0, j]]}  (I(1)-I(-1))/2/r = {(i[j]-i[jm])/2/r if r else float('nan'):.4g}")
