"""Commands of the pipeline's stages: reference, netlist, simulate, compare, and run/demo for all of them."""

from __future__ import annotations

import argparse
import sys

from analogvle.circuit.passes import format_summary
from analogvle.cli.options import add_allow_large, fraction, load_checked, tolerance
from analogvle.compare.learning import learning_line
from analogvle.compare.metrics import compare, summary_line
from analogvle.files import check_output_dir, check_output_file
from analogvle.integrate.solve import integrate
from analogvle.model.settings import CompareSpec
from analogvle.model.toml import load_spec
from analogvle.model.trajectory import load_trajectory, save_trajectory
from analogvle.netlist.netlist import build_netlist
from analogvle.registry import BACKENDS, METHODS, REALIZATIONS
from analogvle.report.learning_plot import plot_learning, teacher_weights
from analogvle.report.write import write_report
from analogvle.simulate.run import simulate
from analogvle.workflows.run import DEMO_SPEC, RunResult, run


def add_commands(sub: argparse._SubParsersAction) -> dict:
    """Add this module's sub-commands to ``sub``; returns command name → handler."""
    methods, realizations, backends = METHODS.names(), REALIZATIONS.names(), BACKENDS.names()

    p = sub.add_parser("reference", help="integrate the ideal model (NumPy) and write a trajectory file")
    p.add_argument("spec")
    p.add_argument("-o", "--output", required=True, help="trajectory file (.npz)")
    p.add_argument("--method", default="adaptive", choices=methods)
    p.add_argument("--plot", metavar="PNG", help="also write a plot of output, target and weights")

    p = sub.add_parser("netlist", help="generate the ngspice netlist of the spec's circuit")
    p.add_argument("spec")
    p.add_argument("-o", "--output", required=True, help="netlist file (.cir)")
    p.add_argument("--realization", choices=realizations, default=None, help="default: the spec's")

    p = sub.add_parser("simulate", help="run the circuit in ngspice and write a trajectory file")
    p.add_argument("spec")
    p.add_argument("-o", "--output", required=True, help="trajectory file (.npz)")
    p.add_argument("--backend", choices=backends, default=None, help="default: the spec's")
    p.add_argument("--realization", choices=realizations, default=None, help="default: the spec's")

    p = sub.add_parser("compare", help="compare two trajectory files and write a report")
    p.add_argument("reference")
    p.add_argument("circuit")
    p.add_argument("--signals", nargs="+", default=None, metavar="GLOB")
    p.add_argument("--tolerance", default=CompareSpec().tolerance, type=tolerance,
                   help=f"worst nrmse allowed (default {CompareSpec().tolerance:g})")
    p.add_argument("--coverage", default=CompareSpec().coverage, type=fraction,
                   help=f"smallest fraction of the reference's span the circuit must cover "
                        f"(default {CompareSpec().coverage:g})")
    p.add_argument("--report", required=True, metavar="DIR")

    p = sub.add_parser("run", help="reference, netlist, simulation and comparison in one")
    p.add_argument("spec")
    p.add_argument("--out", default=None, metavar="DIR", help="default sims/out/<name>/")
    p.add_argument("--realization", choices=realizations, default=None)
    p.add_argument("--backend", choices=backends, default=None)

    p = sub.add_parser("demo", help="the flagship example (LagNet learning), end to end")
    p.add_argument("--out", default=None, metavar="DIR")

    for name in ("reference", "netlist", "simulate", "run"):
        add_allow_large(sub.choices[name])
    return {"reference": cli_reference, "netlist": cli_netlist, "simulate": cli_simulate, "compare": cli_compare,
            "run": cli_run, "demo": cli_demo}


def cli_reference(args) -> int:
    spec = load_checked(args, ("reference",))
    check_output_file(args.output)
    if args.plot:
        check_output_file(args.plot)
    traj = integrate(spec, args.method, progress=True)
    save_trajectory(args.output, traj)
    print(f"wrote {args.output} ({args.method}, {len(traj.t)} points, {traj.meta['wall_time']:.1f} s)")
    if args.plot:
        plot_learning([(traj, f"reference ({args.method})")], args.plot, teacher_weights=teacher_weights(spec),
                      title=f"{spec.name}: reference learning")
        print(f"wrote {args.plot}")
    return 0


def cli_netlist(args) -> int:
    spec = load_checked(args, ("netlist",))
    check_output_file(args.output)
    netlist = build_netlist(spec, args.realization)
    path = netlist.write(args.output)
    for line in format_summary(netlist.summary):
        print(line)
    files = ", ".join(str(path.parent / f) for f in sorted(netlist.files()))
    print(f"wrote {path}" + (f" and {files}" if files else ""))
    return 0


def cli_simulate(args) -> int:
    spec = load_checked(args, ("netlist", "circuit"))
    check_output_file(args.output)
    traj = simulate(spec, backend=args.backend, realization=args.realization)
    path = save_trajectory(args.output, traj)
    producer = traj.meta["producer"]
    print(f"wrote {path}: {len(traj.t)} points × {len(traj.signals)} signals (ngspice {producer['ngspice_version']}, "
          f"{producer['backend']} backend, {traj.meta['wall_time']:.2f} s)")
    return 0


def cli_compare(args) -> int:
    report = check_output_dir(args.report)
    ref, circ = load_trajectory(args.reference), load_trajectory(args.circuit)
    result = compare(ref, circ, signals=args.signals, tolerance=args.tolerance, coverage=args.coverage)
    write_report(result, report, reference_path=args.reference, circuit_path=args.circuit)
    print(summary_line(result))
    if result.learning is not None:
        print(f"  {learning_line(result.learning)}")
    for note in result.notes:
        print(f"  note: {note}")
    print(f"  report: {report / 'report.md'}")
    return 0 if result.passed else 1


def cli_run(args) -> int:
    spec = load_checked(args, ("reference", "netlist", "circuit"))
    out = check_output_dir(args.out) if args.out is not None else None
    return _conclude(run(spec, out, realization=args.realization, backend=args.backend))


def cli_demo(args) -> int:
    spec = load_spec(DEMO_SPEC)
    out = check_output_dir(args.out) if args.out is not None else None
    print(f"analogvle demo: {spec.name} teacher-student, W1 learning in the circuit ({DEMO_SPEC})", file=sys.stderr)
    return _conclude(run(spec, out))


def _conclude(res: RunResult) -> int:
    print(summary_line(res.comparison))
    if res.comparison.learning is not None:
        print(learning_line(res.comparison.learning))
    print("stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in res.timings.items()))
    print(f"report: {res.files['report']}")
    return 0 if res.comparison.passed else 1


