"""Spec → circuit: the whole experiment as simulator-neutral data, with its probes and summary.

:func:`build_circuit` elaborates the input sources, the target (a teacher
subcircuit or sampled data), the learning gate, the network (one block per
term, :mod:`analogvle.circuit.network`), the noise sources, then runs the
passes (mismatch, physical range) and sets the analysis, options, saved
nodes and header — all as data. A netlist writer turns the result into text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analogvle.circuit.cells import Builder, Scales, get_cells
from analogvle.circuit.ir import Circuit, Pwl, Samples, Sin, Subckt, Tran, instance, sampled_source, vsource
from analogvle.circuit.network import build_network, minimum_b_count
from analogvle.circuit.nonideal import NonIdeal, noise_node, noise_samples
from analogvle.circuit.passes import apply_mismatch, check_physical_range, format_summary, get_summary
from analogvle.circuit.probes import Probe, probe_nodes
from analogvle.errors import NetlistError, SpecError
from analogvle.formatting import format_number
from analogvle.model.inputs import input_values
from analogvle.model.spec import Spec
from analogvle.registry import REALIZATIONS


@dataclass
class CircuitBuild:
    """An elaborated spec: the circuit, where each trajectory signal is, and the summary."""

    circuit: Circuit
    probes: dict[str, Probe]
    summary: dict
    time_scale: float  # s per model time unit


def build_circuit(spec: Spec, realization: str | None = None, *, trims: dict[str, float] | None = None,
                  calibrating: bool = False) -> CircuitBuild:
    """Elaborate ``spec`` with ``realization`` (default: the spec's) into a complete circuit.

    ``trims``: offset trims a transistor realization measured in simulation (neuron tag → bias in
    model units; :mod:`analogvle.simulate.trim`); other realizations take none.
    """
    if spec.input is None:
        raise SpecError("a [task] spec has no input signal for a circuit: evaluate a trained network "
                        "(analogvle evaluate)", key="task", source=spec.source)
    realization = realization or spec.circuit.realization
    cells = get_cells(realization)
    for key, off in (("pdk_mismatch", False), ("bias_scale", 1.0)):
        if getattr(spec.circuit, key) != off and not REALIZATIONS.has(realization, "transistor"):
            raise NetlistError(f"{spec.source or spec.name}: circuit.{key} = {getattr(spec.circuit, key)} needs a "
                               f"transistor realization (sky130), not {realization!r}")
    if REALIZATIONS.has(realization, "transistor"):  # a transistor realization elaborates the whole network
        return cells.build_circuit(spec, trims=trims, calibrating=calibrating)
    scales = Scales.from_spec(spec.circuit)
    circuit = Circuit(title=f"analogvle netlist: {spec.name} ({realization} realization)")
    nonideal = NonIdeal.from_spec(spec)
    b = Builder(circuit, scales, cells, circuit.notes, nonideal)
    circuit.notes.extend(nonideal.describe())
    probes: dict[str, Probe] = {}
    vs = scales.v_scale

    x_nodes = _input_sources(b, spec)
    probes["x"] = Probe(tuple(x_nodes), (len(x_nodes),), vs)
    target_nodes = None
    if spec.teacher is not None:
        target_nodes = _teacher(b, spec, circuit, x_nodes)
    elif spec.target is not None:
        target_nodes = _sampled_target(b, spec)
    if target_nodes is not None:
        probes["target"] = Probe(tuple(target_nodes), (len(target_nodes),), vs)

    net = spec.network
    gate = _learning_gate(b, spec) if net.plastic and spec.time.learn_after > 0 else None
    nodes = build_network(b, net, label="network", inputs=x_nodes, errors=net.errors, target=target_nodes,
                          learn_gate=gate)
    for l, layer in enumerate(net.layers, 1):
        n = (layer.size,)
        probes[f"layer{l}/u"] = Probe(tuple(nodes.u[l - 1]), n, vs)
        probes[f"layer{l}/uhat"] = Probe(tuple(nodes.uhat[l - 1]), n, vs)
        probes[f"layer{l}/r"] = Probe(tuple(nodes.r[l - 1]), n, vs)
        if net.errors != "none":
            probes[f"layer{l}/v"] = Probe(tuple(nodes.v[l - 1]), n, vs)
            probes[f"layer{l}/e"] = Probe(tuple(nodes.e[l - 1]), n, vs)
        if layer.plastic:
            probes[f"layer{l}/W"] = Probe(tuple(w for row in nodes.w[l] for w in row), (layer.size, layer.fan_in), vs)
        if layer.learns_bias:
            probes[f"layer{l}/b"] = Probe(tuple(nodes.bias[l]), n, vs)
    if nonideal.noise:
        _noise_sources(b, spec, nonideal)
    b_minimum = minimum_b_count(net, net.errors, gated=gate is not None)
    if spec.teacher is not None:
        b_minimum += minimum_b_count(spec.teacher, "none", gated=False)
    if spec.circuit.mismatch > 0:
        apply_mismatch(circuit, spec.circuit.mismatch, spec.circuit.seed)
    check_physical_range(circuit, spec.source, scales)
    _control(spec, circuit, probes)
    summary = _summary(spec, realization, circuit, b_minimum)
    data = sorted(el.params["samples"].file for el in circuit.elements() if el.primitive.name == "sampled_source")
    files = f"  (data files beside it: {', '.join(data)})" if data else ""
    circuit.header = [
        *format_summary(summary),
        "initial conditions: every state 0 V, plastic weights at their spec values (capacitor ic=, .tran uic)",
        f"run: ngspice -b -r out.raw THIS_FILE.cir{files}",
    ]
    return CircuitBuild(circuit, probes, summary, scales.time_scale)


def _control(spec: Spec, circuit: Circuit, probes: dict[str, Probe]) -> None:
    """The transient the spec describes, its options and the saved nodes."""
    ts, sim = spec.circuit.time_scale, spec.simulator
    circuit.options = {"reltol": sim.reltol, "abstol": sim.abstol, "vntol": sim.vntol, "method": sim.method}
    circuit.solver = sim.solver
    circuit.saves = sorted(probe_nodes(probes))
    circuit.analyses = [Tran(step=spec.time.save_dt * ts, stop=spec.time.duration * ts, max_step=spec.max_step * ts)]


def _learning_gate(b: Builder, spec: Spec) -> str:
    """A 0/1 V node that switches plasticity on at learn_after."""
    ts = b.scales.time_scale
    t1 = spec.time.learn_after * ts
    rise = 1e-3 * spec.time.dt * ts
    b.comment("")
    b.comment(f"learning gate: 0 V before learn_after = {format_number(spec.time.learn_after)}, then 1 V")
    b.add(vsource("Vgate", "learn_gate", "0", Pwl(((0.0, 0.0), (t1, 0.0), (t1 + rise, 1.0))),
                  owner="plasticity", role="learn_after gate"))
    return "learn_gate"


#: outputs per sampled source: ngspice's filesource reads each data line into a 512-byte buffer and takes
#: the rest of a longer line for the next rows (silently wrong values), so a wide source is split in several
SAMPLED_COLUMNS = 16


def _input_sources(b: Builder, spec: Spec) -> list[str]:
    """x(t): series SIN sources for sines, a sampled source otherwise."""
    inp, sc = spec.input, b.scales
    nodes = [f"x_n{c}" for c in range(inp.channels)]
    b.comment("")
    if inp.kind == "sines":
        b.comment("==== input x(t) = sum_k a_k sin(omega_k t + phase_k): SIN sources in series, one chain per channel")
        for c, top in enumerate(nodes):
            terms = list(zip(inp.omegas[c], inp.amplitudes[c], inp.phases[c]))
            for k, (omega, amp, phase) in enumerate(terms):
                lower = "0" if k == len(terms) - 1 else f"{top}_w{k + 1}"
                upper = top if k == 0 else f"{top}_w{k}"
                wave = Sin(0.0, amp * sc.v_scale, omega / (2 * np.pi * sc.time_scale), 0.0, 0.0,
                           float(np.degrees(phase)))
                b.add(vsource(f"Vx_n{c}_w{k}", upper, lower, wave, owner=f"input channel {c}",
                              role=f"omega = {format_number(omega)}"))
        return nodes
    n = spec.time.n_steps + 2
    if inp.kind == "file":
        data = inp.data[: min(len(inp.data), n)]
    else:
        data = input_values(inp, np.arange(n) * spec.time.dt, spec.time.dt)
    fname = f"{spec.name}_x.txt"
    what = "square wave" if inp.kind == "square" else f"samples of {Path(str(inp.path)).name}"
    b.comment(f"==== input x(t): {what} at dt = {format_number(spec.time.dt)}, read from {fname} (model units)")
    _sampled(b, "Ax", fname, nodes, data, spec.time.dt)
    return nodes


def _sampled(b: Builder, name: str, fname: str, nodes: list[str], data: np.ndarray, dt: float) -> None:
    """A sampled source on ``nodes``; above SAMPLED_COLUMNS outputs, several (``{name}_k``, file ``*_k.txt``)."""
    data = np.asarray(data, dtype=float)
    starts = range(0, len(nodes), SAMPLED_COLUMNS)
    for k, start in enumerate(starts):
        part, file = (name, fname) if len(starts) == 1 else (f"{name}_{k}", fname.replace(".txt", f"_{k}.txt"))
        cols = slice(start, start + SAMPLED_COLUMNS)
        samples = Samples(data[:, cols], dt, b.scales.v_scale, b.scales.time_scale, file)
        b.add(sampled_source(part, tuple(nodes[cols]), samples, owner=file, role="sampled source"))


def _sampled_target(b: Builder, spec: Spec) -> list[str]:
    nodes = [f"target_n{i}" for i in range(spec.network.sizes[-1])]
    data = spec.target.data[: min(len(spec.target.data), spec.time.n_steps + 2)]
    fname = f"{spec.name}_target.txt"
    b.comment("")
    b.comment(f"==== target(t): samples of {spec.target.path.name} at dt = {format_number(spec.time.dt)}, "
              f"from {fname}")
    _sampled(b, "Atarget", fname, nodes, data, spec.time.dt)
    return nodes


def _teacher(b: Builder, spec: Spec, circuit: Circuit, x_nodes: list[str]) -> list[str]:
    """The teacher as subcircuit ``teacher`` (forward path only); its top rates are the target."""
    target = [f"target_n{i}" for i in range(spec.teacher.sizes[-1])]
    sub = Subckt("teacher", tuple(x_nodes) + tuple(target))
    tb = Builder(sub, b.scales, b.cells)
    tb.comment("teacher network (target generator): forward path only, no errors, no plasticity")
    build_network(tb, spec.teacher, label="teacher", inputs=x_nodes, errors="none", top_rates=target)
    circuit.subckts.append(sub)
    b.comment("")
    b.comment("==== target(t) = output of the teacher network (subcircuit teacher)")
    b.add(instance("Xteacher", tuple(x_nodes) + tuple(target), "teacher", owner="teacher", role="teacher network"))
    return target


def _noise_sources(b: Builder, spec: Spec, nonideal: NonIdeal) -> None:
    """The seeded noise voltages nz_* behind every summing node's noise current (a non-ideality)."""
    tags = [f"l{l}_n{i}" for l, layer in enumerate(spec.network.layers, 1) for i in range(layer.size)]
    data = noise_samples(nonideal, spec.circuit.seed, len(tags), spec.time.duration)
    fname = f"{spec.name}_noise.txt"
    b.comment("")
    b.comment(f"==== transient noise: Gaussian samples every {format_number(nonideal.noise_dt)} time units, "
              f"RMS {format_number(nonideal.noise)}, seed {spec.circuit.seed}, read from {fname} "
              f"(split in files of at most {SAMPLED_COLUMNS} columns)")
    _sampled(b, "Anz", fname, [noise_node(t) for t in tags], data, nonideal.noise_dt)


def _summary(spec: Spec, realization: str, circuit: Circuit, b_minimum: int) -> dict:
    s = get_summary(circuit)
    c, net = spec.circuit, spec.network
    s.update(
        spec=spec.name,
        realization=realization,
        scales={"time_scale": c.time_scale, "v_scale": c.v_scale, "g_unit": c.g_unit, "c_unit": c.c_unit},
        network=" -> ".join(map(str, (net.inputs,) + net.sizes)),
        errors=net.errors,
        target="teacher subcircuit" if spec.teacher is not None else ("sampled" if spec.target is not None else "none"),
        b_minimum=b_minimum,
        non_idealities=list(circuit.notes),
    )
    return s
