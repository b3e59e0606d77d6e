"""Frequency responses of a neuron's filter cells in ngspice ``.ac``, against the analytic filters.

For one neuron (τm, τr) the representation cell must realize
H_r = (1 + sτr)/(1 + sτm) and the error cell H_e = (1 + sτm)/(1 + sτr); the
exact adjoint filter is H_λ = (1 − sτr)/(1 − sτm), with |H_λ| = |H_r| and the
phase of H_e (EQUATIONS.md). Frequencies in rad per model time unit.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analogvle.circuit.benches import cell_ac_bench
from analogvle.circuit.cells import Scales
from analogvle.errors import SimulationError
from analogvle.model.spec import Spec
from analogvle.netlist.netlist import bench_netlist
from analogvle.simulate.batch import run_analysis


@dataclass
class CellResponse:
    omega: np.ndarray  # rad per model time unit
    circuit: np.ndarray  # complex V(out)/V(in) from ngspice
    analytic: np.ndarray  # complex transfer function

    @property
    def max_error(self) -> tuple[float, float]:
        """Largest relative magnitude error and phase error (rad)."""
        ratio = self.circuit / self.analytic
        return float(np.max(np.abs(np.abs(ratio) - 1))), float(np.max(np.abs(np.angle(ratio))))


def pick_neuron(spec: Spec) -> tuple[int, int, float, float]:
    """(layer, neuron, τm, τr) of the first neuron with τr ≠ τm (else the first neuron); layers from 1."""
    for li, layer in enumerate(spec.network.layers, 1):
        for n in range(layer.size):
            if layer.tau_r[n] != layer.tau_m[n]:
                return li, n, float(layer.tau_m[n]), float(layer.tau_r[n])
    layer = spec.network.layers[0]
    return 1, 0, float(layer.tau_m[0]), float(layer.tau_r[0])


def cell_response(cell: str, tau_m: float, tau_r: float, realization: str, scales: Scales) -> CellResponse:
    """The AC response of one cell ('neuron' or 'error'), run in ngspice batch mode.

    SimulationError when ngspice fails or returns non-finite values.
    """
    bench = cell_ac_bench(cell, tau_m, tau_r, realization=realization, scales=scales)
    with tempfile.TemporaryDirectory(prefix="analogvle-ac-") as tmp:
        raw = run_analysis(bench_netlist(bench).write(Path(tmp) / "ac.cir"))
    omega = 2 * np.pi * np.real(raw["frequency"]) * scales.time_scale
    with np.errstate(invalid="ignore", divide="ignore"):
        h = raw["v(out)"] / raw["v(in)"]
    if not (np.all(np.isfinite(omega)) and np.all(np.isfinite(h))):
        raise SimulationError(f"ngspice AC analysis of the {cell} cell returned non-finite values")
    num, den = bench.expected["taus"]
    return CellResponse(omega=omega, circuit=h, analytic=(1 + 1j * omega * num) / (1 + 1j * omega * den))
