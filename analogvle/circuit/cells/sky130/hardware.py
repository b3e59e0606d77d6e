"""Area and bias-current accounting of a sky130 netlist: per device, per cell, per neuron and per synapse.

Area: every nfet/pfet counts W·L (gate area) and every MIM capacitor
(w + dw)·(l + dw), the area that gives its capacitance at the PDK's density
sw_cap_mim_ca = 2 fF/µm² (``continuous/parameters_cap_nom.spice`` of the
sky130 package, read from the file). Wiring and diffusion are an assumption:
the transistor area is multiplied by WIRING_FACTOR; the MIM capacitors sit on
metal 3/4 and are added without overlap credit.

Supply current: the design bias of each cell (its tails as multiples of IREF,
plus the copies its mirrors make), used to split the *measured* mean supply
power (from the transient's VDD current) between neurons, synapses, the
input cell, the bias generator and the r-probes (instrumentation).
"""

from __future__ import annotations

from analogvle.circuit.cells.sky130.pdk import CAP, MIM_DW, NFET, PFET, mim_capacitance_per_area
from analogvle.circuit.ir import Circuit, Subckt

WIRING_FACTOR = 2.0  # assumption: diffusion, contacts and local wiring double the transistor gate area


def _cell_area(sub: Subckt, subs: dict[str, Subckt], memo: dict) -> tuple[float, float]:
    """(transistor W·L µm², MIM µm²) of one instance of ``sub`` (nested subcircuits included)."""
    if sub.name in memo:
        return memo[sub.name]
    fet = mim = 0.0
    for el in sub.elements():
        if el.primitive.name != "instance":
            continue
        model, p = el.params["subckt"], el.params["params"]
        if model in (NFET, PFET):
            fet += float(p["w"]) * float(p["l"])
        elif model == CAP:
            mim += (float(p["w"]) + MIM_DW) * (float(p["l"]) + MIM_DW)
        elif model in subs:
            f, m = _cell_area(subs[model], subs, memo)
            fet, mim = fet + f, mim + m
    memo[sub.name] = (fet, mim)
    return fet, mim


def category(instance_owner: str, role: str, cell: str) -> str:
    if instance_owner == "probe":
        return "probes"
    if instance_owner.startswith("input"):
        return "input"
    if cell.startswith("learn_"):
        return "learning"
    if cell.startswith(("syn", "gil", "weight_cap")) or role.startswith(("W ", "eps term")):  # a weight's storage too
        return "synapses"
    return "neurons"


def account(circuit: Circuit, supply: dict[str, float], n_neurons: int, n_synapses: int) -> dict:
    """Area and design supply currents (``supply``: cell → A) of ``circuit``, per category, neuron and synapse."""
    subs = {s.name: s for s in circuit.subckts}
    memo: dict = {}
    area = {"neurons": [0.0, 0.0], "synapses": [0.0, 0.0], "input": [0.0, 0.0], "probes": [0.0, 0.0],
            "bias": [0.0, 0.0], "learning": [0.0, 0.0]}
    current = {k: 0.0 for k in area}
    for el in circuit.items:
        if getattr(el, "primitive", None) is None or el.primitive.name != "instance" or el.params["subckt"] not in subs:
            continue
        cell = el.params["subckt"]
        cat = "bias" if cell.startswith("bias") else category(el.owner, el.role, cell)
        f, m = _cell_area(subs[cell], subs, memo)
        area[cat][0] += f
        area[cat][1] += m
        current[cat] += supply.get(cell, 0.0)
    chip = {k: WIRING_FACTOR * v[0] + v[1] for k, v in area.items() if k != "probes"}
    return {
        "neurons": n_neurons, "synapses": n_synapses,
        "area_um2": {k: {"transistors_WL": v[0], "mim": v[1], "with_wiring": WIRING_FACTOR * v[0] + v[1]}
                     for k, v in area.items()},
        "area_total_um2": sum(chip.values()),
        "area_per_neuron_um2": chip["neurons"] / max(n_neurons, 1),
        "area_per_synapse_um2": chip["synapses"] / max(n_synapses, 1),
        "area_assumption": (f"transistor W*L x {WIRING_FACTOR:g} (diffusion, contacts, local wiring) + MIM "
                            f"(w+dw)(l+dw) at sw_cap_mim_ca = {mim_capacitance_per_area() * 1e15:g} fF/um^2 "
                            "(sky130 continuous/parameters_cap_nom.spice), no overlap credit; r-probes excluded"),
        "design_current_A": current,
    }
