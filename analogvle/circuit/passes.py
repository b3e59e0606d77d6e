"""Passes over an elaborated circuit: component mismatch, the physical-range check, the summary.

Each pass reads or edits fields of the data (:mod:`analogvle.circuit.ir`);
none parses text.
"""

from __future__ import annotations

import numpy as np

from analogvle.circuit.cells import Scales
from analogvle.circuit.ir import Circuit, Element
from analogvle.errors import NetlistError
from analogvle.formatting import format_number
from analogvle.model.expr import Scaled

R_MAX = 1e15  # Ω: the largest buildable resistor (a weight capacitor's default leak is capped here)
R_RANGE = (1e-3, R_MAX)  # Ω
C_MAX = 1.0  # F
SUMMARY_KINDS = ("R", "C", "G", "E", "B", "sources", "A", "X")
_VALUE_KEY = {"R": "r", "C": "c", "G": "gm"}


def apply_mismatch(circuit: Circuit, sigma: float, seed: int) -> None:
    """Every R, C and G value, and the gain of every scaled behavioural current (a transconductor:
    multiplier synapses, learning currents, tanh-limited synapses, rail clamps), times
    (1 + sigma·N(0, 1)), drawn from ``seed`` in netlist order (subcircuits first)."""
    rng = np.random.default_rng(seed)

    def perturb(items: list) -> None:
        for idx, item in enumerate(items):
            if not isinstance(item, Element):
                continue
            if item.kind in _VALUE_KEY:
                key = _VALUE_KEY[item.kind]
                items[idx] = item.with_params(**{key: item.params[key] * (1.0 + sigma * rng.standard_normal())})
            elif item.primitive.name == "behavioural_current" and isinstance(item.params["expr"], Scaled):
                expr = item.params["expr"]
                gain = expr.gain * (1.0 + sigma * rng.standard_normal())
                items[idx] = item.with_params(expr=Scaled(gain, expr.term))

    for sub in circuit.subckts:
        perturb(sub.items)
    perturb(circuit.items)
    circuit.notes.append(f"component mismatch: R, C, G scaled by 1 + {format_number(sigma)}*N(0,1), seed {seed}")


def check_physical_range(circuit: Circuit, source: str, scales: Scales) -> None:
    """NetlistError naming the neuron, the element and its value when an R or C is not buildable."""
    hint = (f"(scales: time_scale = {format_number(scales.time_scale)} s, c_unit = {format_number(scales.c_unit)} F, "
            f"g_unit = {format_number(scales.g_unit)} S; change them in [circuit])")
    for el in circuit.elements():
        if el.kind == "R" and not R_RANGE[0] <= el.value <= R_RANGE[1]:
            raise NetlistError(f"{source}: {el.owner}: {el.role} {el.name} would be {el.value:.6g} Ohm, outside the "
                               f"physical range {R_RANGE[0]:g}..{R_RANGE[1]:g} Ohm {hint}")
        if el.kind == "C" and not 0 < el.value <= C_MAX:
            raise NetlistError(f"{source}: {el.owner}: {el.role} {el.name} would be {el.value:.6g} F, outside the "
                               f"physical range 0..{C_MAX:g} F {hint}")


def get_summary(circuit: Circuit) -> dict:
    """Element counts per class, the ranges of R (Ω), C (F), G (S) and E gains, and the node count."""
    counts = {k: 0 for k in SUMMARY_KINDS}
    values: dict[str, list[float]] = {"R": [], "C": [], "G": [], "E": []}
    nodes: set[str] = set()
    for el in circuit.elements():
        counts[el.kind] += 1
        nodes.update(el.nodes)
        if el.kind in values:
            values[el.kind].append(abs(el.value))
    ranges = {k: [min(v), max(v)] for k, v in values.items() if v}
    return {"counts": counts, "ranges": ranges, "elements": sum(counts.values()), "nodes": len(nodes - {"0"})}


def format_summary(summary: dict) -> list[str]:
    """A netlist summary as lines (the netlist header and the command's output)."""
    f = format_number
    sc = summary["scales"]
    counts = summary["counts"]
    units = {"R": "Ohm", "C": "F", "G": "S", "E": "(gain)"}
    lines = [
        f"spec {summary['spec']}, {summary['realization']} realization",
        (f"scales: time_scale = {f(sc['time_scale'])} s per time unit, v_scale = {f(sc['v_scale'])} V per unit, "
         f"g_unit = {f(sc['g_unit'])} S, c_unit = {f(sc['c_unit'])} F"),
        f"network {summary['network']}, errors = {summary['errors']}, target: {summary['target']}",
        ("elements: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v or k in "RCGEB")
         + f" (total {summary['elements']}, nodes {summary['nodes']})"),
        (f"behavioural (B) elements: {counts['B']}, the minimum for phi, phi'*eps and plastic products: "
         f"{summary['b_minimum']}"),
    ]
    for k, (lo, hi) in summary["ranges"].items():
        lines.append(f"range {k}: {f(lo)} .. {f(hi)} {units[k]}")
    lines += [f"non-ideality: {n}" for n in summary["non_idealities"]]
    return lines
