"""The PDK's own device mismatch, drawn reproducibly: one die per seed.

The sky130 continuous models carry a per-device threshold mismatch that
ngspice draws with ``AGAUSS`` in the ``*_mm`` corners. Its seeding cannot be
trusted (``.option seed`` reproduces only an unchanged netlist, ``set
rndseed`` did not reproduce at all; README, "Noise"), so the draw is made
here, with the PDK's σ, and applied as ngspice ``alter`` commands on each
device's ``delvto`` (tt has no nominal delvto, so the alter is the whole term):

- nfet_01v8: σ = sw_mm_vth0 / √(W·L) × (0.008·8/L + 0.992)(0.035·7/W + 0.965)(0.001·56/(W·L) + 0.999)
  (``models_fet.spice``, the subcircuit's delvto: the geometry factors multiply the mismatch term);
- pfet_01v8: σ = sw_mm_vth0 / √(W·L) (the mismatch term is added after the geometry factors);

with sw_mm_vth0 read from ``models_global.spice`` (3.356 mV·µm nfet, 5.856 mV·µm
pfet in 0.15.3), W and L in µm. MIM mismatch (sw_mm_cmim = 0.47 %/√(µm²) on
≥ 40 µm squares: < 1e-4) is not drawn.

Each device's normal comes from ``numpy.random.default_rng([seed, h])`` with
h the first 8 bytes of the SHA-256 of its flattened path: the same seed gives
the same die in every netlist built from a spec (the calibration operating
points and the transient), independent of element order.
"""

from __future__ import annotations

import hashlib
import math
import re
from functools import lru_cache

import numpy as np

from analogvle.circuit.cells.sky130.pdk import NFET, PFET, pdk_root
from analogvle.circuit.ir import Circuit
from analogvle.errors import ConfigurationError

GLOBAL_FILE = "src/sky130_fd_pr/combined_models/continuous/models_global.spice"


@lru_cache(maxsize=1)
def matching_constants() -> dict[str, float]:
    """sw_mm_vth0 of the two 1.8 V devices (V·µm), as the PDK states them."""
    text = (pdk_root() / GLOBAL_FILE).read_text(errors="replace")
    out = {}
    for model in (NFET, PFET):
        match = re.search(rf"sw_mm_vth0_{model}\s*=\s*([0-9.]+(?:[eE][-+]?[0-9]+)?)", text)
        if match is None:
            raise ConfigurationError(f"{GLOBAL_FILE} in the sky130 package has no sw_mm_vth0_{model}")
        out[model] = float(match.group(1))
    return out


def sigma_vth(model: str, w: float, l: float) -> float:
    """The PDK's σ of delvto (V) for one device of W × L µm."""
    a = matching_constants()[model] / math.sqrt(w * l)
    if model == NFET:
        return a * (0.008 * 8 / l + 0.992) * (0.035 * 7 / w + 0.965) * (0.001 * 56 / (w * l) + 0.999)
    return a


def devices(circuit: Circuit) -> list[tuple[str, str, float, float]]:
    """(flattened path, model, W, L) of every nfet/pfet, in netlist order."""
    subs = {s.name: s for s in circuit.subckts}
    out = []

    def walk(elements, prefix: str) -> None:
        for el in elements:
            if el.primitive.name != "instance":
                continue
            path = f"{prefix}.{el.name.lower()}" if prefix else el.name.lower()
            model = el.params["subckt"]
            if model in (NFET, PFET):
                p = el.params["params"]
                out.append((path, model, float(p["w"]), float(p["l"])))
            elif model in subs:
                walk([i for i in subs[model].items if hasattr(i, "primitive")], path)

    walk([i for i in circuit.items if hasattr(i, "primitive")], "")
    return out


def draw(path: str, seed: int) -> float:
    """A standard normal for device ``path`` of die ``seed``."""
    h = int.from_bytes(hashlib.sha256(path.encode()).digest()[:8], "little")
    return float(np.random.default_rng([seed, h]).standard_normal())


def mismatch_alters(circuit: Circuit, seed: int) -> tuple[list[str], dict[str, float]]:
    """``alter`` commands setting every FET's delvto to σ·N(0, 1) for die ``seed``; and path → delvto (V)."""
    lines, values = [], {}
    for path, model, w, l in devices(circuit):
        v = sigma_vth(model, w, l) * draw(path, seed)
        values[path] = v
        lines.append(f"alter @m.{path}.m{model}[delvto]={v:.6e}")
    return lines, values
