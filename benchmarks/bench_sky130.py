"""LagNet on SkyWater 130 nm transistors: nrmse against the ideal model and ngspice wall time.

Runs sims/lagnet_forward_sky130.toml (errors off) and sims/lagnet_errors_sky130.toml
(prospective errors on), each on both backends, over ``--duration`` model time
units (default 100, the README's numbers), and prints a Markdown table of the
nrmse per signal, the largest-error cell and the ngspice wall time, then the
mean supply power, device count and area. Writes benchmarks/out/sky130.json.

    .venv/bin/python benchmarks/bench_sky130.py [--duration 100]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
from pathlib import Path

from analogvle.compare.attribution import cell_errors, forward_gains
from analogvle.compare.metrics import compare
from analogvle.integrate.solve import integrate
from analogvle.model.toml import load_spec
from analogvle.simulate.run import simulate, trimmed_netlist

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out" / "sky130.json"
RUNS = (("lagnet_forward_sky130", "shared"), ("lagnet_forward_sky130", "subprocess"),
        ("lagnet_errors_sky130", "shared"), ("lagnet_errors_sky130", "subprocess"))


def measure(name: str, backend: str, duration: float) -> dict:
    spec = load_spec(ROOT / "sims" / f"{name}.toml")
    spec = dataclasses.replace(spec, time=dataclasses.replace(spec.time, duration=duration))
    ref = integrate(spec, "adaptive")
    netlist = trimmed_netlist(spec, "sky130", backend)  # as analogvle run: offset trims measured at x = 0
    circ = simulate(spec, backend=backend, netlist=netlist, progress=False)
    hw = netlist.summary["hardware"]
    result = compare(ref, circ, signals=spec.compare.signals, tolerance=spec.compare.tolerance)
    errors = cell_errors(spec, ref, circ)
    return {"spec": name, "backend": backend, "duration": duration,
            "nrmse": {k: s.nrmse for k, s in sorted(result.signals.items())},
            "nrmse_per_neuron": {k: [c.nrmse for c in s.components] for k, s in sorted(result.signals.items())},
            "largest_error_cell": next(iter(errors)), "cell_errors": errors,
            "forward_gains": forward_gains(spec, circ, ref["x"], start=5.0),
            "node_gain_trims": {k: v for k, v in hw["offset_trims_units"].items() if k.startswith("g_")},
            "ngspice_wall_s": circ.meta["producer"]["ngspice_wall_time"],
            "supply_power_W": 1.8e-6 * float(circ["hardware/supply_uA"].mean()), "devices": hw["devices"],
            "area_total_um2": hw["area_total_um2"], "area_per_neuron_um2": hw["area_per_neuron_um2"],
            "area_per_synapse_um2": hw["area_per_synapse_um2"],
            "points": circ.meta["producer"]["circuit_points"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=100.0)
    args = parser.parse_args()
    rows = [measure(name, backend, args.duration) for name, backend in RUNS]
    print(f"| spec | backend | {' | '.join(sorted({k for r in rows for k in r['nrmse']}))} | largest-error cell | "
          "ngspice wall [s] |")
    keys = sorted({k for r in rows for k in r["nrmse"]})
    print("|---" * (len(keys) + 4) + "|")
    for r in rows:
        cells = " | ".join(f"{r['nrmse'][k]:.4f}" if k in r["nrmse"] else "–" for k in keys)
        print(f"| {r['spec']} | {r['backend']} | {cells} | {r['largest_error_cell']} | {r['ngspice_wall_s']:.1f} |")
    for r in rows:
        print(f"{r['spec']} ({r['backend']}): supply {1e6 * r['supply_power_W']:.3f} uW, devices {r['devices']}, "
              f"area {r['area_total_um2']:.0f} um2 ({r['area_per_neuron_um2']:.0f} per neuron, "
              f"{r['area_per_synapse_um2']:.0f} per synapse)")
        print(f"  forward gains (circuit uh over its ideal form, per neuron): "
              f"{', '.join(f'{k} {v:.4f}' for k, v in r['forward_gains'].items())}; node-gain trims: "
              f"{', '.join(f'{k} {v:.4f}' for k, v in r['node_gain_trims'].items())}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"machine": platform.platform(), "processor": platform.processor(), "runs": rows},
                              indent=1, default=float) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
