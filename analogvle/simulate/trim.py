"""Offset trims of a transistor realization, measured in simulation: a chip's start-up calibration.

A sky130 network's neurons carry small systematic offsets (0.3–4 % of a
model unit per cell, accumulating layer by layer). :func:`trim_offsets`
runs the forward path's DC operating point at x = 0 (a transient of two
save steps: with zero-phase sines x(0) = 0), reads every ŭ and adds the
bias current that nulls it (the model's b, an ideal reference current like
a trim DAC), ``ITERATIONS`` times because trimming one layer moves the next.
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
from analogvle.netlist.netlist import Netlist, build_netlist
from analogvle.registry import REALIZATIONS

ITERATIONS = 3
LEARN_ITERATIONS = 6  # the error cells' output trims converge more slowly (their gain from p to e is ~9)
EO_GAIN = 1 / 3  # an error cell's output node has conductance kf·G = G/3: a trim of I0 moves it by 3 units

#: runs a netlist's transient with a backend and returns its vectors (``run.run_netlist``, passed in)
Runner = Callable[[Netlist, str], dict]


def trim_offsets(spec: Spec, realization: str, backend: str, run: Runner) -> dict[str, float]:
    """Neuron tag ("l1_n0") → bias (model units) that nulls its ŭ at x = 0 in ``realization``."""
    forward = replace(spec, network=replace(spec.network, errors="none",
                                            layers=tuple(replace(layer, gamma=0.0) for layer in spec.network.layers)),
                      teacher=None, target=None,
                      time=replace(spec.time, duration=2 * spec.time.save_dt, learn_after=0.0),
                      compare=replace(spec.compare, signals=["layer*/uhat"]))
    trims: dict[str, float] = {}
    rest = rest_potentials(spec.network)
    for _ in range(ITERATIONS):
        netlist = build_netlist(forward, realization, trims=trims)
        vectors = run(netlist, backend)
        for l in range(1, len(spec.network.layers) + 1):
            for i, off in enumerate(_at_rest(netlist, vectors, f"layer{l}/uhat")):
                trims[f"l{l}_n{i}"] = trims.get(f"l{l}_n{i}", 0.0) - (off - rest[l - 1][i])
    return trims


def calibrate_learning(spec: Spec, realization: str, backend: str, run: Runner, multipliers: bool = True
                       ) -> dict[str, float]:
    """The start-up calibration of a learning network: every trim at once, measured with the network at rest.

    Each of ``LEARN_ITERATIONS`` rounds runs the whole circuit's operating point at x = 0 (the target
    held at the network's own rest output, so every ideal error is 0; learn_after gates off, weights held
    at their start) and updates, in model units of I0 (a node of conductance G moves by the trim current
    / G): the ŭ trims ("l1_n0", nulling ŭ minus its rest value :func:`rest_potentials`), the error neurons' input
    trims ("p_l1_n0", nulling p) and error-cell output trims ("eo_l1_n1", nulling e through the cell's
    output conductance G/3), and with ``multipliers`` each learning multiplier's offset trim
    ("m_l1_n0_j0", a bias's "m_l2_n0_b": minus the current it pushes into its dump source, the drift it would
    give the weight).
    """
    cal_spec = replace(spec, time=replace(spec.time, duration=2 * spec.time.save_dt))
    trims: dict[str, float] = {}
    net = spec.network
    rest = rest_potentials(net)
    for _ in range(LEARN_ITERATIONS):
        netlist = build_netlist(cal_spec, realization, trims=trims, calibrating=True)
        vectors = run(netlist, backend)
        at_rest = partial(_at_rest, netlist, vectors)
        dumps = at_rest("calibration/dump") if multipliers else []
        for l in range(1, len(net.layers) + 1):
            for i, off in enumerate(at_rest(f"layer{l}/uhat")):
                trims[f"l{l}_n{i}"] = trims.get(f"l{l}_n{i}", 0.0) - (off - rest[l - 1][i])
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
    if spec.network.plastic:
        trims = calibrate_learning(spec, realization, backend, run, multipliers=spec.circuit.trim == "full")
    else:
        trims = trim_offsets(spec, realization, backend, run)
    return build_netlist(spec, realization, trims=trims)
