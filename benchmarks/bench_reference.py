"""Per-step cost of the reference methods (µs per step of dt), one thread, batch 1.

Network: three tanh layers of the given width, input of that width (sines),
prospective errors, every layer plastic, τm = 1, τr = 0.5, a sampled target
file (no teacher, so only the student is timed), saved only at t = 0 and at
the end. The time is that of the whole ``integrate`` call (input sampling,
set-up and the time loop) divided by the number of steps, after a warm-up run
that pays for JIT compilation. Writes benchmarks/out/reference.json.

    .venv/bin/python benchmarks/bench_reference.py [--quick]
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from analogvle.integrate.gle_euler import integrate_gle_euler
from analogvle.model.spec import Spec
from analogvle.model.toml import spec_from_dict

DT = 0.01
OUT = Path(__file__).resolve().parent / "out" / "reference.json"
# steps timed per run, by method and width (rk4 is a NumPy loop: fewer steps)
STEPS = {"gle-euler": {10: 20000, 100: 20000, 1000: 300}, "rk4": {10: 2000, 100: 2000, 1000: 50}}
TARGET_US = {100: 20.0, 1000: 5000.0}  # gle-euler per-step budget


def make_spec(width: int, n_steps: int, folder: Path) -> Spec:
    """Three plastic tanh layers of ``width``, input of ``width``, prospective errors."""
    rng = np.random.default_rng(width)
    target = np.tanh(rng.standard_normal((1, width)) + 0.3 * np.sin(np.arange(n_steps + 1)[:, None] * DT))
    np.save(folder / f"target_{width}_{n_steps}.npy", target)
    omegas = rng.uniform(0.3, 3.0, (width, 1)).tolist()
    phases = rng.uniform(0.0, 2 * np.pi, (width, 1)).tolist()
    layer = {"size": width, "tau_m": 1.0, "tau_r": 0.5, "phi": "tanh", "init": "normal", "plastic": True, "eta": 0.01}
    raw = {
        "name": f"bench-{width}",
        "time": {"dt": DT, "duration": n_steps * DT, "save_dt": n_steps * DT},
        "input": {"kind": "sines", "omegas": omegas, "phases": phases},
        "network": {
            "inputs": width,
            "errors": "prospective",
            "layer": [dict(layer, seed=i) for i in range(3)],
        },
        "target": {"kind": "file", "path": f"target_{width}_{n_steps}.npy"},
    }
    return spec_from_dict(raw, base_dir=folder)


def get_method(name: str):
    if name == "gle-euler":
        return integrate_gle_euler
    try:
        from analogvle.integrate.solve import integrate
    except ImportError:
        return None
    return lambda spec: integrate(spec, method=name)


def time_per_step(run, spec: Spec, repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (process) µs per step of each of ``repeats`` runs.

    On a shared machine the wall time includes waiting for a core; the CPU time
    of this (single-threaded) process does not.
    """
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run(spec)
        cpu.append((time.process_time() - start_cpu) / spec.time.n_steps * 1e6)
        wall.append((time.perf_counter() - start) / spec.time.n_steps * 1e6)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the steps, one repeat")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    load = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for method, widths in STEPS.items():
            run = get_method(method)
            if run is None:
                print(f"(skipping {method}: analogvle.reference.integrate not available)")
                continue
            for width, n_steps in widths.items():
                n_steps = max(10, n_steps // 10) if args.quick else n_steps
                run(make_spec(width, 10, folder))  # warm-up: JIT compile, caches
                wall, cpu = time_per_step(run, make_spec(width, n_steps, folder), repeats)
                rows.append(
                    {
                        "method": method,
                        "width": width,
                        "steps": n_steps,
                        "us_per_step_min": min(wall),
                        "us_per_step_median": statistics.median(wall),
                        "cpu_us_per_step_min": min(cpu),
                        "budget_us": TARGET_US.get(width) if method == "gle-euler" else None,
                    }
                )
                print(f"  {method:9s} width {width:5d}: {min(wall):12.2f} µs/step ({min(cpu):.2f} CPU)", flush=True)

    print()
    print(f"load average before the run: {load[0]:.2f} on {os.cpu_count()} cores")
    print("| method | width | steps | µs/step wall (min) | wall (median) | CPU (min) | budget (wall min) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        budget = r["budget_us"]
        verdict = "" if budget is None else f"≤ {budget:g} µs: {'ok' if r['us_per_step_min'] <= budget else 'OVER'}"
        print(
            f"| {r['method']} | {r['width']} | {r['steps']} | {r['us_per_step_min']:.2f} "
            f"| {r['us_per_step_median']:.2f} | {r['cpu_us_per_step_min']:.2f} | {verdict} |"
        )

    OUT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "setup": "three tanh layers of width w, input w, prospective errors, all plastic, batch 1, one thread",
        "timing": "whole integrate() call / n_steps, after a warm-up run; save points at t=0 and the end only",
        "dt": DT,
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "load_average_before": load,
            "python": platform.python_version(),
        },
        "versions": {"numpy": np.__version__, "numba": numba.__version__},
        "threads": {v: os.environ[v] for v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "results": rows,
    }
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main()
