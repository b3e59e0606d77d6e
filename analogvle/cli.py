"""The ``analogvle`` command line (also ``python -m analogvle``): every parser and every handler.

Each handler parses its options, calls the public API and prints where the
results went; choices come from the registries. Exit codes: 0 success (and,
for compare/run, within tolerance), 1 outside tolerance, 2 bad input (one
line naming the file, key or option), 3 the simulator or integrator failed,
4 an internal error (one line naming a crash log with the traceback), 130
after Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import traceback
from pathlib import Path

from analogvle.circuit.passes import format_summary
from analogvle.compare.learning import learning_line
from analogvle.compare.metrics import check_tolerance, compare, summary_line
from analogvle.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, AnalogvleError, CompareError
from analogvle.files import check_output_dir, check_output_file
from analogvle.integrate.solve import integrate
from analogvle.model.budget import check_budget
from analogvle.model.settings import CompareSpec
from analogvle.model.spec import Spec
from analogvle.model.toml import load_spec
from analogvle.model.trajectory import load_trajectory, save_trajectory
from analogvle.netlist.netlist import build_netlist
from analogvle.registry import BACKENDS, METHODS, REALIZATIONS
from analogvle.report.learning_plot import plot_learning, teacher_weights
from analogvle.report.write import write_report
from analogvle.simulate.run import simulate
from analogvle.version import __version__
from analogvle.workflows.gradients import write_alignment_plot, write_gradients
from analogvle.workflows.run import DEMO_SPEC, RunResult, run
from analogvle.workflows.sweep import MAX_RUNS, sweep
from analogvle.workflows.sweep import summary as sweep_summary


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (not the usage block) on bad options."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="analogvle", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"analogvle {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
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
    p.add_argument("--tolerance", default=CompareSpec().tolerance, type=_tolerance,
                   help=f"worst nrmse allowed (default {CompareSpec().tolerance:g})")
    p.add_argument("--coverage", default=CompareSpec().coverage, type=_fraction,
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

    p = sub.add_parser("gradients", help="exact adjoint gradient vs the local (GLE) estimate")
    p.add_argument("spec")
    p.add_argument("-o", "--output", required=True, help="gradients file (.json)")
    p.add_argument("--alignment-plot", metavar="PNG", default=None,
                   help="also sweep tau_r/tau_m and plot the local-vs-exact alignment")

    p = sub.add_parser("sweep", help="run a spec over seeds and parameter values")
    p.add_argument("spec")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE[,VALUE...]")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--scheduler", default=None, metavar="ADDRESS")
    p.add_argument("--out", default=None, metavar="DIR")
    p.add_argument("--max-runs", type=int, default=MAX_RUNS, help=f"refuse larger plans (default {MAX_RUNS})")
    for name in ("reference", "netlist", "simulate", "run", "gradients", "sweep"):
        sub.choices[name].add_argument("--allow-large", action="store_true",
                                       help="skip the size checks (memory, netlist size, time points)")
    return parser


# ----------------------------------------------------------------------------
# Handlers: each returns the exit code
# ----------------------------------------------------------------------------


def _load(args, stages: tuple[str, ...]) -> Spec:
    """The spec of ``args.spec``, checked against the size limits of ``stages``; its warnings on stderr."""
    spec = load_spec(args.spec)
    check_budget(spec, stages, allow=args.allow_large)
    for warning in spec.warnings:
        print(f"analogvle {args.command}: warning: {spec.source}: {warning}", file=sys.stderr)
    return spec


def cli_reference(args) -> int:
    spec = _load(args, ("reference",))
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
    spec = _load(args, ("netlist",))
    check_output_file(args.output)
    netlist = build_netlist(spec, args.realization)
    path = netlist.write(args.output)
    for line in format_summary(netlist.summary):
        print(line)
    files = ", ".join(str(path.parent / f) for f in sorted(netlist.files()))
    print(f"wrote {path}" + (f" and {files}" if files else ""))
    return 0


def cli_simulate(args) -> int:
    spec = _load(args, ("netlist", "circuit"))
    check_output_file(args.output)
    traj = simulate(spec, backend=args.backend, realization=args.realization)
    path = save_trajectory(args.output, traj)
    producer = traj.meta["producer"]
    print(f"wrote {path}: {len(traj.t)} points × {len(traj.signals)} signals (ngspice {producer['ngspice_version']}, "
          f"{producer['backend']} backend, {traj.meta['wall_time']:.2f} s)")
    return 0


def _tolerance(text: str) -> float:
    try:
        return check_tolerance(text)
    except CompareError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("tolerance: ")) from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}")
    return value


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
    spec = _load(args, ("reference", "netlist", "circuit"))
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


def cli_gradients(args) -> int:
    spec = _load(args, ("reference",))
    check_output_file(args.output)
    if args.alignment_plot:
        check_output_file(args.alignment_plot)
    g = write_gradients(spec, args.output)
    print(f"loss {g.loss:.6g} over {g.duration:g} time units")
    for name, lg in g.layers.items():
        d = lg.as_dict()
        print(f"{name}: cosine(local, exact) = {_num(d['cosine'])}, norm ratio = {_num(d['norm_ratio'])}; "
              f"instantaneous: cosine = {_num(d['cosine_instantaneous'])}")
    if g.note:
        print(f"note: {g.note}")
    print(f"wrote {args.output}")
    if args.alignment_plot:
        write_alignment_plot(spec, args.alignment_plot)
        print(f"wrote {args.alignment_plot}")
    return 0


def _num(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"


def cli_sweep(args) -> int:
    spec = _load(args, ())
    out, rows = sweep(spec, seeds=args.seeds, sets=args.sets, workers=args.workers, scheduler=args.scheduler,
                      out=args.out, max_runs=args.max_runs, allow_large=args.allow_large)
    line, code = sweep_summary(rows, spec.compare.tolerance)
    print(f"{line}; table {out / 'runs.csv'}, report {out / 'sweep.md'}")
    return code


HANDLERS = {"reference": cli_reference, "netlist": cli_netlist, "simulate": cli_simulate, "compare": cli_compare,
            "run": cli_run, "demo": cli_demo, "gradients": cli_gradients, "sweep": cli_sweep}


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (argparse's own 0/2 for --help, --version and bad options)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return int(HANDLERS[args.command](args) or 0)
    except AnalogvleError as exc:
        print(f"analogvle {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"analogvle {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - a bug: one line and a crash log, never a bare traceback
        log = write_crash_log(args.command, argv)
        print(f"analogvle {args.command}: internal error (a bug), {type(exc).__name__}: {_first_line(exc)}; "
              f"traceback in {log}", file=sys.stderr)
        return EXIT_INTERNAL


def write_crash_log(command: str, argv: list[str] | None) -> Path:
    """The current exception's traceback, the command line and versions, in a new file; returns its path."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    fd, name = tempfile.mkstemp(prefix=f"analogvle-crash-{stamp}-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"analogvle {__version__}, python {sys.version.split()[0]}\n")
        f.write(f"command: analogvle {' '.join(sys.argv[1:] if argv is None else argv)}\n\n")
        f.write(traceback.format_exc())
    return Path(name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "(no message)"
