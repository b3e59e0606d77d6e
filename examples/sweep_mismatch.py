"""A Monte Carlo sweep from Python: component mismatch against the circuit's fidelity and final loss.

    python examples/sweep_mismatch.py [SEEDS] [OUT]

The spec is modified in Python (a short LagNet) and handed to the sweep as a Spec object. Runs go to
worker processes, so the script's work sits under ``if __name__ == "__main__"`` (workers import it).
"""

import sys
from dataclasses import replace

import analogvle as av


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    out = sys.argv[2] if len(sys.argv) > 2 else "sims/out/sweep_mismatch"
    spec = av.load_spec("sims/lagnet.toml")
    spec = replace(spec, time=replace(spec.time, duration=20.0, learn_after=5.0))
    folder, rows = av.sweep(spec, seeds=seeds, sets=["circuit.mismatch=0,0.02"], workers=2, out=out, progress=False)
    print(f"{'run':<22} {'mismatch':>8} {'worst nrmse':>12} {'final loss':>12}  status")
    for row in rows:
        print(f"{row['run_id']:<22} {row['circuit.mismatch']:>8} {float(row['worst_nrmse']):>12.3e} "
              f"{float(row['final_loss']):>12.3e}  {row['status']}")
    print(f"table: {folder / 'runs.csv'}, report: {folder / 'sweep.md'}")


if __name__ == "__main__":
    main()
