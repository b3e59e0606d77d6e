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

import numpy as np

from analogvle.circuit.cells import get_cells
from analogvle.model.spec import Spec
from analogvle.netlist.netlist import Netlist, build_netlist
from analogvle.registry import REALIZATIONS

ITERATIONS = 3

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
    for _ in range(ITERATIONS):
        netlist = build_netlist(forward, realization, trims=trims)
        vectors = run(netlist, backend)
        for l in range(1, len(spec.network.layers) + 1):
            probe = netlist.probes[f"layer{l}/uhat"]
            for i, vector in enumerate(probe.vectors()):
                offset = (float(np.real(vectors[vector][0])) - probe.offset) / probe.scale
                trims[f"l{l}_n{i}"] = trims.get(f"l{l}_n{i}", 0.0) - offset
    return trims


def prepare_netlist(spec: Spec, realization: str, backend: str, run: Runner) -> Netlist:
    """The netlist ``run``/``simulate`` use: with measured offset trims when the realization has them."""
    if not REALIZATIONS.has(realization, "trim"):
        return build_netlist(spec, realization)
    get_cells(realization).check(spec)  # what it cannot build is a NetlistError before any trim run
    return build_netlist(spec, realization, trims=trim_offsets(spec, realization, backend, run))
