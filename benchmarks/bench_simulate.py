"""Wall time of one ngspice transient versus synapse count.

Static three-layer networks 1 → w → w → w (tanh, no errors, no plasticity),
w = 10, 30, 100: w + 2w² synapses, 2,000 save points (duration 20, dt =
save_dt = max_step = 0.01). Each size is built once and run ``--repeat``
times per backend; the best run counts. Prints a Markdown table and the
fitted power law wall ∝ synapses^k, and writes benchmarks/out/simulate.json.

    .venv/bin/python benchmarks/bench_simulate.py [--widths 10 30 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from analogvle.model.toml import spec_from_dict
from analogvle.netlist.netlist import build_netlist
from analogvle.simulate.run import run_netlist, simulate

OUT = Path(__file__).parent / "out" / "simulate.json"


def network_spec(width: int, points: int = 2000, dt: float = 0.01) -> dict:
    layer = {"size": width, "tau_m": 1.0, "tau_r": 0.5, "phi": "tanh", "init": "normal", "scale": 1.0}
    return {
        "name": f"static{width}",
        "time": {"dt": dt, "duration": points * dt, "save_dt": dt},
        "input": {"kind": "sines", "omegas": [0.49, 1.07, 1.98]},
        "network": {
            "inputs": 1,
            "errors": "none",
            "layer": [{**layer, "seed": i} for i in range(3)],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[10, 30, 100])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["shared", "subprocess"])
    args = parser.parse_args()

    rows = []
    for width in args.widths:
        spec = spec_from_dict(network_spec(width))
        synapses = int(sum(layer.weights.size for layer in spec.network.layers))
        t0 = time.perf_counter()
        net = build_netlist(spec)
        build = time.perf_counter() - t0
        row = {"width": width, "synapses": synapses, "netlist_s": build, "save_points": len(spec.time.save_times)}
        for backend in args.backends:
            walls, sims = [], []
            for _ in range(args.repeat):
                run = run_netlist(net, backend)
                walls.append(run.wall_time)
                t0 = time.perf_counter()
                simulate(spec, backend=backend, netlist=net, progress=False)
                sims.append(time.perf_counter() - t0)
            row[f"{backend}_ngspice_s"] = min(walls)
            row[f"{backend}_simulate_s"] = min(sims)
            row["circuit_points"] = len(run.vectors["time"])
        rows.append(row)
        print(f"width {width}: {synapses} synapses, " + ", ".join(
            f"{b} {row[f'{b}_simulate_s']:.2f} s" for b in args.backends), flush=True)

    fits = {}
    if len(rows) >= 2:
        x = np.log([r["synapses"] for r in rows])
        for backend in args.backends:
            fits[backend] = float(np.polyfit(x, np.log([r[f"{backend}_simulate_s"] for r in rows]), 1)[0])

    header = "| width | synapses | circuit points | " + " | ".join(
        f"{b} ngspice (s) | {b} simulate (s)" for b in args.backends) + " |"
    print()
    print(header)
    print("|" + "---|" * (3 + 2 * len(args.backends)))
    for r in rows:
        cells = " | ".join(f"{r[f'{b}_ngspice_s']:.3f} | {r[f'{b}_simulate_s']:.3f}" for b in args.backends)
        print(f"| {r['width']} | {r['synapses']} | {r['circuit_points']} | {cells} |")
    for backend, k in fits.items():
        print(f"\n{backend}: simulate wall time ∝ synapses^{k:.2f}", end="")
    print()

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "rows": rows,
        "exponent": fits,
        "machine": {"python": platform.python_version(), "processor": platform.processor(), "cpus": _cpus()},
    }, indent=2))
    print(f"wrote {OUT}")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    main()
