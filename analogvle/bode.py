"""Frequency-domain check: a neuron's cells in ngspice ``.ac`` against the analytic filters.

For one neuron (τm, τr) of the spec, the representation cell must realize
H_r = (1 + sτr)/(1 + sτm) and the error cell H_e = (1 + sτm)/(1 + sτr); the
exact adjoint filter is H_λ = (1 − sτr)/(1 − sτm), with |H_λ| = |H_r| and the
phase of H_e (EQUATIONS.md). Frequencies are in rad per model time unit.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analogvle.errors import SimulationError
from analogvle.spec import Spec


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


def cell_response(cell: str, tau_m: float, tau_r: float, realization: str, scales) -> CellResponse:
    """Run the AC bench of one cell ('neuron' or 'error') in ngspice (batch mode).

    A result with non-finite values (seen once in 300 parallel sweep runs,
    not reproduced since) is run once more before it is reported as a failure.
    """
    for _attempt in range(2):
        omega, h = _run_ac(cell, tau_m, tau_r, realization, scales)
        if np.all(np.isfinite(omega)) and np.all(np.isfinite(h)):
            break
    else:
        raise SimulationError(f"ngspice AC analysis of the {cell} cell returned non-finite values twice")
    num, den = (tau_r, tau_m) if cell == "neuron" else (tau_m, tau_r)
    return CellResponse(omega=omega, circuit=h, analytic=(1 + 1j * omega * num) / (1 + 1j * omega * den))


def _run_ac(cell: str, tau_m: float, tau_r: float, realization: str, scales) -> tuple[np.ndarray, np.ndarray]:
    """ω (rad per model time unit) and V(out)/V(in) of one cell's AC bench."""
    from analogvle.netlist import build_cell_ac
    from analogvle.rawfile import read_raw

    netlist = build_cell_ac(cell, tau_m, tau_r, realization=realization, scales=scales)
    with tempfile.TemporaryDirectory(prefix="analogvle-ac-") as tmp:
        path = netlist.write(Path(tmp) / "ac.cir")
        try:
            proc = subprocess.run(["ngspice", "-b", "-r", "ac.raw", path.name], cwd=tmp, capture_output=True,
                                  text=True, timeout=120, check=False)
        except FileNotFoundError as exc:
            raise SimulationError("ngspice is not installed: apt-get install ngspice libngspice0") from exc
        raw_path = Path(tmp) / "ac.raw"
        if proc.returncode != 0 or not raw_path.exists():
            lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
            raise SimulationError(f"ngspice AC analysis of the {cell} cell failed: {lines[-1] if lines else '?'}")
        raw = read_raw(raw_path)
    omega = 2 * np.pi * np.real(raw["frequency"]) * scales.time_scale
    with np.errstate(invalid="ignore", divide="ignore"):
        return omega, raw["v(out)"] / raw["v(in)"]


def plot_bode(spec: Spec, realization: str, path: str | Path) -> Path:
    """Bode plot of the chosen neuron's two cells, the analytic filters and the adjoint; writes a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from analogvle.realizations import Scales
    from analogvle.trajectory import write_atomic

    layer, neuron, tau_m, tau_r = pick_neuron(spec)
    c = spec.circuit
    scales = Scales(time_scale=c.time_scale, v_scale=c.v_scale, g_unit=c.g_unit, c_unit=c.c_unit)
    rep = cell_response("neuron", tau_m, tau_r, realization, scales)
    err = cell_response("error", tau_m, tau_r, realization, scales)
    w = rep.omega
    adjoint = (1 - 1j * w * tau_r) / (1 - 1j * w * tau_m)

    fig = Figure(figsize=(9, 6.5), layout="constrained")
    ax_m, ax_p = fig.subplots(2, 1, sharex=True)
    curves = [
        ("representation cell (circuit)", rep.circuit, "C0", "o", None),
        ("(1 + sτr)/(1 + sτm)", rep.analytic, "C0", None, "-"),
        ("error cell (circuit)", err.circuit, "C3", "s", None),
        ("(1 + sτm)/(1 + sτr)", err.analytic, "C3", None, "-"),
        ("exact adjoint (1 − sτr)/(1 − sτm)", adjoint, "k", None, ":"),
    ]
    for label, h, color, marker, style in curves:
        kw = {"color": color, "label": label}
        if marker:
            kw.update(marker=marker, linestyle="none", markersize=4, markerfacecolor="none")
        else:
            kw.update(linestyle=style, linewidth=1.5)
        ax_m.semilogx(w, 20 * np.log10(np.abs(h)), **kw)
        ax_p.semilogx(w, np.degrees(np.angle(h)), **kw)
    ax_m.set_ylabel("magnitude [dB]")
    ax_p.set_ylabel("phase [deg]")
    ax_p.set_xlabel("ω [rad per model time unit]")
    for ax in (ax_m, ax_p):
        ax.grid(True, which="both", alpha=0.3)
    ax_m.legend(fontsize=8)
    (rm, rp), (em, ep) = rep.max_error, err.max_error
    fig.suptitle(
        f"{spec.name}: layer {layer} neuron {neuron} (τm = {tau_m:g}, τr = {tau_r:g}), {realization} realization\n"
        f"max error: representation {rm:.1e} (mag) / {rp:.1e} rad, error cell {em:.1e} / {ep:.1e} rad",
        fontsize=10,
    )
    write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=110))
    return Path(path)
