"""Ideal realization of the filter cell: an R·C low-pass and a VCVS mix.

    state = I⁻_τden[in]:   buffered in → R → state, C to ground, R·C = τ_den·time_scale
    out   = (1 − τ_num/τ_den)·state + (τ_num/τ_den)·in   (two VCVS in series; terms.lead_lag)

For the neuron this is ŭ = (1 − τr/τm)·u + (τr/τm)·s, for the error neuron
e = (1 − τm/τr)·v + (τm/τr)·p (EQUATIONS.md, "useful identities"). No
differentiator, no behavioural source.
"""

from __future__ import annotations

from analogvle.circuit.cells import Builder
from analogvle.circuit.ir import capacitor, resistor, vcvs
from analogvle.model.terms import lead_lag


class IdealCells:
    name = "ideal"

    def filter_cell(self, b: Builder, *, role: str, tag: str, inp: str, out: str, state: str,
                    tau_num: float, tau_den: float, stiff: bool, owner: str) -> None:
        sc = b.scales
        k_state, k = lead_lag(tau_num, tau_den)
        drive = inp
        if k == 1.0:
            # out = in exactly: the buffer itself is the output node
            b.add(vcvs(f"E{role}b_{tag}", out, "0", inp, "0", 1.0, owner=owner, role="unity buffer (out = in)"))
            drive = out
        elif not stiff:
            drive = f"{role}b_{tag}"
            b.add(vcvs(f"E{role}b_{tag}", drive, "0", inp, "0", 1.0, owner=owner, role="input buffer"))
        b.add(resistor(f"R{role}_{tag}", drive, state, tau_den * sc.time_scale / sc.c_unit, owner=owner,
                       role="low-pass resistor (R·C = τ_den·time_scale)"))
        b.add(capacitor(f"C{role}_{tag}", state, "0", sc.c_unit, 0.0, owner=owner, role="low-pass capacitor"))
        if k != 1.0:
            mid = f"{role}mix_{tag}"
            b.add(vcvs(f"E{role}x_{tag}", out, mid, state, "0", k_state, owner=owner, role="(1 − τ_num/τ_den)·state"))
            b.add(vcvs(f"E{role}d_{tag}", mid, "0", inp, "0", k, owner=owner, role="(τ_num/τ_den)·in"))
