"""The Bode plot of one neuron's cells in ngspice against the analytic filters and the exact adjoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from analogvle.circuit.cells import Scales
from analogvle.model.spec import Spec
from analogvle.report.fmt import save_figure
from analogvle.simulate.ac import cell_response, pick_neuron


def plot_bode(spec: Spec, realization: str, path: str | Path) -> Path:
    """Bode plot of the chosen neuron's two cells, the analytic filters and the adjoint; writes a PNG."""
    layer, neuron, tau_m, tau_r = pick_neuron(spec)
    scales = Scales.from_spec(spec.circuit)
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
    return save_figure(fig, path)
