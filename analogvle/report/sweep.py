"""The report of a sweep: DIR/sweep.md and one PNG per swept parameter.

Each PNG has two panels, final loss and worst nrmse (both log scale), with
one column of points per parameter value (every seed a point, slightly
jittered) and a box of their quartiles; a sweep over seeds alone gets one
column. The markdown holds a per-value table (runs, ok, median and quartiles)
and lists failed runs with their errors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from analogvle.files import write_atomic, write_text_atomic

METRICS = (("final_loss", "final loss ½β‖target − r‖² (last 10 %)"), ("worst_nrmse", "worst nrmse vs reference"))


def write_sweep_report(out: Path, rows: Sequence[dict[str, Any]], keys: Sequence[str], *, spec_name: str,
                       tolerance: float, metrics: Sequence[tuple[str, str]] = METRICS) -> Path:
    """Write ``out/sweep.md`` and ``out/sweep_<key>.png`` for each swept key; returns the markdown path.

    ``metrics``: the two (column, label) pairs to plot and tabulate (default final loss and worst nrmse, on log
    scales; others, e.g. a classification sweep's accuracies, on linear scales).
    """
    completed = [r for r in rows if r["status"] == "ok"]
    within = sum(r.get("pass") == "true" for r in completed)
    lines = [f"# Sweep of {spec_name}", "",
             f"{len(rows)} runs: seeds {_seed_range(rows)}" + (f" × {', '.join(keys)}" if keys else "") + ".",
             (f"{len(completed)} completed ({within} within the tolerance {tolerance:g}, {len(completed) - within} "
             f"outside it), {len(rows) - len(completed)} failed."),
             "Table: [runs.csv](runs.csv); each run's report in its own folder.", ""]
    for key in keys or ["seed"]:
        groups = _groups(rows, key if keys else None)
        png = f"sweep_{_safe(key)}.png"
        _plot(out / png, groups, key if keys else "all runs (over seeds)", metrics)
        lines += [f"## Against {key}" if keys else "## Over seeds", "", f"![{key}]({png})", "",
                  (f"| {key} | runs | completed | within tolerance | {metrics[0][0]} median [q1, q3] "
                   f"| {metrics[1][0]} median [q1, q3] |"),
                  "|---|---|---|---|---|---|"]
        for label, members in groups.items():
            ok = [r for r in members if r["status"] == "ok"]
            cells = [_quartiles([_num(r[m]) for r in ok]) for m, _ in metrics]
            passed = sum(r.get("pass") == "true" for r in ok)
            lines.append(f"| {label} | {len(members)} | {len(ok)} | {passed} | {cells[0]} | {cells[1]} |")
        lines.append("")
    failed = [r for r in rows if r["status"] not in ("ok", "pending")]
    if failed:
        lines += ["## Failed runs", ""] + [f"- `{r['run_id']}`: {r['status']}" for r in failed] + [""]
    path = out / "sweep.md"
    write_text_atomic(path, "\n".join(lines))
    return path


def _groups(rows: Sequence[dict[str, Any]], key: str | None) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row[key]) if key else "all", []).append(row)
    try:
        return dict(sorted(groups.items(), key=lambda kv: float(kv[0])))
    except ValueError:
        return groups


def _plot(path: Path, groups: dict[str, list[dict[str, Any]]], xlabel: str,
          metrics: Sequence[tuple[str, str]] = METRICS) -> None:
    fig = Figure(figsize=(5 + 0.6 * len(groups), 7), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    rng = np.random.default_rng(0)
    log = tuple(metrics) == METRICS
    for ax, (metric, label) in zip(axes, metrics):
        data = [np.array([_num(r[metric]) for r in rows if r["status"] == "ok"]) for rows in groups.values()]
        data = [d[np.isfinite(d) & ((d > 0) if log else True)] for d in data]
        positions = np.arange(len(groups))
        ax.boxplot([d if d.size else [np.nan] for d in data], positions=positions, widths=0.5, showfliers=False)
        for x, d in zip(positions, data):
            ax.plot(x + rng.uniform(-0.15, 0.15, d.size), d, "o", ms=3.5, alpha=0.6, color="C0")
        failed = [sum(r["status"] != "ok" for r in rows) for rows in groups.values()]
        for x, n in zip(positions, failed):
            if n:
                ax.annotate(f"{n} failed", (x, 1.0), xycoords=("data", "axes fraction"), ha="center", va="top",
                            color="C3", fontsize=8)
        if log and any(d.size for d in data):
            ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[-1].set_xticks(np.arange(len(groups)), list(groups))
    axes[-1].set_xlabel(xlabel)
    what = "final loss and fidelity" if log else " and ".join(label for _, label in metrics)
    fig.suptitle(f"{what} against {xlabel}", fontweight="bold")
    write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=100))


def _quartiles(values: list[float]) -> str:
    v = np.array([x for x in values if math.isfinite(x)])
    if not v.size:
        return "–"
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return f"{med:.3g} [{q1:.3g}, {q3:.3g}]"


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _seed_range(rows: Sequence[dict[str, Any]]) -> str:
    seeds = sorted({int(r["seed"]) for r in rows})
    return f"{seeds[0]}..{seeds[-1]}" if seeds else "none"


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in key)
