"""The comparison report: DIR/metrics.json, DIR/report.md and PNG plots.

Files of one report:

- ``metrics.json``: per signal ``nrmse``, ``max_abs``, ``lag`` (model time
  units, > 0: circuit behind the reference), ``nrmse_aligned`` and
  per-component detail; overall ``pass``, ``worst`` (the largest nrmse) and
  ``worst_signal``; the signals present in one file only; the files written;
  ``learning_curve`` when the loss was compared (see
  :class:`~analogvle.learning.LearningCurve`).
- ``report.md``: the same as tables a person reads, with the plots inline.
- ``summary.png``: nrmse per signal against the tolerance, and the lags.
- ``layer{l}.png`` (and ``other.png`` for signals outside layers): one row
  per signal kind, circuit (solid) over reference (dashed) for the whole run
  and zoomed on its end, beside their difference.

Everything is drawn in a temporary folder beside DIR and moved into place
only when complete: a failed or interrupted run leaves no half report.
:func:`plot_learning` draws output, target, loss and weights over time.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from analogvle.compare import Comparison
from analogvle.errors import CompareError
from analogvle.learning import LearningCurve, learning_window, output_loss, smooth_loss
from analogvle.trajectory import Trajectory, current_umask, write_atomic

T_LABEL = "t [model time units]"
MAX_LINES = 8  # components drawn per signal
KIND_ORDER = ("u", "uhat", "r", "v", "e", "W", "b")
STYLES = ("-", "--", ":", "-.")


def write_report(
    result: Comparison,
    directory: str | Path,
    *,
    reference_path: str | Path | None = None,
    circuit_path: str | Path | None = None,
) -> Path:
    """Write metrics.json, report.md and the PNGs into ``directory``; returns it.

    Built in a temporary folder beside ``directory``, then moved into place;
    an existing ``directory`` keeps its other files (a previous report's
    plots are replaced).
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise CompareError(f"--report {directory}: exists and is not a directory")
    created = [p for p in [directory.parent, *directory.parent.parents] if not p.exists()]
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
    try:
        tmp.chmod(0o777 & ~current_umask())  # mkdtemp makes it private; the report is not
        plots = {"summary": "summary.png"}
        plot_summary(result, tmp / "summary.png")
        for group, names in signal_groups(result).items():
            plots[group] = f"{group}.png"
            plot_group(result, group, names, tmp / plots[group])
        files = [*plots.values(), "report.md", "metrics.json"]
        metrics = metrics_dict(result, reference_path=reference_path, circuit_path=circuit_path, files=files)
        (tmp / "report.md").write_text(format_report(result, plots, metrics), encoding="utf-8")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        _install(tmp, directory, files)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for p in created:  # innermost first
            try:
                p.rmdir()
            except OSError:
                pass
        raise
    return directory


def metrics_dict(
    result: Comparison,
    *,
    reference_path: str | Path | None = None,
    circuit_path: str | Path | None = None,
    files: Sequence[str] = (),
) -> dict:
    """The content of metrics.json (non-finite numbers become null)."""
    signals = {}
    for name, m in result.signals.items():
        signals[name] = {
            "nrmse": _num(m.nrmse),
            "max_abs": _num(m.max_abs),
            "lag": _num(m.lag),
            "lag_steps": _num(m.lag / result.step),
            "nrmse_aligned": _num(m.nrmse_aligned),
            "pass": m.passed,
            "shape": list(m.shape),
            "scale": m.scale,
            "scale_basis": m.scale_basis,
            "components": [
                {"index": list(c.index), "nrmse": _num(c.nrmse), "max_abs": _num(c.max_abs), "lag": _num(c.lag)}
                for c in m.components
            ],
            "notes": m.notes,
        }
    return {
        "pass": result.passed,
        "worst": _num(result.worst),
        "worst_signal": result.worst_signal,
        "tolerance": result.tolerance,
        "signals": signals,
        "only_in_reference": result.only_in_reference,
        "only_in_circuit": result.only_in_circuit,
        "unmatched_patterns": result.unmatched_patterns,
        "patterns": result.patterns,
        "time": {"start": float(result.t[0]), "end": float(result.t[-1]), "points": len(result.t), "step": result.step},
        "units": {"nrmse": "1 (RMS difference / reference peak-to-peak)", "max_abs": "model units",
                  "lag": "model time units, > 0: circuit behind reference"},
        "reference": str(reference_path) if reference_path is not None else None,
        "circuit": str(circuit_path) if circuit_path is not None else None,
        "reference_producer": result.reference_meta.get("producer"),
        "circuit_producer": result.circuit_meta.get("producer"),
        "learning_curve": _learning_dict(result.learning),
        "notes": result.notes,
        "files": list(files),
    }


def _learning_dict(curve: LearningCurve | None) -> dict | None:
    if curve is None:
        return None
    return {
        "definition": "loss = 1/2 beta |target - r_L|^2; each curve is its causal moving average over `window`; "
        "max_rel_dev = max over save points t >= start of |circuit - reference| / reference",
        "window": curve.window,
        "window_basis": curve.window_basis,
        "start": curve.start,
        "max_rel_dev": _num(curve.max_rel_dev),
        "t_worst": _num(curve.t_worst),
        "loss_ratio_reference": _num(curve.loss_ratio_reference),
        "loss_ratio_circuit": _num(curve.loss_ratio_circuit),
        "loss_ratio_span": curve.span,
        "units": {"window": "model time units", "start": "model time units", "loss": "model units"},
    }


def format_report(result: Comparison, plots: Mapping[str, str], metrics: Mapping) -> str:
    """report.md: verdict, inputs, the metrics table, one-file-only signals, plots."""
    verdict = "PASS" if result.passed else "FAIL"
    relation = "within" if result.passed else "outside"
    lines = [
        "# Circuit vs reference",
        "",
        (f"**{verdict}**: worst nrmse {_fmt(result.worst)} ({result.worst_signal}), {relation} the tolerance "
        f"{result.tolerance:.3g}."),
        "",
        f"- reference: `{metrics['reference']}` ({_producer(result.reference_meta)})",
        f"- circuit: `{metrics['circuit']}` ({_producer(result.circuit_meta)})",
        (f"- compared over t = {result.t[0]:g} … {result.t[-1]:g} model time units, {len(result.t)} points, "
        f"step {result.step:.4g}"),
        ("- nrmse = RMS(circuit − reference) / peak-to-peak(reference); lag > 0: the circuit runs behind the "
        "reference, circuit(t) ≈ reference(t − lag)"),
        "",
        f"![summary]({plots['summary']})",
        "",
        ("| signal | shape | nrmse | max abs [model units] | lag [model time units] | lag [steps] "
        "| nrmse after lag | result |"),
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, m in result.signals.items():
        lines.append(
            f"| {name} | {_shape(m.shape)} | {_fmt(m.nrmse)} | {_fmt(m.max_abs)} | {_fmt(m.lag)} "
            f"| {_fmt(m.lag / result.step, '.2f')} | {_fmt(m.nrmse_aligned)} | {'pass' if m.passed else '**FAIL**'} |"
        )
    if result.learning is not None:
        c = result.learning
        lines += [
            "",
            "## Learning curve",
            "",
            (f"The loss ½ β ‖target − r_L‖² (the `loss` row above), averaged over the last {c.window:.4g} model "
             f"time units (one period of {c.window_basis}) at every save point:"),
            "",
            "| quantity | value |",
            "|---|---:|",
            (f"| largest \\|circuit − reference\\| / reference, t ≥ {c.start:g} | {_fmt(100 * c.max_rel_dev)} % "
             f"(t = {_fmt(c.t_worst, '.5g')}) |"),
            (f"| loss ratio, reference (mean over [{c.start:g}, {c.start + c.span:g}) / last {c.span:g}) "
             f"| {_fmt(c.loss_ratio_reference)} |"),
            f"| loss ratio, circuit | {_fmt(c.loss_ratio_circuit)} |",
        ]
    lines += ["", "## Signals in one file only", ""]
    lines.append(f"- only in the reference: {', '.join(result.only_in_reference) or 'none'}")
    lines.append(f"- only in the circuit: {', '.join(result.only_in_circuit) or 'none'}")
    notes = result.notes + [f"{name}: {note}" for name, m in result.signals.items() for note in m.notes]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    for group, names in signal_groups(result).items():
        lines += ["", f"## {group}", "", f"[![{group}]({plots[group]})]({plots[group]})", ""]
        multi = [n for n in names if len(result.signals[n].components) > 1]
        if multi:
            lines += ["| component | nrmse | max abs | lag |", "|---|---:|---:|---:|"]
            for name in multi:
                for c in result.signals[name].components:
                    lines.append(f"| {name}{c.label} | {_fmt(c.nrmse)} | {_fmt(c.max_abs)} | {_fmt(c.lag)} |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------
# Plots of a comparison
# ----------------------------------------------------------------------------


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


def plot_summary(result: Comparison, path: str | Path) -> Path:
    """Bar charts: nrmse per signal against the tolerance (log scale), and the lag in steps."""
    names = list(result.signals)
    nrmse = np.array([result.signals[n].nrmse for n in names])
    lags = np.array([result.signals[n].lag / result.step for n in names])
    finite = nrmse[np.isfinite(nrmse) & (nrmse > 0)]
    floor = min([result.tolerance, *finite]) / 30
    top = max([result.tolerance, *finite]) * 30
    shown = np.where(np.isfinite(nrmse), np.maximum(nrmse, floor), top / 3)
    colors = ["tab:green" if result.signals[n].passed else "tab:red" for n in names]
    x = np.arange(len(names))

    fig = Figure(figsize=(max(8.0, 1.1 * len(names) + 5), 4.6), layout="constrained")
    ax, ax_lag = fig.subplots(1, 2, width_ratios=[3, 2])
    ax.bar(x, shown, color=colors, width=0.6)
    ax.axhline(result.tolerance, color="k", ls="--", lw=1.2, label=f"tolerance {result.tolerance:.3g}")
    for xi, value, s in zip(x, nrmse, shown):
        ax.text(xi, s * 1.15, _fmt(value, ".2g") if math.isfinite(value) else "non-finite", ha="center",
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
        f"{verdict}: worst nrmse {_fmt(result.worst)} ({result.worst_signal}), tolerance {result.tolerance:.3g}",
        color="tab:green" if result.passed else "tab:red",
        fontsize=13,
        fontweight="bold",
    )
    return _save(fig, path)


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
        kind = name.split("/")[-1]
        ax, ax_zoom, ax_diff = axes[row]
        for j, comp in enumerate(m.components[:MAX_LINES]):
            color = f"C{j % 10}"
            for a, sel in ((ax, slice(None)), (ax_zoom, zoom)):
                a.plot(t[sel], circ[sel, j], color=color, lw=1.3, label=f"{kind}{comp.label}")
                a.plot(t[sel], ref[sel, j], color=color, lw=1.6, ls=(0, (3, 3)), alpha=0.9)
            ax_diff.plot(t, circ[:, j] - ref[:, j], color=color, lw=1.0, label=f"{kind}{comp.label}")
        ax.axvspan(t[zoom][0], t[-1], color="0.85", zorder=0)
        handles, _ = ax.get_legend_handles_labels()
        handles += [Line2D([], [], color="k", lw=1.3, label="circuit"),
                    Line2D([], [], color="k", lw=1.6, ls=(0, (3, 3)), label="reference")]
        ax.legend(handles=handles, loc="upper left", fontsize=7, ncol=2, framealpha=0.8)
        more = f", first {MAX_LINES} of {len(m.components)} components" if len(m.components) > MAX_LINES else ""
        ax.set_title(f"{name}: circuit (solid), reference (dashed){more}", fontsize=10)
        ax_zoom.set_title(f"{name}, zoom on the grey span", fontsize=10)
        ax.set_ylabel(f"{kind} [model units]")
        ax_diff.set_title(
            f"{name} circuit − reference: nrmse {_fmt(m.nrmse)}, max {_fmt(m.max_abs)}, lag {_fmt(m.lag)}",
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
    return _save(fig, path)


# ----------------------------------------------------------------------------
# Learning plot (used by the demo and `reference --plot`)
# ----------------------------------------------------------------------------


def plot_learning(
    trajectories: Sequence[tuple[Trajectory, str]],
    path: str | Path,
    *,
    teacher_weights: Mapping[int, np.ndarray] | None = None,
    title: str | None = None,
) -> Path:
    """Plot learning over time and write a PNG atomically; returns ``path``.

    Panels: output (top layer ``r``) of each labelled trajectory against the
    target; the loss ½ β ‖target − output‖² (:func:`~analogvle.learning.output_loss`),
    smoothed as the comparator's learning curve does (causal moving average
    over one period of the slowest input, log scale); the weights ``layer{l}/W`` of each plastic layer,
    with ``teacher_weights[l]`` (n_l × n_{l−1}) as horizontal dotted lines.
    Line style tells the trajectories apart, colour the components.
    """
    if not trajectories:
        raise ValueError("plot_learning needs at least one (trajectory, label) pair")
    teacher_weights = dict(teacher_weights or {})
    top = max((_layer_index(n) for traj, _ in trajectories for n in traj.signals if n.endswith("/r")), default=0)
    target_from = next((traj for traj, _ in trajectories if "target" in traj.signals), None)
    plastic = sorted({_layer_index(n) for traj, _ in trajectories for n in traj.signals if re.fullmatch(r"layer\d+/W", n)})
    panels = (["output"] if top else []) + (["loss"] if top and target_from is not None else [])
    panels += [f"W{layer}" for layer in plastic]
    if not panels:
        raise ValueError("plot_learning: no layer*/r or layer*/W signals to plot")
    fig = Figure(figsize=(12, 2.8 * len(panels) + 0.8), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    learn_after = _learn_after(trajectories[0][0].meta)

    for ax, panel in zip(axes, panels):
        if panel == "output":
            for i, (traj, label) in enumerate(trajectories):
                if f"layer{top}/r" in traj.signals:
                    out = traj.signals[f"layer{top}/r"].reshape(len(traj.t), -1)
                    for j in range(out.shape[1]):
                        suffix = f"[{j}]" if out.shape[1] > 1 else ""
                        ax.plot(traj.t, out[:, j], color=f"C{i % 10}", ls=STYLES[j % 4], lw=1.2,
                                label=f"{label} output{suffix}")
            if target_from is not None:
                target = target_from.signals["target"].reshape(len(target_from.t), -1)
                for j in range(target.shape[1]):
                    ax.plot(target_from.t, target[:, j], color="k", ls=(0, (4, 3)), lw=1.0,
                            label="target" if j == 0 else None)
            ax.set_ylabel(f"r (layer {top}) [model units]")
            ax.set_title("output vs target")
        elif panel == "loss":
            curves = []
            for i, (traj, label) in enumerate(trajectories):
                loss = output_loss(traj)
                if loss is not None and len(traj.t) > 1:
                    window, _ = learning_window(traj.meta, traj.t)
                    n = int(min(len(loss), max(1, round(window / float(np.median(np.diff(traj.t)))))))
                    curves.append((traj.t[n - 1 :], smooth_loss(loss, n), f"C{i % 10}", label, window))
            floor = max((float(np.max(c[1])) for c in curves), default=0.0) * 1e-12 or 1e-16
            for i, (t_i, loss, color, label, _) in enumerate(curves):  # zero is drawn at 1e-12 of the peak
                ax.plot(t_i, np.maximum(loss, floor), color=color, ls=STYLES[i % 4], lw=1.2, label=label)
            ax.set_yscale("log")
            ax.set_ylabel("½β‖target − r‖² [model units]")
            window = f" over {curves[0][4]:.3g} time units" if curves else ""
            ax.set_title(f"loss (causal moving average{window}, one period of the slowest input)")
        else:
            layer = int(panel[1:])
            teacher = teacher_weights.get(layer)
            for i, (traj, label) in enumerate(trajectories):
                if f"layer{layer}/W" not in traj.signals:
                    continue
                w = traj.signals[f"layer{layer}/W"]
                for j, index in enumerate(np.ndindex(*w.shape[1:])):
                    ax.plot(traj.t, w[(slice(None), *index)], color=f"C{j % 10}", ls=STYLES[i % 4], lw=1.3,
                            label=f"W{list(index)}" if i == 0 else None)
                if teacher is not None:
                    for j, index in enumerate(np.ndindex(*np.shape(teacher))):
                        ax.axhline(np.asarray(teacher)[index], color=f"C{j % 10}", ls=":", lw=1.0, alpha=0.8)
            extra = [Line2D([], [], color="k", ls=STYLES[i % 4], label=label) for i, (_, label) in enumerate(trajectories)]
            if teacher is not None:
                extra.append(Line2D([], [], color="gray", ls=":", label="teacher"))
            handles, _ = ax.get_legend_handles_labels()
            ax.legend(handles=handles + extra, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8,
                      ncol=1 + len(handles) // 12, framealpha=0.8)
            ax.set_ylabel(f"W (layer {layer}) [model units]")
            ax.set_title(f"layer {layer} weights" + (" and the teacher's (dotted)" if teacher is not None else ""))
        if learn_after:
            ax.axvline(learn_after, color="gray", lw=1.0, ls="-.", label="learning on" if panel == "output" else None)
        if not panel.startswith("W"):
            ax.legend(loc="upper left", fontsize=8, ncol=2, framealpha=0.8)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel(T_LABEL)
    fig.suptitle(title or "learning", fontsize=12, fontweight="bold")
    return _save(fig, path, atomic=True)


def teacher_weights_from_meta(meta: Mapping) -> dict[int, np.ndarray]:
    """The teacher's explicit weights per layer (1-based) from a trajectory's meta spec, if any."""
    layers = ((meta.get("spec") or {}).get("teacher") or {}).get("layer") or []
    return {i: np.asarray(layer["weights"], dtype=float) for i, layer in enumerate(layers, 1) if "weights" in layer}


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------


def _save(fig: Figure, path: str | Path, *, atomic: bool = False) -> Path:
    path = Path(path)
    if atomic:
        write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=110))
    else:
        fig.savefig(path, format="png", dpi=110)
    return path


def _install(tmp: Path, directory: Path, files: Sequence[str]) -> None:
    """Move the finished report from ``tmp`` into ``directory`` (metrics.json last)."""
    if not directory.exists():
        os.rename(tmp, directory)
        return
    old = directory / "metrics.json"
    stale: list[str] = []
    if old.is_file():
        try:
            stale = [f for f in json.loads(old.read_text(encoding="utf-8")).get("files", []) if "/" not in f]
        except (ValueError, AttributeError, OSError):
            stale = []
        old.unlink()
    for name in files:
        os.replace(tmp / name, directory / name)
    for name in set(stale) - set(files):
        (directory / name).unlink(missing_ok=True)
    shutil.rmtree(tmp, ignore_errors=True)


def _learn_after(meta: Mapping) -> float:
    try:
        return float(meta["spec"]["time"].get("learn_after", 0.0))
    except (KeyError, TypeError, AttributeError, ValueError):
        return 0.0


def _layer_index(name: str) -> int:
    match = re.match(r"layer(\d+)/", name)
    return int(match.group(1)) if match else 0


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _fmt(value: float, spec: str = ".3g") -> str:
    return format(value, spec) if math.isfinite(value) else "n/a"


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape) if shape else "scalar"


def _producer(meta: Mapping) -> str:
    producer = meta.get("producer")
    if not producer:
        return "producer not recorded"
    if isinstance(producer, Mapping):
        return ", ".join(f"{k} {v}" for k, v in producer.items() if not isinstance(v, (dict, list)))
    return str(producer)
