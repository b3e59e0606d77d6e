"""How much mismatch the MNIST-1D circuit takes: accuracy of the trained network's circuit against a
non-ideality, through ``analogvle sweep`` (every run an ``evaluate`` of the same samples, real ngspice).

    .venv/bin/python benchmarks/bench_mismatch.py [--seeds 5] [--samples 200] [--workers 2]
        [--param circuit.mismatch --values 0,0.01,0.02,0.05,0.1] [--reltol 0.01] [--report]

Writes the sweep to benchmarks/out/sweep_<param>/ (runs.csv, sweep.md,
each run's report), the figure docs/figures/mnist1d_<param>.png (circuit
accuracy per seed and its median against the parameter, the reference's
accuracy as a line) and prints one table row per value. ``--report`` runs
nothing: the table and figure of the runs the folder's runs.csv has finished
(while a sweep is still running there, say).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from analogvle.workflows.sweep import sweep
from analogvle.workflows.sweep_table import read_rows

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default=str(ROOT / "sims" / "mnist1d.toml"))
    p.add_argument("--weights", default=str(ROOT / "benchmarks" / "data" / "mnist1d_adam_s42.npz"))
    p.add_argument("--param", default="circuit.mismatch")
    p.add_argument("--values", default="0,0.01,0.02,0.05,0.1")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--reltol", type=float, default=0.01, help="ngspice reltol of every run (the spec's: 1e-3)")
    p.add_argument("--report", action="store_true", help="run nothing: report the finished runs in runs.csv")
    args = p.parse_args()
    name = args.param.split(".")[-1]
    out = ROOT / "benchmarks" / "out" / f"sweep_{name}"
    start = time.perf_counter()
    values = args.values.split(",")
    zero = [v for v in values if float(v) == 0.0]  # the ideal circuit: every seed is the same run, so one
    rows = list(read_rows(out / "runs.csv")[1].values()) if args.report else []
    for vals, seeds in ((zero, 1), ([v for v in values if v not in zero], args.seeds)):
        if vals and not args.report:
            rows += sweep(args.spec, seeds=seeds, sets=[f"{args.param}={','.join(vals)}",
                                                        f"simulator.reltol={args.reltol}"],
                          workers=args.workers, out=out, weights=args.weights, samples=args.samples)[1]
    wall = time.perf_counter() - start
    table = {}
    for r in rows:
        if r["status"] == "ok":
            table.setdefault(float(r[args.param]), []).append(r)
    print(f"{args.param}: {len(rows)} runs ({args.seeds} seeds x {len(table)} values, one run at 0, {args.samples} "
          f"samples each, "
          f"reltol {args.reltol}) in {wall:.0f} s; failed: {sum(r['status'] not in ('ok', 'pending') for r in rows)}, "
          f"pending: {sum(r['status'] == 'pending' for r in rows)}")
    print(f"| {args.param} | runs | circuit accuracy median [min, max] | reference accuracy | "
          "agreement median [min, max] |")
    print("|---|---|---|---|---|")
    for value, members in sorted(table.items()):
        acc = np.array([float(r["accuracy_circuit"]) for r in members]) * 100
        agr = np.array([float(r["agreement"]) for r in members]) * 100
        ref = float(members[0]["accuracy_reference"]) * 100
        print(f"| {value:g} | {len(members)} | {np.median(acc):.1f} % [{acc.min():.1f}, {acc.max():.1f}] | {ref:.1f} % | "
              f"{np.median(agr):.1f} % [{agr.min():.1f}, {agr.max():.1f}] |")
    plot(table, args, ROOT / "docs" / "figures" / f"mnist1d_{name}.png")


def plot(table: dict, args, path: Path) -> None:
    values = sorted(table)
    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(values))
    rng = np.random.default_rng(0)
    med = []
    for i, v in enumerate(values):
        acc = np.array([float(r["accuracy_circuit"]) for r in table[v]]) * 100
        ax.plot(i + rng.uniform(-0.12, 0.12, acc.size), acc, "o", ms=4, alpha=0.6, color="C0")
        med.append(np.median(acc))
    runs = f"{args.seeds} seeds (one run at 0), median" if args.seeds > 1 else "one run per value"
    ax.plot(x, med, "-", color="C0", label=f"circuit (ngspice, reltol {args.reltol:g}), {runs}")
    ref = float(table[values[0]][0]["accuracy_reference"]) * 100
    ax.axhline(ref, color="black", ls="--", lw=1, label=f"reference (rk4), {ref:.1f} %")
    ax.axhline(10, color="grey", ls=":", lw=1, label="chance")
    ax.set(xticks=x, xticklabels=[f"{v:g}" for v in values], xlabel=args.param, ylabel="test accuracy (%)",
           ylim=(0, 100))
    ax.set_title(f"MNIST-1D circuit against {args.param}\n({args.samples} test samples)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
