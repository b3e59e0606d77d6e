"""Memory of 1,000 consecutive shared-library runs in one process.

Runs the LagNet forward circuit (errors off, no plasticity, duration 5) through
``simulate(..., backend="shared")`` ``--runs`` times, printing the resident set
size every 100 runs; exits 1 if it grew by 50 MB or more.

    .venv/bin/python benchmarks/bench_memory.py [--runs 1000]
"""

from __future__ import annotations

import argparse
import sys
import time

from analogvle.model.toml import load_spec
from analogvle.netlist.netlist import build_netlist
from analogvle.simulate.run import simulate

LIMIT_MB = 50.0


def rss_mb() -> float:
    """Resident set size of this process (MB), from /proc."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--spec", default="sims/lagnet.toml")
    args = parser.parse_args()
    overrides = {"time.duration": 5.0, "network.errors": "none", "network.layer.1.plastic": False}
    spec = load_spec(args.spec, overrides=overrides)
    net = build_netlist(spec)
    simulate(spec, backend="shared", netlist=net, progress=False)  # load the library first
    start_mb = rss_mb()
    t0 = time.perf_counter()
    print("| runs | RSS (MB) | growth (MB) |\n|---|---|---|")
    print(f"| 0 | {start_mb:.1f} | 0.0 |")
    for i in range(1, args.runs + 1):
        simulate(spec, backend="shared", netlist=net, progress=False)
        if i % 100 == 0 or i == args.runs:
            now = rss_mb()
            print(f"| {i} | {now:.1f} | {now - start_mb:.1f} |", flush=True)
    growth = rss_mb() - start_mb
    wall = time.perf_counter() - t0
    print(f"\n{args.runs} runs in {wall:.1f} s ({1e3 * wall / args.runs:.1f} ms each): "
          f"RSS grew {growth:.1f} MB ({1024 * growth / args.runs:.2f} kB per run); limit {LIMIT_MB:.0f} MB")
    return 0 if growth < LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
