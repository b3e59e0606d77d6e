"""Passive realization of the filter cell: RC networks (plus a buffer and a gain stage).

τ_num < τ_den, lag network (CIRCUITS.md): buffered in → R1 → out → R2 → state → C → ground,

    V(out)/V(in) = (1 + s·R2·C)/(1 + s·(R1 + R2)·C),  τ_num = R2·C,  τ_den = (R1 + R2)·C,

and the capacitor voltage is the state in/(1 + s·τ_den).

τ_num = τ_den: out = in (a unity buffer), and R·C = τ_den builds the state.

τ_num > τ_den, lead network and gain: in → (R1 ∥ C) → n → R2 → ground, then
out = (τ_num/τ_den)·V(n):

    V(n)/V(in) = (τ_den/τ_num)·(1 + s·R1·C)/(1 + s·(R1 ∥ R2)·C),  τ_num = R1·C,  τ_den = (R1 ∥ R2)·C.

The state is then not a grounded node: the capacitor holds (1 − τ_den/τ_num)·state,
so a sensing VCVS (gain 1/(1 − τ_den/τ_num), not in the signal path) makes it one.
"""

from __future__ import annotations

from analogvle.circuit.cells import Builder
from analogvle.circuit.ir import capacitor, resistor, vcvs


class PassiveCells:
    name = "passive"
    current_input = False

    def filter_cell(self, b: Builder, *, role: str, tag: str, inp: str, out: str, state: str,
                    tau_num: float, tau_den: float, stiff: bool, owner: str) -> None:
        sc = b.scales
        c = sc.c_unit
        ts = sc.time_scale
        if tau_num == tau_den:
            b.add(vcvs(f"E{role}b_{tag}", out, "0", inp, "0", 1.0, owner=owner, role="unity buffer (out = in)"))
            b.add(resistor(f"R{role}_{tag}", out, state, tau_den * ts / c, owner=owner,
                           role="state resistor (R·C = τ_den·time_scale)"))
            b.add(capacitor(f"C{role}_{tag}", state, "0", c, 0.0, owner=owner, role="state capacitor"))
            return
        drive = inp
        if not stiff:
            drive = f"{role}b_{tag}"
            b.add(vcvs(f"E{role}b_{tag}", drive, "0", inp, "0", 1.0, owner=owner, role="input buffer"))
        if tau_num < tau_den:
            b.add(resistor(f"R{role}1_{tag}", drive, out, (tau_den - tau_num) * ts / c, owner=owner,
                           role="lag series resistor R1 ((R1 + R2)·C = τ_den)"))
            b.add(resistor(f"R{role}2_{tag}", out, state, tau_num * ts / c, owner=owner,
                           role="lag shunt resistor R2 (R2·C = τ_num)"))
            b.add(capacitor(f"C{role}_{tag}", state, "0", c, 0.0, owner=owner, role="lag capacitor (voltage = state)"))
            return
        node = f"{role}n_{tag}"
        r1 = tau_num * ts / c
        r2 = tau_den * tau_num * ts / (c * (tau_num - tau_den))
        b.add(resistor(f"R{role}1_{tag}", drive, node, r1, owner=owner, role="lead series resistor R1 (R1·C = τ_num)"))
        b.add(capacitor(f"C{role}_{tag}", drive, node, c, 0.0, owner=owner, role="lead capacitor (across R1)"))
        b.add(resistor(f"R{role}2_{tag}", node, "0", r2, owner=owner,
                       role="lead shunt resistor R2 ((R1 ∥ R2)·C = τ_den)"))
        b.add(vcvs(f"E{role}g_{tag}", out, "0", node, "0", tau_num / tau_den, owner=owner,
                   role="gain stage τ_num/τ_den"))
        b.add(vcvs(f"E{role}s_{tag}", state, "0", drive, node, 1.0 / (1.0 - tau_den / tau_num), owner=owner,
                   role="state sense (probe only): V(C)/(1 − τ_den/τ_num)"))
