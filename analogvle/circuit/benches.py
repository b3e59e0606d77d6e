"""Test benches: the smallest circuits of the network's cells, for checks against analytic answers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analogvle.circuit.cells import Builder, Scales, get_cells
from analogvle.circuit.ir import Ac, Circuit, Dc, DcSweep, ac_vsource, vccs, vsource
from analogvle.circuit.network import build_network
from analogvle.circuit.nonideal import NonIdeal
from analogvle.circuit.passes import check_physical_range, get_summary
from analogvle.circuit.probes import Probe
from analogvle.errors import NetlistError
from analogvle.model.network import LayerSpec, NetworkSpec


@dataclass
class Bench:
    """A bench circuit, its probes (model units) and what it should show."""

    name: str
    circuit: Circuit
    probes: dict[str, Probe]
    time_scale: float
    expected: dict


def cell_ac_bench(cell: str, tau_m: float, tau_r: float, *, realization: str = "ideal", scales: Scales | None = None,
                  decades: float = 3.0, points_per_decade: int = 20) -> Bench:
    """An AC sweep of one filter cell driven by a 1 V AC source at node ``in``.

    ``cell`` = 'neuron' (in = s, out = ŭ, expected (1 + sτr)/(1 + sτm)) or
    'error' (in = p, out = e, expected (1 + sτm)/(1 + sτr)). The sweep spans
    ``decades`` around ω = 1/sqrt(τm·τr) (rad per model time unit; Hz = ω/(2π·time_scale)).
    Probes 'in', 'out', 'state'; ``expected["taus"]`` is (τ_num, τ_den).
    """
    scales = scales or Scales()
    if cell not in ("neuron", "error"):
        raise NetlistError(f"unknown cell {cell!r} (expected 'neuron' or 'error')")
    tau_num, tau_den = (tau_r, tau_m) if cell == "neuron" else (tau_m, tau_r)
    circuit = Circuit(title=f"analogvle AC bench: {cell} cell, tau_m = {tau_m}, tau_r = {tau_r} ({realization})")
    b = Builder(circuit, scales, get_cells(realization))
    b.add(ac_vsource("Vin", "in", 1.0, owner="bench", role="AC drive"))
    b.comment(f"{cell} cell: out = (1 + s {tau_num})/(1 + s {tau_den}) in")
    role = "m" if cell == "neuron" else "v"
    if b.cells.current_input:
        # the cell's input is a current g_unit*V(in) into out: a synapse of weight 1
        b.add(vccs("Gin", "out", "in", "0", scales.g_unit, owner="bench", role="input transconductor g_unit"))
        b.cells.current_cell(b, role=role, tag="bench", out="out", state="state", tau_num=tau_num, tau_den=tau_den,
                             owner=f"{cell} cell")
    else:
        b.cells.filter_cell(b, role=role, tag="bench", inp="in", out="out", state="state", tau_num=tau_num,
                            tau_den=tau_den, stiff=cell == "error", owner=f"{cell} cell")
    check_physical_range(circuit, "bench", scales)
    omega_c = 1.0 / np.sqrt(tau_m * tau_r)
    f_lo = omega_c * 10 ** (-decades / 2) / (2 * np.pi * scales.time_scale)
    f_hi = omega_c * 10 ** (decades / 2) / (2 * np.pi * scales.time_scale)
    circuit.analyses = [Ac(points_per_decade, float(f_lo), float(f_hi))]
    probes = {k: Probe((k,), (1,), scales.v_scale) for k in ("in", "out", "state")}
    return Bench(f"ac_{cell}", circuit, probes, scales.time_scale, {"taus": (tau_num, tau_den)})


def synapse_dc_bench(weight: float, *, realization: str = "ideal", scales: Scales | None = None, tau_m: float = 1.0,
                     tau_r: float = 0.1, sweep: tuple[float, float, float] = (-1.0, 1.0, 0.25),
                     nonideal: NonIdeal | None = None) -> Bench:
    """A DC sweep: x → one static synapse W → a linear neuron; V(r)/V(x) should equal W.

    ``sweep`` is (start, stop, step) of x in model units; the probes are the
    network's own ('x', 'layer1/u', 'layer1/uhat', 'layer1/r'). ``nonideal``: the
    non-idealities of the synapse (default none).
    """
    scales = scales or Scales()
    layer = LayerSpec(size=1, tau_m=tau_m, tau_r=tau_r, phi="linear", weights=[[float(weight)]])
    net = NetworkSpec(inputs=1, layers=(layer,), errors="none")
    circuit = Circuit(title=f"analogvle DC bench: static synapse W = {weight} ({realization})")
    b = Builder(circuit, scales, get_cells(realization), nonideal=nonideal or NonIdeal())
    b.add(vsource("Vx_n0", "x_n0", "0", Dc(0.0), owner="bench", role="swept input"))
    nodes = build_network(b, net, label="bench", inputs=["x_n0"], errors="none")
    check_physical_range(circuit, "bench", scales)
    vs = scales.v_scale
    circuit.analyses = [DcSweep("Vx_n0", *(float(v * vs) for v in sweep))]
    probes = {"x": Probe(("x_n0",), (1,), vs)}
    for kind in ("u", "uhat", "r"):
        probes[f"layer1/{kind}"] = Probe((getattr(nodes, kind)[0][0],), (1,), vs)
    return Bench("dc_synapse", circuit, probes, scales.time_scale, {"gain": float(weight), **get_summary(circuit)})
