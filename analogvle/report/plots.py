"""Plots of a comparison: the summary bars and one figure per layer, circuit over reference."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from analogvle.compare.metrics import Comparison
from analogvle.report.fmt import T_LABEL, fmt, save_figure

MAX_LINES = 8  # components drawn per signal
SHOWN_MAX = 1e30  # larger nrmse values are drawn at this height
OFF_SCALE = 3.0  # circuit values further than this many reference ranges outside it are drawn at the edge
KIND_ORDER = ("u", "uhat", "r", "v", "e", "W", "b")


def signal_groups(result: Comparison) -> dict[str, list[str]]:
    """Compared signals grouped by layer (``layer1`` …, then ``other``), kinds in model order."""
    groups: dict[str, list[str]] = {}
    for name in result.signals:
        head = name.split("/")[0]
        groups.setdefault(head if re.fullmatch(r"layer\d+", head) else "other", []).append(name)

    def group_key(g: str) -> tuple[int, int]:
        return (0, int(g[5:])) if g != "other" else (1, 0)

    def kind_key(n: str) -> tuple[int, str]:
        kind = n.split("/")[-1]
        return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), n)

    return {g: sorted(groups[g], key=kind_key) for g in sorted(groups, key=group_key)}


def _on_scale(ref: np.ndarray, circ: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """(circuit, circuit − reference, whether anything was clipped), limited to OFF_SCALE reference ranges
    around the reference, non-finite values drawn at the edge: a diverged circuit stays readable."""
    lo, hi = float(np.min(ref)), float(np.max(ref))
    margin = OFF_SCALE * max(hi - lo, abs(hi), abs(lo), 1e-12)
    edge_lo, edge_hi = lo - margin, hi + margin
    bounded = np.nan_to_num(circ, nan=edge_hi, posinf=edge_hi, neginf=edge_lo)
    clipped_circ = np.clip(bounded, edge_lo, edge_hi)
    diff = clipped_circ - ref
    return clipped_circ, diff, bool(np.any(clipped_circ != circ))


def plot_summary(result: Comparison, path: str | Path) -> Path:
    """Bar charts: nrmse per signal against the tolerance (log scale), and the lag in steps."""
    names = list(result.signals)
    nrmse = np.array([result.signals[n].nrmse for n in names])
    lags = np.array([result.signals[n].lag / result.step for n in names])
    finite = np.minimum(nrmse[np.isfinite(nrmse) & (nrmse > 0)], SHOWN_MAX)  # a diverged circuit stays drawable
    floor = min([result.tolerance, *finite]) / 30
    top = max([result.tolerance, *finite]) * 30
    shown = np.where(np.isfinite(nrmse), np.clip(nrmse, floor, SHOWN_MAX), top / 3)
    colors = ["tab:green" if result.signals[n].passed else "tab:red" for n in names]
    x = np.arange(len(names))

    fig = Figure(figsize=(max(8.0, 1.1 * len(names) + 5), 4.6), layout="constrained")
    ax, ax_lag = fig.subplots(1, 2, width_ratios=[3, 2])
    ax.bar(x, shown, color=colors, width=0.6)
    ax.axhline(result.tolerance, color="k", ls="--", lw=1.2, label=f"tolerance {result.tolerance:.3g}")
    for xi, value, s in zip(x, nrmse, shown):
        ax.text(xi, s * 1.15, fmt(value, ".2g") if math.isfinite(value) else "non-finite", ha="center",
                va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylim(floor, top)
    ax.set_xticks(x, names, rotation=30 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center")
    ax.set_ylabel("nrmse [RMS error / peak-to-peak]")
    ax.set_title("nrmse per signal (green: within tolerance)")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(axis="y", which="major", alpha=0.3)

    ax_lag.bar(x, np.nan_to_num(lags), color="tab:blue", width=0.6)
    for xi, value in zip(x, lags):
        ax_lag.text(xi, 0, "n/a" if not math.isfinite(value) else "", ha="center", va="bottom", fontsize=8)
    ax_lag.axhline(0, color="k", lw=0.8)
    ax_lag.set_xticks(x, names, rotation=30 if len(names) > 3 else 0, ha="right" if len(names) > 3 else "center")
    ax_lag.set_ylabel(f"lag [steps of {result.step:.3g} model time units]")
    ax_lag.set_title("lag (> 0: circuit behind reference)")
    ax_lag.grid(axis="y", alpha=0.3)

    verdict = "PASS" if result.passed else "FAIL"
    fig.suptitle(
        f"{verdict}: worst nrmse {fmt(result.worst)} ({result.worst_signal}), tolerance {result.tolerance:.3g}",
        color="tab:green" if result.passed else "tab:red",
        fontsize=13,
        fontweight="bold",
    )
    return save_figure(fig, path)


def plot_group(result: Comparison, group: str, names: Sequence[str], path: str | Path) -> Path:
    """One row per signal: circuit (solid) over reference (dashed) for the whole run and zoomed
    on its end (last 10 %, at most 20 model time units), and circuit − reference."""
    t = result.t
    span = t[-1] - t[0]
    zoom_from = t[-1] - min(0.1 * span, 20.0)
    zoom = t >= min(zoom_from, t[max(0, len(t) - 20)])
    fig = Figure(figsize=(18, 3.0 * len(names) + 0.8), layout="constrained")
    axes = fig.subplots(len(names), 3, squeeze=False, width_ratios=[3, 2, 3])
    for row, name in enumerate(names):
        m = result.signals[name]
        ref, circ = (a.reshape(len(t), -1) for a in result.data[name])
        circ, diff, clipped = _on_scale(ref, circ)
        kind = name.split("/")[-1]
        ax, ax_zoom, ax_diff = axes[row]
        for j, comp in enumerate(m.components[:MAX_LINES]):
            color = f"C{j % 10}"
            for a, sel in ((ax, slice(None)), (ax_zoom, zoom)):
                a.plot(t[sel], circ[sel, j], color=color, lw=1.3, label=f"{kind}{comp.label}")
                a.plot(t[sel], ref[sel, j], color=color, lw=1.6, ls=(0, (3, 3)), alpha=0.9)
            ax_diff.plot(t, diff[:, j], color=color, lw=1.0, label=f"{kind}{comp.label}")
        ax.axvspan(t[zoom][0], t[-1], color="0.85", zorder=0)
        handles, _ = ax.get_legend_handles_labels()
        handles += [Line2D([], [], color="k", lw=1.3, label="circuit"),
                    Line2D([], [], color="k", lw=1.6, ls=(0, (3, 3)), label="reference")]
        ax.legend(handles=handles, loc="upper left", fontsize=7, ncol=2, framealpha=0.8)
        more = f", first {MAX_LINES} of {len(m.components)} components" if len(m.components) > MAX_LINES else ""
        more += "; circuit off scale, drawn at the edge" if clipped else ""
        ax.set_title(f"{name}: circuit (solid), reference (dashed){more}", fontsize=10)
        ax_zoom.set_title(f"{name}, zoom on the grey span", fontsize=10)
        ax.set_ylabel(f"{kind} [model units]")
        ax_diff.set_title(
            f"{name} circuit − reference: nrmse {fmt(m.nrmse)}, max {fmt(m.max_abs)}, lag {fmt(m.lag)}",
            fontsize=10,
            color="k" if m.passed else "tab:red",
        )
        ax_diff.set_ylabel(f"Δ{kind} [model units]")
        ax_diff.axhline(0, color="k", lw=0.6)
        for a in (ax, ax_zoom, ax_diff):
            a.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3), useOffset=False)
            a.grid(alpha=0.3)
            a.set_xlabel(T_LABEL if row == len(names) - 1 else "")
    fig.suptitle(f"{group}: circuit vs reference", fontsize=12, fontweight="bold")
    return save_figure(fig, path)
