"""Offset trims of a transistor realization, measured in simulation: a chip's start-up calibration.

A sky130 network's neurons carry small systematic offsets (0.3–4 % of a
model unit per cell, accumulating layer by layer). :func:`trim_offsets`
runs the forward path's DC operating point at x = 0 (a transient of two
save steps: with zero-phase sines x(0) = 0), reads every ŭ and adds the
bias current that nulls it (the model's b, an ideal reference current like
a trim DAC), ``ITERATIONS`` times because trimming one layer moves the next.
Before the offsets, :func:`node_gains` measures each fixed-weight neuron's DC
gain from current to ŭ (its load and the output conductances on it lose a
few per cent), and the network sizes that neuron's synapses and bias up by it.
:func:`prepare_netlist` is :func:`~analogvle.netlist.netlist.build_netlist`
with those trims for realizations registered with the ``trim`` trait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import numpy as np

from analogvle.circuit.cells import get_cells
from analogvle.model.network import rest_potentials
from analogvle.model.spec import Spec
from analogvle.netlist.netlist import ALL_NODES, Netlist, build_netlist, with_nodesets
from analogvle.registry import REALIZATIONS

ITERATIONS = 3
LEARN_ITERATIONS = 6  # the error cells' output trims converge more slowly (their gain from p to e is ~9)
GAIN_STEP = 0.1  # model units of I0: the bias step of the node-gain measurement
EO_GAIN = 1 / 3  # an error cell's output node has conductance kf·G = G/3: a trim of I0 moves it by 3 units

#: runs a netlist's transient with a backend and returns its vectors (``run.run_netlist``, passed in)
Runner = Callable[[Netlist, str], dict]


def trim_offsets(spec: Spec, realization: str, backend: str, run: Runner, op: OperatingPoints | None = None
                 ) -> dict[str, float]:
    """Neuron tag ("l1_n0") → bias (model units) that nulls its ŭ at x = 0 in ``realization``, and the node gains
    (``op``: the operating points, solved from each other's)."""
    trims = node_gains(spec, OperatingPoints(realization, backend, run))  # its own chain of guesses
    op = op or OperatingPoints(realization, backend, run)
    forward, rest = _forward_at_rest(spec), rest_potentials(spec.network)
    for _ in range(ITERATIONS):
        _, at_rest = op(forward, trims)
        for l in range(1, len(spec.network.layers) + 1):
            _null_uhat(trims, l, at_rest(f"layer{l}/uhat"), rest[l - 1])
    return trims


def calibrate_learning(spec: Spec, realization: str, backend: str, run: Runner, multipliers: bool = True,
                       op: OperatingPoints | None = None) -> dict[str, float]:
    """The start-up calibration of a learning network: every trim at once, measured with the network at rest.

    Each of ``LEARN_ITERATIONS`` rounds runs the whole circuit's operating point at x = 0 (the target
    held at the network's own rest output, so every ideal error is 0; learn_after gates off, weights held
    at their start) and updates, in model units of I0 (a node of conductance G moves by the trim current
    / G): the ŭ trims ("l1_n0", nulling ŭ minus its rest value :func:`rest_potentials`), the error neurons' input
    trims ("p_l1_n0", nulling p) and error-cell output trims ("eo_l1_n1", nulling e through the cell's
    output conductance G/3), and with ``multipliers`` each learning multiplier's offset trim
    ("m_l1_n0_j0", a bias's "m_l2_n0_b": minus the current it pushes into its dump source, the drift it would
    give the weight). ``op``: the operating points, solved from each other's.
    """
    cal_spec = replace(spec, time=replace(spec.time, duration=2 * spec.time.save_dt))
    trims = node_gains(spec, OperatingPoints(realization, backend, run))  # the forward circuit: its own guesses
    net = spec.network
    rest = rest_potentials(net)
    op = op or OperatingPoints(realization, backend, run)
    for _ in range(LEARN_ITERATIONS):
        netlist, at_rest = op(cal_spec, trims, calibrating=True)
        dumps = at_rest("calibration/dump") if multipliers else []
        for l in range(1, len(net.layers) + 1):
            _null_uhat(trims, l, at_rest(f"layer{l}/uhat"), rest[l - 1])
            p_probe, e_probe = netlist.probes[f"calibration/p{l}"], netlist.probes[f"layer{l}/e"]
            e_at_rest = at_rest(f"layer{l}/e")
            for i, off in enumerate(at_rest(f"calibration/p{l}")):
                trims[f"p_l{l}_n{i}"] = trims.get(f"p_l{l}_n{i}", 0.0) - off
                if e_probe.nodes[i] != p_probe.nodes[i]:  # an error cell: null e too
                    e_off = e_at_rest[i] * e_probe.scale / p_probe.scale
                    trims[f"eo_l{l}_n{i}"] = trims.get(f"eo_l{l}_n{i}", 0.0) - e_off * EO_GAIN
        # the dump sources VDUMP_<tag> of every learning multiplier (weights and biases of every plastic layer)
        tags = [f"m_{name.split('_', 1)[1]}" for name in netlist.probes["calibration/dump"].nodes] if multipliers else []
        for tag, current in zip(tags, dumps):
            trims[tag] = trims.get(tag, 0.0) - current
    return trims


def node_gains(spec: Spec, op: OperatingPoints) -> dict[str, float]:
    """"g_l2_n0" → the DC gain (ideal: 1) from a current into that neuron's summing node(s) to its ŭ, for every
    neuron of a layer ≥ 2 with fixed weights: its ŭ when its layer's bias currents step by ±GAIN_STEP, on the
    forward path at x = 0 (the error path only reads ŭ; measured: the same gains to 1e-7).

    Layer 1's weight map and the Gilbert synapses of plastic layers are fitted on the loaded cell already.
    """
    forward = _forward_at_rest(spec)
    gains: dict[str, float] = {}
    for l, layer in enumerate(spec.network.layers[1:], 2):
        if layer.plastic:
            continue
        uh = []
        for step in (GAIN_STEP, -GAIN_STEP):
            _, at_rest = op(forward, {f"l{l}_n{i}": step for i in range(layer.size)})
            uh.append(np.array(at_rest(f"layer{l}/uhat")))
        gains.update({f"g_l{l}_n{i}": float(g) for i, g in enumerate((uh[0] - uh[1]) / (2 * GAIN_STEP))})
    return gains


def _null_uhat(trims: dict[str, float], l: int, uhat: list[float], rest) -> None:
    """Update layer ``l``'s ŭ trims ("l1_n0") by minus each neuron's measured departure from its rest value."""
    for i, off in enumerate(uhat):
        trims[f"l{l}_n{i}"] = trims.get(f"l{l}_n{i}", 0.0) - (off - rest[i])


def _forward_at_rest(spec: Spec) -> Spec:
    """``spec``'s forward path (errors, nudging, plasticity, teacher and target off) over two save steps: its
    operating point."""
    layers = tuple(replace(layer, gamma=0.0, plastic=False) for layer in spec.network.layers)
    return replace(spec, network=replace(spec.network, errors="none", layers=layers),
                   teacher=None, target=None, time=replace(spec.time, duration=2 * spec.time.save_dt, learn_after=0.0),
                   compare=replace(spec.compare, signals=["layer*/uhat"]))


class OperatingPoints:
    """Operating points of one circuit under changing trims, each solved from the last one's node voltages
    (``.nodeset``): a trim moves the solution a little, and a good guess saves ngspice's gmin stepping
    (measured on the hidden network's 2,487 FETs: 7 s of analysis instead of 57 s)."""

    def __init__(self, realization: str, backend: str, run: Runner) -> None:
        self.realization, self.backend, self.run = realization, backend, run
        self.guess: dict[str, float] = {}

    def __call__(self, spec: Spec, trims: dict[str, float], calibrating: bool = False
                 ) -> tuple[Netlist, Callable[[str], list[float]]]:
        """The netlist run and a reader of any probe at t = 0 (model units)."""
        netlist = with_nodesets(build_netlist(spec, self.realization, trims=trims, calibrating=calibrating),
                                self.guess)
        vectors = self.run(netlist, self.backend)
        self.guess = dict(zip(netlist.probes[ALL_NODES].nodes, _at_rest(netlist, vectors, ALL_NODES)))
        return netlist, partial(_at_rest, netlist, vectors)


def _at_rest(netlist: Netlist, vectors: dict, name: str) -> list[float]:
    """Probe ``name`` at t = 0 (the operating point), in its model units."""
    probe = netlist.probes[name]
    return [(float(np.real(vectors[v][0])) - probe.offset) / probe.scale for v in probe.vectors()]


def prepare_netlist(spec: Spec, realization: str, backend: str, run: Runner) -> Netlist:
    """The netlist ``run``/``simulate`` use: with measured offset trims when the realization has them.

    ``[circuit] trim``: "full" (default; a learning network also trims its learning multipliers),
    "nodes" (neuron and error-node trims only), "none" (the untrimmed circuit).
    """
    if not REALIZATIONS.has(realization, "trim") or spec.circuit.trim == "none":
        return build_netlist(spec, realization)
    get_cells(realization).check(spec)  # what it cannot build is a NetlistError before any trim run
    op = OperatingPoints(realization, backend, run)
    if spec.network.plastic:
        trims = calibrate_learning(spec, realization, backend, run, multipliers=spec.circuit.trim == "full", op=op)
    else:
        trims = trim_offsets(spec, realization, backend, run, op=op)
    # the last calibration point is the run's starting guess too (its own operating point, not an initial condition)
    return with_nodesets(build_netlist(spec, realization, trims=trims), op.guess, read_back=False)
