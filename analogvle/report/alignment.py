"""How well the local (GLE) gradient aligns with the exact one, against τr/τm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from analogvle.report.fmt import save_figure


def plot_alignment(curves: dict[str, np.ndarray], path: str | Path, title: str = "") -> Path:
    """Cosine similarity (and norm ratio) of local vs exact gradient against τr/τm."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ratio = curves["ratio"]
    for key, values in curves.items():
        if key.endswith("/cosine"):
            layer = key.split("/")[0]
            ax1.plot(ratio, values, "o-", label=f"{layer}: GLE (local)")
            ax1.plot(ratio, curves[f"{layer}/cosine_instantaneous"], "s--", alpha=0.7,
                     label=f"{layer}: instantaneous backprop")
            ax2.plot(ratio, curves[f"{layer}/norm_ratio"], "o-", label=layer)
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlabel("τr / τm")
        ax.grid(True, alpha=0.3)
    ax1.set_ylabel("cosine(estimate, exact gradient)")
    ax1.axhline(1.0, color="k", lw=0.8)
    ax1.legend(fontsize=8)
    ax1.set_title("direction")
    ax2.set_ylabel("‖local‖ / ‖exact‖")
    ax2.axhline(1.0, color="k", lw=0.8)
    ax2.legend(fontsize=8)
    ax2.set_title("magnitude")
    if title:
        fig.suptitle(title)

    return save_figure(fig, path)
