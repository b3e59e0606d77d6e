"""The trained MNIST-1D network as an ngspice circuit: accuracy, agreement with the reference, wall time.

    .venv/bin/python benchmarks/bench_evaluate.py [--samples 200] [--workers 2] [--realization ideal]
        [--weights benchmarks/data/mnist1d_adam_s42.npz] [--spec sims/mnist1d.toml]

Runs ``analogvle evaluate``'s workflow (the test samples back to back, split
into one chunk per worker, each chunk one transient) and prints the metrics
and the wall time; the report goes to benchmarks/out/evaluate_<realization>/.
The default weights are the seed-42 paper run (``bench_train.py --seeds 42
--epochs 150`` reproduces them).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from analogvle.integrate.batched.trained_file import load_trained
from analogvle.model.toml import load_spec
from analogvle.workflows.evaluate import evaluate_to

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default=str(ROOT / "sims" / "mnist1d.toml"))
    p.add_argument("--weights", default=str(ROOT / "benchmarks" / "data" / "mnist1d_adam_s42.npz"))
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--realization", default="ideal")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    spec = load_spec(args.spec)
    out = Path(args.out or ROOT / "benchmarks" / "out" / f"evaluate_{args.realization}")
    start = time.perf_counter()
    m = evaluate_to(out, spec, load_trained(args.weights, spec), samples=args.samples,
                    realization=args.realization, workers=args.workers)
    wall = time.perf_counter() - start
    t = m["timings_s"]
    print(f"{args.realization}, {m['samples']} samples, {args.workers} workers: accuracy circuit "
          f"{100 * m['accuracy_circuit']:.1f} %, reference (rk4) {100 * m['accuracy_reference']:.1f} %, gle-euler "
          f"{100 * m['accuracy_gle_euler']:.1f} %; agreement circuit/reference {100 * m['agreement']:.1f} %, "
          f"circuit/gle-euler {100 * m['agreement_gle_euler']:.1f} %; summed-output difference "
          f"{m['output_sum_max_rel_diff']:.2e}; wall {wall:.0f} s (ngspice {t['ngspice']:.0f} s of transient wall time over "
          f"{m['ngspice_points']} points, rk4 {t['reference']:.0f} s, summed over chunks)")
    print(json.dumps({k: v for k, v in m.items() if k not in ("indices", "confusion_circuit", "confusion_reference")}))


if __name__ == "__main__":
    main()
