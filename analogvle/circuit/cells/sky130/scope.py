"""What the sky130 realization can build: a spec it cannot is refused before any netlist is written (exit 2)."""

from __future__ import annotations

import numpy as np

from analogvle.errors import NetlistError
from analogvle.model.spec import Spec

GAMMA_OMITTED = 0.01  # |γ| up to which nudging is left out (γ·e ≤ 0.03 of a unit in s at |e| ≤ 3); above: refused


def check_spec(spec: Spec) -> None:
    """NetlistError (exit 2) naming what the sky130 realization cannot build yet."""
    net = spec.network
    problems = []
    if spec.input.kind != "sines":
        problems.append(f"input kind {spec.input.kind!r} (sines only: the input is a pair of SIN current sources)")
    if net.errors != "none":
        if spec.teacher is None and spec.target is None:
            problems.append("errors need a [teacher] or [target]")
        if net.layers[-1].phi != "linear":
            problems.append("errors with a nonlinear output layer (the top error needs r = uh: phi = linear)")
    for l, layer in enumerate(net.layers, 1):
        if layer.plastic and l > 1 and net.layers[l - 2].phi != "tanh":
            problems.append(f"layer {l}: plastic = true after a {net.layers[l - 2].phi} layer (a plastic synapse is a "
                            "Gilbert cell whose upper quad computes r = tanh(uh): the presynaptic layer must be tanh)")
        if layer.plastic and net.errors == "none":
            problems.append(f"layer {l}: plastic = true with errors = \"none\" (learning needs the error path)")
        if net.errors != "none" and abs(layer.gamma) > GAMMA_OMITTED:
            problems.append(f"layer {l}: gamma = {layer.gamma:g} (nudging is not realized: |gamma| <= "
                            f"{GAMMA_OMITTED:g} is left out, larger is refused)")
        if layer.phi not in ("tanh", "linear"):
            problems.append(f"layer {l}: phi = {layer.phi!r} (tanh or linear)")
        a = np.asarray(layer.tau_r) / np.asarray(layer.tau_m)
        if np.any(a > 1 + 1e-12) or np.any(a <= 0):
            problems.append(f"layer {l}: tau_r/tau_m = {a.tolist()} (0 < tau_r/tau_m <= 1)")
    if problems:
        raise NetlistError(f"spec {spec.name!r}: the sky130 realization cannot build " + "; ".join(problems))
