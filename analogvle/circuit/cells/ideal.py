"""Ideal realization of the filter cell: a Norton lead-lag cell, three elements and one state node.

The cell takes its input as a *current*: whatever flows into the output node
(the synapses' g_unit·W·V(r), a bias, the nudging γ·e, a noise current) is
g_unit·in, so there is no summing node and no buffer. With τ_num = k·τ_den,
C = c_unit at the state node, R_b from out to state, a conductance G_a from
out to ground and a transconductance g_x drawing g_x·V(state) out of out:

    KCL at out:    g·in = G_a·out + (out − state)/R_b + g_x·state
    KCL at state:  C·d(state)/dt = (out − state)/R_b

    R_b = τ_num·time_scale/C,   G_a = (g·τ_den − C/time_scale)/τ_num,   g_x = (C/time_scale − g·(τ_den − τ_num))/τ_num

give τ_den·d(state)/dt = in − state and out = (1 − k)·state + k·in, i.e.
out = (1 + s·τ_num)/(1 + s·τ_den)·in (terms.lead_lag), exactly, for every C.
For the neuron this is ŭ = (1 − τr/τm)·u + (τr/τm)·s with the state u, for the
error neuron e = (1 − τm/τr)·v + (τm/τr)·p with the state v (EQUATIONS.md,
"useful identities"). When g·time_scale·τ_den = c_unit (the defaults, τ_den = 1)
G_a is 0 and g_x = g. Both G_a and g_x are VCCS (G_a may be negative), so
the cell adds two unknowns, out and state, and no branch current.
"""

from __future__ import annotations

from analogvle.circuit.cells import Builder
from analogvle.circuit.ir import capacitor, resistor, vccs

#: |G_a| or |g_x| below this fraction of g_unit is round-off of an exact zero (k·g and C/(τ·ts) coincide)
SNAP = 1e-12


def norton_values(tau_num: float, tau_den: float, g: float, c: float, ts: float) -> tuple[float, float, float]:
    """(R_b in Ω, G_a in S, g_x in S) of the cell with C = ``c``; τ in model units, ``ts`` s per unit."""
    c_ts = c / ts  # written so that g·τ_den = C/time_scale gives G_a = 0 and g_x = g without round-off
    ga = (g * tau_den - c_ts) / tau_num
    gx = (c_ts - g * (tau_den - tau_num)) / tau_num
    return tau_num * ts / c, (0.0 if abs(ga) < SNAP * g else ga), (0.0 if abs(gx) < SNAP * g else gx)


class IdealCells:
    name = "ideal"
    current_input = True

    def current_cell(self, b: Builder, *, role: str, tag: str, out: str, state: str, tau_num: float,
                     tau_den: float, owner: str) -> None:
        sc = b.scales
        rb, ga, gx = norton_values(tau_num, tau_den, sc.g_unit, sc.c_unit, sc.time_scale)
        b.add(resistor(f"R{role}b_{tag}", out, state, rb, owner=owner,
                       role="lead-lag resistor (R_b·C = τ_num·time_scale)"))
        b.add(capacitor(f"C{role}_{tag}", state, "0", sc.c_unit, 0.0, owner=owner, role="state capacitor"))
        if ga:
            b.add(vccs(f"G{role}a_{tag}", out, out, "0", -ga, owner=owner,
                       role="output conductance G_a = (g_unit·τ_den - C/time_scale)/τ_num"))
        if gx:
            b.add(vccs(f"G{role}x_{tag}", out, state, "0", -gx, owner=owner,
                       role="state feedback g_x = (C/time_scale - g_unit·(τ_den - τ_num))/τ_num"))
