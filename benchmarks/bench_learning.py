"""Wall time of circuit learning runs: 1,000 model time units of on-circuit plasticity.

For each task (sims/lagnet.toml, sims/lagline.toml, sims/hidden.toml, their
full duration of 1,000 time units, max_step = dt = 0.01, so about 100,000
circuit time points), each backend and each realization: the wall time of
``simulate`` (netlist build, ngspice, mapping back to model units), the
ngspice part alone, and how the trained circuit compares with the adaptive
reference trained by the same rule (computed once per task, its time
recorded too): the largest relative error of a final weight or bias, the
loss ratio (mean over the first 100 time units after learn_after / the last
100) and the learning curves' largest relative deviation (see
analogvle.compare.LearningCurve). Target: under a minute per run. Prints a
Markdown table and writes benchmarks/out/learning.json.

    .venv/bin/python benchmarks/bench_learning.py [--tasks lagnet lagline hidden]
        [--backends shared subprocess] [--realizations ideal passive] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from analogvle.compare.learning import LOSS
from analogvle.compare.metrics import compare
from analogvle.integrate.solve import integrate
from analogvle.model.toml import load_spec
from analogvle.netlist.netlist import build_netlist
from analogvle.simulate.run import simulate

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "out" / "learning.json"
TARGET_S = 60.0  # s per learning run


def max_rel_weight_error(ref, circ) -> float:
    """max over learned W and b components of |circuit − reference| / |reference| at the end."""
    errors = [
        np.max(np.abs(circ.signals[n][-1] - ref.signals[n][-1]) / np.abs(ref.signals[n][-1]))
        for n in ref.signals
        if n.endswith(("/W", "/b"))
    ]
    return float(max(errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["lagnet", "lagline", "hidden"])
    parser.add_argument("--backends", nargs="+", default=["shared", "subprocess"])
    parser.add_argument("--realizations", nargs="+", default=["ideal", "passive"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration; the fastest counts")
    args = parser.parse_args()

    rows, references = [], {}
    for task in args.tasks:
        spec = load_spec(ROOT / "sims" / f"{task}.toml")
        t0 = time.perf_counter()
        ref = integrate(spec, "adaptive")
        references[task] = {"method": "adaptive", "wall_s": time.perf_counter() - t0}
        params = sum(layer.weights.size + layer.size for layer in spec.network.layers if layer.plastic)
        for realization in args.realizations:
            net = build_netlist(spec, realization)
            for backend in args.backends:
                best = None
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    circ = simulate(spec, backend=backend, realization=realization, progress=False)
                    wall = time.perf_counter() - t0
                    if best is None or wall < best[0]:
                        best = (wall, circ)
                wall, circ = best
                curve = compare(ref, circ, signals=["layer*/W", LOSS]).learning
                row = {
                    "task": task,
                    "network": " → ".join(map(str, (spec.network.inputs, *spec.network.sizes))),
                    "learned_parameters": params,
                    "b_elements": net.summary["counts"]["B"],
                    "realization": realization,
                    "backend": backend,
                    "duration": spec.time.duration,
                    "circuit_points": circ.meta["producer"]["circuit_points"],
                    "simulate_s": wall,
                    "ngspice_s": circ.meta["producer"]["ngspice_wall_time"],
                    "under_target": wall < TARGET_S,
                    "max_rel_weight_error": max_rel_weight_error(ref, circ),
                    "loss_ratio_circuit": curve.loss_ratio_circuit,
                    "loss_ratio_reference": curve.loss_ratio_reference,
                    "learning_curve_max_rel_dev": curve.max_rel_dev,
                }
                rows.append(row)
                print(f"{task} {realization} {backend}: {wall:.2f} s", flush=True)

    print()
    print("| task | network | realization | backend | circuit points | simulate (s) | ngspice (s) "
          "| max rel. weight error | loss ratio circuit / reference | learning-curve max dev |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['task']} | {r['network']} | {r['realization']} | {r['backend']} | {r['circuit_points']} "
              f"| {r['simulate_s']:.2f} | {r['ngspice_s']:.2f} | {r['max_rel_weight_error']:.2e} "
              f"| {r['loss_ratio_circuit']:.3g} / {r['loss_ratio_reference']:.3g} "
              f"| {100 * r['learning_curve_max_rel_dev']:.3g} % |")
    print()
    for task, ref in references.items():
        print(f"reference ({ref['method']}) {task}: {ref['wall_s']:.1f} s")

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "rows": rows,
        "references": references,
        "target_s": TARGET_S,
        "machine": {"python": platform.python_version(), "processor": platform.processor(), "cpus": _cpus(),
                    "load_average": list(os.getloadavg())},
    }, indent=2) + "\n")
    print(f"wrote {OUT}")


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    main()
