"""Commands of classification tasks: train (batched reference training) and evaluate (the trained network as a
circuit)."""

from __future__ import annotations

import argparse
import sys

from analogvle.cli.options import add_allow_large, load_checked
from analogvle.files import check_output_dir, check_output_file
from analogvle.integrate.batched.trained_file import load_trained, save_trained
from analogvle.integrate.batched.training import check_trainable, train
from analogvle.registry import BACKENDS, REALIZATIONS
from analogvle.workflows.evaluate import evaluate_to


def add_commands(sub: argparse._SubParsersAction) -> dict:
    """Add this module's sub-commands to ``sub``; returns command name → handler."""
    p = sub.add_parser("train", help="train the spec's network on its [task] dataset (batched gle-euler)")
    p.add_argument("spec")
    p.add_argument("-o", "--output", required=True, help="trained weights, biases and curve (.npz)")
    p.add_argument("--epochs", type=_positive_int, default=None, help="default: [task.train] epochs")
    p.add_argument("--verbose", action="store_true", help="also print one line per epoch")

    p = sub.add_parser("evaluate", help="classify test samples with the trained network as an ngspice circuit")
    p.add_argument("spec")
    p.add_argument("--weights", required=True, metavar="NPZ", help="trained.npz from analogvle train")
    p.add_argument("--report", required=True, metavar="DIR")
    p.add_argument("--realization", choices=REALIZATIONS.names(), default=None, help="default: the spec's")
    p.add_argument("--backend", choices=BACKENDS.names(), default=None, help="default: the spec's")
    p.add_argument("--samples", type=_positive_int, default=200, help="test samples, back to back (default 200)")
    p.add_argument("--workers", type=_positive_int, default=1, help="chunks simulated in parallel (default 1)")
    add_allow_large(p)
    return {"train": cli_train, "evaluate": cli_evaluate}


def cli_train(args) -> int:
    spec = load_checked(args, (), task=True)
    check_trainable(spec)
    check_output_file(args.output)
    log = (lambda line: print(line, file=sys.stderr)) if args.verbose else None
    result = train(spec, epochs=args.epochs, log=log)
    path = save_trained(args.output, spec, result)
    c = result.curve
    epochs = len(c["epoch"]) - 1
    print(f"wrote {path}: {epochs} epochs, final test accuracy {c['test_acc'][-1]:.2f} % (online train "
          f"{c['train_acc'][-1]:.2f} %), {result.wall_time:.1f} s ({result.wall_time / max(epochs, 1):.2f} s per epoch)")
    return 0


def cli_evaluate(args) -> int:
    spec = load_checked(args, ("netlist", "circuit"), task=True)
    report = check_output_dir(args.report)
    weights = load_trained(args.weights, spec)
    m = evaluate_to(report, spec, weights, samples=args.samples, realization=args.realization, backend=args.backend,
                    workers=args.workers, allow_large=args.allow_large)
    print(f"accuracy: circuit {100 * m['accuracy_circuit']:.1f} %, reference {100 * m['accuracy_reference']:.1f} %, "
          f"agreement {100 * m['agreement']:.1f} % on {m['samples']} samples ({m['realization']}, "
          f"{m['timings_s']['wall']:.1f} s)")
    print(f"  report: {report / 'report.md'}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value
