"""The netlist generator: spec → circuit (one realization) → ngspice text.

Public contract (other stages import these):

- :class:`Probe`: where a trajectory signal lives in the circuit and how to
  map node voltages back to model units.
- :class:`Netlist`: a complete, runnable ngspice netlist plus its data files,
  probes, scales and transient settings.
- :func:`build_netlist`: spec → :class:`Netlist`.
- :func:`cli_netlist`: the ``analogvle netlist`` command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analogvle.circuit import (
    Circuit,
    Model,
    Pwl,
    Sin,
    Subckt,
    ac_vsource,
    filesource,
    format_netlist,
    format_number,
    get_summary,
    instance,
    vsource,
)
from analogvle.errors import NetlistError
from analogvle.realizations import Builder, Scales, get_cells
from analogvle.realizations.network import R_MAX, build_network, minimum_b_count
from analogvle.realizations.nonideal import NonIdeal, noise_node, noise_samples

_B_GAIN = re.compile(r"([-+]?[0-9.]+(?:e[-+]?[0-9]+)?)\*")  # the leading gain of a B current expression
R_RANGE = (1e-3, R_MAX)  # Ω, the physical range of a resistor (the default weight leak is capped at R_MAX)
C_MAX = 1.0  # F


@dataclass(frozen=True)
class Probe:
    """Where one trajectory signal lives in the circuit.

    ``nodes`` are lower-case ngspice node names, row-major over ``shape`` (the
    per-time-point model shape, e.g. ``(n,)`` or ``(n, m)``). The model value
    is ``(V(node) - offset) / scale``: ``scale`` in volts per model unit,
    ``offset`` in volts at model zero.
    """

    nodes: tuple[str, ...]
    shape: tuple[int, ...]
    scale: float
    offset: float = 0.0


@dataclass
class Netlist:
    """A complete ngspice netlist for one spec and realization.

    ``text`` runs as it stands (``ngspice -b -r out.raw FILE.cir``) with the
    ``data_files`` (file name → text) beside it. ``time_scale`` is seconds of
    circuit time per model time unit; ``tran`` holds step, stop, max_step
    (seconds), method, reltol, abstol, vntol; ``summary`` holds element counts
    and component value ranges.
    """

    name: str
    text: str
    data_files: dict[str, str] = field(default_factory=dict)
    probes: dict[str, Probe] = field(default_factory=dict)
    time_scale: float = 1e-3
    tran: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    def write(self, path: str | Path) -> Path:
        """Write the netlist to ``path`` and its data files beside it (atomically); returns ``path``."""
        from analogvle.trajectory import write_atomic

        path = Path(path)
        targets = [(path.parent / fname, content) for fname, content in self.data_files.items()]
        for target, content in targets + [(path, self.text)]:
            write_atomic(target, lambda f, c=content: f.write(c.encode("utf-8")))
        return path



# ----------------------------------------------------------------------------
# Elaboration: spec → circuit
# ----------------------------------------------------------------------------


def build_netlist(spec, realization: str | None = None) -> Netlist:
    """Elaborate ``spec`` into a runnable :class:`Netlist`.

    ``realization`` is 'ideal' or 'passive' (default: the spec's
    ``[circuit] realization``). Raises :class:`NetlistError` when the
    realization cannot build the spec or a component leaves its physical range.
    """
    realization = realization or spec.circuit.realization
    circuit, probes, b_minimum = build_circuit(spec, realization)
    return _finish(spec, realization, circuit, probes, b_minimum)


def build_circuit(spec, realization: str) -> tuple[Circuit, dict[str, Probe], int]:
    """The circuit of ``spec`` (before control cards and header), its probes and its minimum B count."""
    scales = Scales.from_spec(spec.circuit)
    circuit = Circuit(title=f"analogvle netlist: {spec.name} ({realization} realization)")
    nonideal = NonIdeal.from_spec(spec)
    b = Builder(circuit, scales, get_cells(realization), circuit.notes, nonideal)
    circuit.notes.extend(nonideal.describe())
    probes: dict[str, Probe] = {}
    vs = scales.v_scale

    x_nodes = _input_sources(b, spec, circuit)
    probes["x"] = Probe(tuple(x_nodes), (len(x_nodes),), vs)

    target_nodes = None
    if spec.teacher is not None:
        target_nodes = _teacher(b, spec, circuit, x_nodes)
    elif spec.target is not None:
        target_nodes = _sampled_target(b, spec, circuit)
    if target_nodes is not None:
        probes["target"] = Probe(tuple(target_nodes), (len(target_nodes),), vs)

    net = spec.network
    gate = None
    if any(layer.plastic for layer in net.layers) and spec.time.learn_after > 0:
        gate = "learn_gate"
        t1 = spec.time.learn_after * scales.time_scale
        rise = 1e-3 * spec.time.dt * scales.time_scale
        b.comment("")
        b.comment(f"learning gate: 0 V before learn_after = {format_number(spec.time.learn_after)}, then 1 V")
        b.add(vsource("Vgate", gate, "0", Pwl(((0.0, 0.0), (t1, 0.0), (t1 + rise, 1.0))),
                      owner="plasticity", role="learn_after gate"))
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
            probes[f"layer{l}/b"] = Probe(tuple(nodes.bias[l]), n, vs)
    if nonideal.noise:
        _noise_sources(b, spec, circuit, nonideal)
    b_minimum = minimum_b_count(net, net.errors, gated=gate is not None)
    if spec.teacher is not None:
        b_minimum += minimum_b_count(spec.teacher, "none", gated=False)
    if spec.circuit.mismatch > 0:
        _apply_mismatch(circuit, spec.circuit.mismatch, spec.circuit.seed)
    check_physical_range(circuit, spec.source, scales)
    return circuit, probes, b_minimum


def _input_sources(b: Builder, spec, circuit: Circuit) -> list[str]:
    """x(t): series SIN sources for sines, an XSPICE filesource reading a data file otherwise."""
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
    from analogvle.inputs import input_values

    n = spec.time.n_steps + 2
    if inp.kind == "file":
        data = inp.data[: min(len(inp.data), n)]
    else:
        data = input_values(inp, np.arange(n) * spec.time.dt, spec.time.dt)
    fname = f"{spec.name}_x.txt"
    what = "square wave" if inp.kind == "square" else f"samples of {Path(str(inp.path)).name}"
    b.comment(f"==== input x(t): {what} at dt = {format_number(spec.time.dt)}, read from {fname} (model units)")
    _filesource(b, circuit, "Ax", "fs_x", fname, nodes, data, spec.time.dt)
    return nodes


def _filesource(b: Builder, circuit: Circuit, name: str, model: str, fname: str, nodes: list[str],
                data: np.ndarray, dt: float) -> None:
    sc = b.scales
    cols = data.shape[1]
    circuit.models.append(Model(model, "filesource", {
        "file": fname, "amploffset": [0.0] * cols, "amplscale": [sc.v_scale] * cols,
        "timeoffset": 0.0, "timescale": sc.time_scale, "timerelative": False, "amplstep": False,
    }))
    b.add(filesource(name, tuple(nodes), model, owner=fname, role="sampled source"))
    lines = [" ".join([format_number(k * dt)] + [format_number(v) for v in row]) for k, row in enumerate(data)]
    circuit.data_files[fname] = "\n".join(lines) + "\n"


def _sampled_target(b: Builder, spec, circuit: Circuit) -> list[str]:
    n_out = spec.network.sizes[-1]
    nodes = [f"target_n{i}" for i in range(n_out)]
    data = spec.target.data[: min(len(spec.target.data), spec.time.n_steps + 2)]
    fname = f"{spec.name}_target.txt"
    b.comment("")
    b.comment(f"==== target(t): samples of {spec.target.path.name} at dt = {format_number(spec.time.dt)}, from {fname}")
    _filesource(b, circuit, "Atarget", "fs_target", fname, nodes, data, spec.time.dt)
    return nodes


def _teacher(b: Builder, spec, circuit: Circuit, x_nodes: list[str]) -> list[str]:
    """The teacher as subcircuit ``teacher`` (forward path only); its top rates are the target."""
    n_out = spec.teacher.sizes[-1]
    target = [f"target_n{i}" for i in range(n_out)]
    sub = Subckt("teacher", tuple(x_nodes) + tuple(target))
    tb = Builder(sub, b.scales, b.cells)
    tb.comment("teacher network (target generator): forward path only, no errors, no plasticity")
    build_network(tb, spec.teacher, label="teacher", inputs=x_nodes, errors="none", top_rates=target)
    circuit.subckts.append(sub)
    b.comment("")
    b.comment("==== target(t) = output of the teacher network (subcircuit teacher)")
    b.add(instance("Xteacher", tuple(x_nodes) + tuple(target), "teacher", owner="teacher", role="teacher network"))
    return target


def _noise_sources(b: Builder, spec, circuit: Circuit, nonideal: NonIdeal) -> None:
    """The seeded noise voltages nz_* behind every summing node's noise current (a non-ideality)."""
    tags = [f"l{l}_n{i}" for l, layer in enumerate(spec.network.layers, 1) for i in range(layer.size)]
    data = noise_samples(nonideal, spec.circuit.seed, len(tags), spec.time.duration)
    fname = f"{spec.name}_noise.txt"
    b.comment("")
    b.comment(f"==== transient noise: Gaussian samples every {format_number(nonideal.noise_dt)} time units, "
              f"RMS {format_number(nonideal.noise)}, seed {spec.circuit.seed}, read from {fname}")
    _filesource(b, circuit, "Anz", "fs_noise", fname, [noise_node(t) for t in tags], data, nonideal.noise_dt)


def _apply_mismatch(circuit: Circuit, sigma: float, seed: int) -> None:
    """Component mismatch: every R, C and G value times (1 + sigma·N(0, 1)), seeded, in netlist order.

    Behavioural current sources whose expression starts with a gain (``k*...``:
    multiplier synapses, learning currents, tanh-limited synapses) are
    transconductors too; their gain is perturbed the same way.
    """
    rng = np.random.default_rng(seed)
    key = {"R": "r", "C": "c", "G": "gm"}

    def perturb(items: list) -> None:
        for idx, item in enumerate(items):
            kind = getattr(item, "kind", None)
            params = dict(getattr(item, "params", {}))
            if kind in key:
                params[key[kind]] = params[key[kind]] * (1.0 + sigma * rng.standard_normal())
            elif kind == "B" and item.nodes[0] == "0" and (gain := _B_GAIN.match(params["expr"])):
                k = float(gain.group(1)) * (1.0 + sigma * rng.standard_normal())
                params["expr"] = format_number(k) + params["expr"][gain.end(1):]
            else:
                continue
            items[idx] = type(item)(item.primitive, item.name, item.nodes, params, item.owner, item.role)

    for sub in circuit.subckts:
        perturb(sub.items)
    perturb(circuit.items)
    circuit.notes.append(f"component mismatch: R, C, G scaled by 1 + {format_number(sigma)}*N(0,1), seed {seed}")


def check_physical_range(circuit: Circuit, source: str, scales: Scales) -> None:
    """NetlistError naming the neuron, the element and its value when R or C is not buildable."""
    hint = (f"(scales: time_scale = {format_number(scales.time_scale)} s, c_unit = {format_number(scales.c_unit)} F, "
            f"g_unit = {format_number(scales.g_unit)} S; change them in [circuit])")
    for el in circuit.elements():
        if el.kind == "R" and not R_RANGE[0] <= el.value <= R_RANGE[1]:
            raise NetlistError(f"{source}: {el.owner}: {el.role} {el.name} would be {el.value:.6g} Ohm, outside the "
                               f"physical range {R_RANGE[0]:g}..{R_RANGE[1]:g} Ohm {hint}")
        if el.kind == "C" and not 0 < el.value <= C_MAX:
            raise NetlistError(f"{source}: {el.owner}: {el.role} {el.name} would be {el.value:.6g} F, outside the "
                               f"physical range 0..{C_MAX:g} F {hint}")


def _finish(spec, realization: str, circuit: Circuit, probes: dict[str, Probe], b_minimum: int) -> Netlist:
    ts = spec.circuit.time_scale
    sim = spec.simulator
    tran = {
        "step": spec.time.save_dt * ts,
        "stop": spec.time.duration * ts,
        "max_step": spec.max_step * ts,
        "method": sim.method,
        "reltol": sim.reltol,
        "abstol": sim.abstol,
        "vntol": sim.vntol,
    }
    circuit.options = {"reltol": sim.reltol, "abstol": sim.abstol, "vntol": sim.vntol, "method": sim.method}
    circuit.saves = sorted({n for p in probes.values() for n in p.nodes})
    f = format_number
    circuit.analysis = f".tran {f(tran['step'])} {f(tran['stop'])} 0 {f(tran['max_step'])} uic"
    summary = _summary(spec, realization, circuit, b_minimum)
    data = f"  (data files beside it: {', '.join(sorted(circuit.data_files))})" if circuit.data_files else ""
    circuit.header = [
        *format_summary(summary),
        "initial conditions: every state 0 V, plastic weights at their spec values (capacitor ic=, .tran uic)",
        f"run: ngspice -b -r out.raw THIS_FILE.cir{data}",
    ]
    return Netlist(
        name=spec.name,
        text=format_netlist(circuit),
        data_files=dict(circuit.data_files),
        probes=probes,
        time_scale=ts,
        tran=tran,
        summary=summary,
    )


def _summary(spec, realization: str, circuit: Circuit, b_minimum: int) -> dict:
    s = get_summary(circuit)
    c = spec.circuit
    net = spec.network
    s.update(
        spec=spec.name,
        realization=realization,
        scales={"time_scale": c.time_scale, "v_scale": c.v_scale, "g_unit": c.g_unit, "c_unit": c.c_unit},
        network=" -> ".join(map(str, (net.inputs,) + net.sizes)),
        errors=net.errors,
        target="teacher subcircuit" if spec.teacher is not None else ("sampled" if spec.target is not None else "none"),
        b_minimum=b_minimum,
        non_idealities=list(circuit.notes),
        nodes=len({n for el in circuit.elements() for n in el.nodes} - {"0"}),
    )
    return s


def format_summary(summary: dict) -> list[str]:
    """The summary as lines (the netlist header and the command's output)."""
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


# ----------------------------------------------------------------------------
# Test benches: the smallest circuits, against analytic answers
# ----------------------------------------------------------------------------


def build_cell_ac(
    cell: str,
    tau_m: float,
    tau_r: float,
    *,
    realization: str = "ideal",
    scales: Scales | None = None,
    decades: float = 3.0,
    points_per_decade: int = 20,
) -> Netlist:
    """An ``.ac`` bench of one filter cell driven by a 1 V AC source at node ``in``.

    ``cell`` = 'neuron' (in = s, out = ŭ, expected (1 + sτr)/(1 + sτm)) or
    'error' (in = p, out = e, expected (1 + sτm)/(1 + sτr)). The sweep spans
    ``decades`` around ω = 1/sqrt(τm·τr) (model units; Hz = ω/(2π·time_scale)).
    Probes: 'in', 'out', 'state'. ``summary['expected']`` holds (τ_num, τ_den).
    """
    scales = scales or Scales()
    if cell not in ("neuron", "error"):
        raise NetlistError(f"unknown cell {cell!r} (expected 'neuron' or 'error')")
    tau_num, tau_den = (tau_r, tau_m) if cell == "neuron" else (tau_m, tau_r)
    circuit = Circuit(title=f"analogvle AC bench: {cell} cell, tau_m = {tau_m}, tau_r = {tau_r} ({realization})")
    b = Builder(circuit, scales, get_cells(realization))
    b.add(ac_vsource("Vin", "in", 1.0, owner="bench", role="AC drive"))
    b.comment(f"{cell} cell: out = (1 + s {tau_num})/(1 + s {tau_den}) in")
    b.cells.filter_cell(b, role="m" if cell == "neuron" else "v", tag="bench", inp="in", out="out", state="state",
                        tau_num=tau_num, tau_den=tau_den, stiff=cell == "error", owner=f"{cell} cell")
    check_physical_range(circuit, "bench", scales)
    omega_c = 1.0 / np.sqrt(tau_m * tau_r)
    f_lo = omega_c * 10 ** (-decades / 2) / (2 * np.pi * scales.time_scale)
    f_hi = omega_c * 10 ** (decades / 2) / (2 * np.pi * scales.time_scale)
    circuit.analysis = f".ac dec {points_per_decade} {format_number(f_lo)} {format_number(f_hi)}"
    probes = {k: Probe((k,), (1,), scales.v_scale) for k in ("in", "out", "state")}
    return Netlist(name=f"ac_{cell}", text=format_netlist(circuit), probes=probes, time_scale=scales.time_scale,
                   summary={**get_summary(circuit), "expected": (tau_num, tau_den)})


def build_synapse_dc(
    weight: float,
    *,
    realization: str = "ideal",
    scales: Scales | None = None,
    tau_m: float = 1.0,
    tau_r: float = 0.1,
    sweep: tuple[float, float, float] = (-1.0, 1.0, 0.25),
    nonideal: NonIdeal | None = None,
) -> Netlist:
    """A ``.dc`` bench: x → one static synapse W → a linear neuron; V(r)/V(x) should equal W.

    ``sweep`` is (start, stop, step) of x in model units; the probes are the
    network's own ('x', 'layer1/u', 'layer1/uhat', 'layer1/r'). ``nonideal``: the
    non-idealities of the synapse (default none).
    """
    from analogvle.circuit import Dc
    from analogvle.spec import LayerSpec, NetworkSpec

    scales = scales or Scales()
    layer = LayerSpec(1, np.array([tau_m]), np.array([tau_r]), "linear", 0.0, np.array([[float(weight)]]), np.zeros(1))
    net = NetworkSpec(inputs=1, layers=(layer,), errors="none")
    circuit = Circuit(title=f"analogvle DC bench: static synapse W = {weight} ({realization})")
    b = Builder(circuit, scales, get_cells(realization), nonideal=nonideal or NonIdeal())
    b.add(vsource("Vx_n0", "x_n0", "0", Dc(0.0), owner="bench", role="swept input"))
    nodes = build_network(b, net, label="bench", inputs=["x_n0"], errors="none")
    check_physical_range(circuit, "bench", scales)
    vs = scales.v_scale
    lo, hi, step = (format_number(v * vs) for v in sweep)
    circuit.analysis = f".dc Vx_n0 {lo} {hi} {step}"
    probes = {"x": Probe(("x_n0",), (1,), vs)}
    for kind in ("u", "uhat", "r"):
        probes[f"layer1/{kind}"] = Probe((getattr(nodes, kind)[0][0],), (1,), vs)
    return Netlist(name="dc_synapse", text=format_netlist(circuit), probes=probes, time_scale=scales.time_scale,
                   summary=get_summary(circuit))


# ----------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------


def cli_netlist(args) -> int:
    """``analogvle netlist SPEC -o FILE.cir [--realization ideal|passive]``: write the netlist, print its summary."""
    from analogvle.spec import load_spec

    spec = load_spec(args.spec)
    netlist = build_netlist(spec, getattr(args, "realization", None))
    path = netlist.write(args.output)
    for line in format_summary(netlist.summary):
        print(line)
    files = ", ".join(str(path.parent / f) for f in sorted(netlist.data_files))
    print(f"wrote {path}" + (f" and {files}" if files else ""))
    return 0
