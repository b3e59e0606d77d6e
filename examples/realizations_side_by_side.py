"""The same spec as two circuits: controlled sources (ideal) and RC networks (passive), each against the reference.

    python examples/realizations_side_by_side.py [SPEC] [DURATION]
"""

import sys

import analogvle as av

path = sys.argv[1] if len(sys.argv) > 1 else "sims/lagnet.toml"
spec = av.load_spec(path, overrides={"time.duration": float(sys.argv[2]) if len(sys.argv) > 2 else 50.0})
ref = av.integrate(spec, method="adaptive")

print(f"{'realization':<12} {'elements':>8} {'R':>4} {'C':>4} {'E':>4} {'B':>4} {'worst nrmse':>12}  signal")
for realization in ("ideal", "passive"):
    net = av.build_netlist(spec, realization=realization)
    circ = av.simulate(spec, netlist=net, realization=realization, progress=False)
    cmp = av.compare(ref, circ, signals=spec.compare.signals, tolerance=spec.compare.tolerance)
    counts = net.summary["counts"]
    print(f"{realization:<12} {net.summary['elements']:>8} {counts['R']:>4} {counts['C']:>4} {counts['E']:>4} "
          f"{counts['B']:>4} {cmp.worst:>12.2e}  {cmp.worst_signal}")
