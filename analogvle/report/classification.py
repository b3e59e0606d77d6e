"""The report of ``analogvle evaluate``: metrics.json, report.md, the confusion matrix and output traces.

metrics.json (INTERFACES.md, "Classification tasks"): ``accuracy_reference``
(the rk4 reference, the continuous equations the circuit implements),
``accuracy_circuit``, ``agreement`` (fraction of samples where both pick the
same class), ``accuracy_gle_euler`` (the discrete semantics the network was
trained in) and its agreement with the circuit, the sample indices used, the
largest difference of the summed outputs relative to their largest magnitude,
and wall times.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from analogvle.files import write_atomic, write_text_atomic


def classification_metrics(ev, *, realization: str, samples_split: str) -> dict:
    """The metrics of an :class:`~analogvle.workflows.evaluate.Evaluation` as a JSON-ready dict."""
    scale = float(np.max(np.abs(ev.logits["reference"]))) or 1.0
    return {
        "accuracy_reference": ev.accuracy("reference"),
        "accuracy_circuit": ev.accuracy("circuit"),
        "agreement": ev.agreement,
        "accuracy_gle_euler": ev.accuracy("gle-euler"),
        "agreement_gle_euler": float(np.mean(ev.predicted["circuit"] == ev.predicted["gle-euler"])),
        "samples": len(ev.labels),
        "split": samples_split,
        "indices": ev.indices.tolist(),
        "realization": realization,
        "output_sum_max_rel_diff": float(np.max(np.abs(ev.logits["circuit"] - ev.logits["reference"]))) / scale,
        "confusion_circuit": ev.confusion("circuit").tolist(),
        "confusion_reference": ev.confusion("reference").tolist(),
        "timings_s": ev.timings,
        "ngspice_points": ev.ngspice_points,
    }


def write_classification_report(out: Path, ev, metrics: dict, *, title: str) -> None:
    """Write metrics.json, report.md, confusion.png and traces.png into ``out``."""
    plot_confusion(out / "confusion.png", np.array(metrics["confusion_circuit"]), np.array(metrics["confusion_reference"]))
    plot_traces(out / "traces.png", ev.traces, ev.labels)
    t = metrics["timings_s"]
    lines = [f"# {title}", "",
             (f"{metrics['samples']} {metrics['split']} samples back to back through the trained network's forward "
              f"path, {metrics['realization']} circuit in ngspice and the rk4 reference of the same equations."), "",
             "| | accuracy | agreement with the circuit |", "|---|---|---|",
             f"| circuit (ngspice) | {100 * metrics['accuracy_circuit']:.1f} % | – |",
             f"| reference (rk4) | {100 * metrics['accuracy_reference']:.1f} % | {100 * metrics['agreement']:.1f} % |",
             (f"| gle-euler (the trained semantics) | {100 * metrics['accuracy_gle_euler']:.1f} % | "
              f"{100 * metrics['agreement_gle_euler']:.1f} % |"), "",
             (f"Summed outputs, circuit vs reference: largest difference {metrics['output_sum_max_rel_diff']:.2e} of "
              "the largest magnitude."),
             (f"Wall time {t['wall']:.1f} s (ngspice {t['ngspice']:.1f} s over {metrics['ngspice_points']} time "
              f"points, rk4 {t['reference']:.1f} s, gle-euler {t['gle-euler']:.1f} s; summed over chunks)."), "",
             "![confusion matrices](confusion.png)", "", "![output traces](traces.png)", ""]
    write_text_atomic(out / "report.md", "\n".join(lines))
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=1) + "\n")


def plot_confusion(path: Path, circuit: np.ndarray, reference: np.ndarray) -> None:
    """Confusion matrices (true class × predicted class) of the circuit and the reference side by side."""
    fig = Figure(figsize=(10, 4.6), layout="constrained")
    for ax, (name, m) in zip(fig.subplots(1, 2), (("circuit", circuit), ("reference (rk4)", reference))):
        im = ax.imshow(m, cmap="Blues")
        for (i, j), v in np.ndenumerate(m):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                        color="white" if v > m.max() / 2 else "black")
        acc = np.trace(m) / max(m.sum(), 1)
        ax.set(title=f"{name}: accuracy {100 * acc:.1f} %", xlabel="predicted class", ylabel="true class",
               xticks=range(m.shape[1]), yticks=range(m.shape[0]))
        fig.colorbar(im, ax=ax, shrink=0.8)
    write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=100))


def plot_traces(path: Path, traces: dict[str, np.ndarray], labels: np.ndarray) -> None:
    """The output neurons over the first samples: circuit solid over the reference dashed, one panel per sample."""
    t, circ, ref, per = traces["t"], traces["circuit"], traces["reference"], int(traces["steps"])
    n = max(1, min((len(t) - 1) // per, len(labels)))
    fig = Figure(figsize=(11, 2.4 * n), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n, 1))
    for k, ax in enumerate(axes):
        sl = slice(k * per, (k + 1) * per + 1)
        for c in range(circ.shape[1]):
            ax.plot(t[sl], circ[sl, c], "-", lw=1.0, color=f"C{c}", label=f"class {c}" if k == 0 else None)
            ax.plot(t[sl], ref[sl, c], "--", lw=1.0, color="black", alpha=0.5)
        ax.set_ylabel(f"sample {k} (label {labels[k]})")
        ax.grid(alpha=0.3)
    axes[0].legend(ncol=5, fontsize=7, loc="upper left")
    axes[0].set_title("output neurons r_L: circuit (colour) over the rk4 reference (dashed)")
    axes[-1].set_xlabel("model time")
    write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=100))
