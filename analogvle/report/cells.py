"""Plots of a cell characterization (``analogvle characterize``): each cell against its ideal form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from analogvle.report.fmt import save_figure


def _transfer(fig: Figure, curves: tuple, title: str, xlabel: str, ylabel: str) -> None:
    x, measured, ideal, band = curves
    ax, err = fig.subplots(1, 2)
    ax.plot(1e3 * x, 1e9 * measured, label="ngspice (sky130 tt)")
    ax.plot(1e3 * x, 1e9 * ideal, "k:", label="ideal form (fitted)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    scale = np.max(np.abs(ideal[band]))
    err.plot(1e3 * x[band], 100 * (measured[band] - ideal[band]) / scale)
    err.set_xlabel(xlabel)
    err.set_ylabel("error [% of full scale]")
    fig.suptitle(title)


def plot_cells(curves: dict, folder: str | Path) -> list[Path]:
    """One PNG per cell group into ``folder``: tanh, lin_gm, dphi, neuron, error, multipliers."""
    folder = Path(folder)
    written = []
    specs = (("tanh", "tanh cell (synapse / rate): I0 tanh(uh)", "V(in) - VCM [mV]", "I(out) [nA]"),
             ("lin_gm", "linear transconductor (loads, leaks)", "V(in) - VCM [mV]", "I(out) [nA]"),
             ("dphi", "phi' cell (bump): A sech^2(uh), kappa of the tanh cell", "V(in) - VCM [mV]", "I(out) [nA]"))
    for key, title, xlabel, ylabel in specs:
        if key in curves:
            fig = Figure(figsize=(9, 3.5), layout="constrained")
            _transfer(fig, curves[key], title, xlabel, ylabel)
            written.append(save_figure(fig, folder / f"cell_{key}.png"))
    if "neuron" in curves:
        w, hy, hz, iy, iz, t, step = curves["neuron"]
        fig = Figure(figsize=(12, 3.5), layout="constrained")
        mag, ph, st = fig.subplots(1, 3)
        for h, ideal, label in ((hy, iy, "u (membrane)"), (hz, iz, "uh (prospective)")):
            mag.semilogx(w, 20 * np.log10(np.abs(h)), label=label)
            mag.semilogx(w, 20 * np.log10(np.abs(ideal)), "k:", lw=0.8)
            ph.semilogx(w, np.angle(h, deg=True), label=label)
            ph.semilogx(w, np.angle(ideal, deg=True), "k:", lw=0.8)
        st.plot(t, step, label="ngspice")
        st.plot(t, 1 - np.exp(-np.maximum(t, 0)), "k:", label="1 - exp(-t/tau_m)")
        mag.set_ylabel("|H| [dB]")
        ph.set_ylabel("phase [deg]")
        for a in (mag, ph):
            a.set_xlabel("omega [1/model time unit]")
            a.axvspan(0.1, 10, color="g", alpha=0.08)
        st.set_xlabel("model time")
        mag.legend(fontsize=8)
        st.legend(fontsize=8)
        fig.suptitle("membrane and prospective cells (tau_r/tau_m = 0.1); dotted: ideal")
        written.append(save_figure(fig, folder / "cell_neuron.png"))
    if "error" in curves:
        w, h, ideal = curves["error"]
        fig = Figure(figsize=(9, 3.5), layout="constrained")
        mag, ph = fig.subplots(1, 2)
        mag.semilogx(w, 20 * np.log10(np.abs(h)), label="ngspice")
        mag.semilogx(w, 20 * np.log10(np.abs(ideal)), "k:", label="(1 + s tau_m)/(1 + s tau_r)")
        ph.semilogx(w, np.angle(h, deg=True))
        ph.semilogx(w, np.angle(ideal, deg=True), "k:")
        for a in (mag, ph):
            a.set_xlabel("omega [1/model time unit]")
            a.axvspan(0.1, 10, color="g", alpha=0.08)
        mag.set_ylabel("|H| [dB]")
        ph.set_ylabel("phase [deg]")
        mag.legend(fontsize=8)
        fig.suptitle("error cell (tau_m/tau_r = 10); green: 0.1/tau_m..10/tau_m")
        written.append(save_figure(fig, folder / "cell_error.png"))
    if "rprime_eps" in curves:
        e, cur, ideal, band, uh = curves["rprime_eps"]
        fig = Figure(figsize=(6, 3.8), layout="constrained")
        ax = fig.subplots()
        for k, u in enumerate(uh):
            ax.plot(1e3 * e, 1e9 * cur[k], label=f"uh = {u:g}")
            ax.plot(1e3 * e, 1e9 * ideal[k], "k:", lw=0.8)
        ax.axvspan(1e3 * e[band].min(), 1e3 * e[band].max(), color="g", alpha=0.06)
        ax.set_xlabel("V(eps) - reference [mV]")
        ax.set_ylabel("I(p) [nA]")
        ax.set_title("r' eps cell: G sech^2(uh) eps (dotted: ideal)")
        ax.legend(fontsize=7)
        written.append(save_figure(fig, folder / "cell_rprime_eps.png"))
    keys = [k for k in ("multiplier_forward", "multiplier_learning") if k in curves]
    if keys:
        fig = Figure(figsize=(10, 3.8), layout="constrained")
        for ax, key in zip(np.atleast_1d(fig.subplots(1, len(keys))), keys):
            X, Y, current, model = curves[key]
            for xv in (-3.0, -1.5, 0.0, 1.5, 3.0):
                k = np.isclose(X, xv)
                ax.plot(1e3 * Y[k], 1e9 * current[k], label=f"x = {xv:g}")
                ax.plot(1e3 * Y[k], 1e9 * model[k], "k:", lw=0.8)
            ax.set_xlabel("Vw - VWCM [mV]" if key.endswith("forward") else "V(e) - VCM [mV]")
            ax.set_ylabel("I(out) [nA]")
            ax.set_title("forward W(Vw) x" if key.endswith("forward") else "learning e x")
        ax.legend(fontsize=7)
        written.append(save_figure(fig, folder / "cell_multipliers.png"))
    return written
