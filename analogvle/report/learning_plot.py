"""Learning over time: output against target, the smoothed loss and the plastic weights of trajectories."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from analogvle.compare.learning import learning_window, output_loss, smooth_loss
from analogvle.model.spec import Spec
from analogvle.model.trajectory import Trajectory
from analogvle.report.fmt import T_LABEL, layer_index, save_figure

STYLES = ("-", "--", ":", "-.")


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
    top = max((layer_index(n) for traj, _ in trajectories for n in traj.signals if n.endswith("/r")), default=0)
    target_from = next((traj for traj, _ in trajectories if "target" in traj.signals), None)
    plastic = sorted({layer_index(n) for traj, _ in trajectories for n in traj.signals if re.fullmatch(r"layer\d+/W", n)})
    panels = (["output"] if top else []) + (["loss"] if top and target_from is not None else [])
    panels += [f"W{layer}" for layer in plastic]
    if not panels:
        raise ValueError("plot_learning: no layer*/r or layer*/W signals to plot")
    fig = Figure(figsize=(12, 2.8 * len(panels) + 0.8), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    spec = trajectories[0][0].spec
    learn_after = spec.time.learn_after if spec is not None else 0.0

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
                    window, _ = learning_window(traj.spec, traj.t)
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
    return save_figure(fig, path)


def teacher_weights(spec: Spec | None) -> dict[int, np.ndarray]:
    """The teacher's weights per layer (1-based), if the spec has a teacher."""
    if spec is None or spec.teacher is None:
        return {}
    return {i: layer.weights for i, layer in enumerate(spec.teacher.layers, 1)}
