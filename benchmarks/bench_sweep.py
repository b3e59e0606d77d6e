"""Sweep wall time: LagNet mismatch sweep, 5 mismatch levels × 20 seeds, with 1 and 2 local workers and a Dask
LocalCluster of 2 worker processes. Each run is a full pipeline (reference, netlist, ngspice, comparison,
report) with the duration shortened to DURATION model time units to keep the benchmark to minutes.

    .venv/bin/python benchmarks/bench_sweep.py [--seeds 20] [--duration 5.0]

Prints and writes benchmarks/out/bench_sweep.json: wall time per mode, speedup vs 1 worker, load averages
before and after each mode (the machine is shared), and whether every mode produced the same rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from analogvle.workflows.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
LEVELS = "0.0,0.01,0.02,0.05,0.1"


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "runs.csv").open(newline="") as f:
        return [{k: v for k, v in r.items() if k != "wall_time"} for r in csv.DictReader(f)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    sets = [f"circuit.mismatch={LEVELS}", f"time.duration={args.duration}"]
    spec = ROOT / "sims/lagnet.toml"
    tmp = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    results: dict[str, dict] = {}
    rows = {}
    modes = [("workers=1", {"workers": 1}), ("workers=2", {"workers": 2}), ("dask LocalCluster(2)", {"dask": True})]
    for name, opts in modes:
        out = tmp / name.replace(" ", "_").replace("=", "")
        load_before = os.getloadavg()
        start = time.perf_counter()
        if opts.get("dask"):
            from dask.distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                sweep(spec, seeds=args.seeds, sets=sets, scheduler=cluster.scheduler_address, out=out, progress=False)
        else:
            sweep(spec, seeds=args.seeds, sets=sets, workers=opts["workers"], out=out, progress=False)
        wall = time.perf_counter() - start
        rows[name] = _rows(out)
        ok = sum(r["status"] == "ok" for r in rows[name])
        results[name] = {"wall_s": wall, "runs": len(rows[name]), "ok": ok, "load_before": load_before,
                         "load_after": os.getloadavg()}
        print(f"{name}: {wall:.1f} s for {len(rows[name])} runs ({ok} ok); load {load_before} -> "
              f"{results[name]['load_after']}", flush=True)
    base = results["workers=1"]["wall_s"]
    for r in results.values():
        r["speedup"] = base / r["wall_s"]
    summary = {"spec": "sims/lagnet.toml", "duration": args.duration, "mismatch_levels": LEVELS, "seeds": args.seeds,
               "cpus": os.cpu_count(), "modes": results,
               "same_rows": all(rows[m] == rows["workers=1"] for m in rows)}
    print(json.dumps({k: (round(v["speedup"], 3)) for k, v in results.items()}), "same rows:", summary["same_rows"])
    dest = ROOT / "benchmarks" / "out" / "bench_sweep.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(summary, indent=2) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
