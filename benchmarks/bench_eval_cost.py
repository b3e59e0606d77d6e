"""What one MNIST-1D evaluate transient costs ngspice: time points per dt step, Newton iterations, CPU per point.

    .venv/bin/python benchmarks/bench_eval_cost.py [--samples 5] [--reltol 1e-3,1e-2]
        [--set circuit.noise=0.01] [--set circuit.synapse_linear_range=5]

Builds the netlist ``analogvle evaluate`` runs (the seed-42 weights' forward
path, the first test samples back to back, only the output saved) for every
reltol and every ``--set`` (each alone, and the plain circuit), runs it with
``ngspice -b`` and ``.options acct`` (ngspice's own statistics) and prints
one table row each: accepted and all time points per dt step, Newton
iterations per time point, ngspice's CPU time (user, from the OS) per time
point and per sample, and the share of it spent loading the matrix.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import tempfile
from pathlib import Path

from analogvle.circuit.build import build_circuit
from analogvle.circuit.probes import probe_nodes
from analogvle.integrate.batched.trained_file import load_trained
from analogvle.integrate.batched.training import task_samples
from analogvle.model.toml import load_spec
from analogvle.netlist.netlist import write_circuit
from analogvle.workflows.evaluate import forward_spec

ROOT = Path(__file__).resolve().parents[1]
STATS = {"points": "Transient timepoints", "accepted": "Accepted timepoints", "iterations": "Transient iterations",
         "load": "Transient load time", "analysis": "Transient analysis time"}


def netlist_folder(spec_path: str, weights: str, samples: int, overrides: dict, folder: Path) -> Path:
    """Write the evaluate netlist of the first ``samples`` test samples (with ``.options acct``) into ``folder``."""
    spec = load_spec(spec_path, overrides)
    _, _, xt, _ = task_samples(spec)
    fspec = forward_spec(spec, load_trained(weights, spec), xt[:samples])
    top = f"layer{len(fspec.network.layers)}/r"
    built = build_circuit(fspec, None)
    keep = {top: built.probes[top]}
    built.circuit.saves = sorted(probe_nodes(keep))
    built.circuit.options = {"acct": None, **built.circuit.options}
    return write_circuit(fspec.name, built.circuit, keep, built.time_scale, built.summary).write(folder / "eval.cir")


def run(path: Path) -> dict[str, float]:
    """ngspice -b on ``path``: its statistics and the CPU time it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    out = subprocess.run(["ngspice", "-b", "-r", "out.raw", path.name], cwd=path.parent, capture_output=True,
                         text=True, check=True).stdout
    stats = {"cpu": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before}
    for key, label in STATS.items():
        stats[key] = float(re.search(rf"^{label}\s*=\s*([0-9.eE+-]+)", out, re.MULTILINE).group(1))
    return stats


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default=str(ROOT / "sims" / "mnist1d.toml"))
    p.add_argument("--weights", default=str(ROOT / "benchmarks" / "data" / "mnist1d_adam_s42.npz"))
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--reltol", default="1e-3,1e-2")
    p.add_argument("--set", action="append", default=[], help="KEY=VALUE, one extra configuration each")
    args = p.parse_args()
    configs = [{}] + [{k: float(v)} for k, v in (s.split("=", 1) for s in args.set)]
    steps = args.samples * 360
    print(f"{args.samples} samples ({steps} dt steps), ngspice -b, CPU = user time of the ngspice process")
    print("| reltol | setting | accepted points / step | all points / step | Newton iterations / point | "
          "CPU / point | CPU / sample | matrix load share |")
    print("|---|---|---|---|---|---|---|---|")
    for reltol in args.reltol.split(","):
        for extra in configs:
            with tempfile.TemporaryDirectory(prefix="eval-cost-") as tmp:
                path = netlist_folder(args.spec, args.weights, args.samples,
                                      {"simulator.reltol": float(reltol), **extra}, Path(tmp))
                s = run(path)
            label = ", ".join(f"{k.split('.')[-1]} = {v:g}" for k, v in extra.items()) or "ideal"
            print(f"| {reltol} | {label} | {s['accepted'] / steps:.2f} | {s['points'] / steps:.2f} | "
                  f"{s['iterations'] / s['points']:.2f} | {1e3 * s['cpu'] / s['points']:.2f} ms | "
                  f"{s['cpu'] / args.samples:.2f} s | {s['load'] / s['analysis']:.0%} |", flush=True)


if __name__ == "__main__":
    main()
