"""Commands that study a spec beyond one run: exact gradients, sweeps over seeds and parameters."""

from __future__ import annotations

import argparse

from analogvle.cli.options import add_allow_large, load_checked
from analogvle.files import check_output_file
from analogvle.workflows.gradients import write_alignment_plot, write_gradients
from analogvle.workflows.sweep import MAX_RUNS, MIN_AGREEMENT, sweep
from analogvle.workflows.sweep import summary as sweep_summary


def add_commands(sub: argparse._SubParsersAction) -> dict:
    """Add this module's sub-commands to ``sub``; returns command name → handler."""
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
    p.add_argument("--weights", default=None, metavar="NPZ", help="a [task] spec: the trained network to evaluate")
    p.add_argument("--samples", type=int, default=200, help="a [task] spec: test samples per run (default 200)")
    for name in ("gradients", "sweep"):
        add_allow_large(sub.choices[name])
    return {"gradients": cli_gradients, "sweep": cli_sweep}


def cli_gradients(args) -> int:
    spec = load_checked(args, ("reference",))
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
    spec = load_checked(args, (), task=None)
    out, rows = sweep(spec, seeds=args.seeds, sets=args.sets, workers=args.workers, scheduler=args.scheduler,
                      out=args.out, max_runs=args.max_runs, allow_large=args.allow_large, weights=args.weights,
                      samples=args.samples)
    line, code = sweep_summary(rows, MIN_AGREEMENT if spec.task else spec.compare.tolerance)
    print(f"{line}; table {out / 'runs.csv'}, report {out / 'sweep.md'}")
    return code
