"""Option types and spec loading shared by the command modules."""

from __future__ import annotations

import argparse
import sys

from analogvle.compare.metrics import check_tolerance
from analogvle.errors import CompareError, SpecError
from analogvle.model.budget import check_budget
from analogvle.model.spec import Spec
from analogvle.model.toml import load_spec


def add_allow_large(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-large", action="store_true",
                        help="skip the size checks (memory, netlist size, time points)")


def load_checked(args, stages: tuple[str, ...], *, task: bool | None = False) -> Spec:
    """The spec of ``args.spec``, checked against the size limits of ``stages``; its warnings on stderr.

    ``task``: the command needs a ``[task]`` spec (train, evaluate); otherwise a task spec is refused (its
    dataset is not a signal the pipeline's commands can run); None: either.
    """
    spec = load_spec(args.spec)
    if task and spec.task is None:
        raise SpecError("missing: this command needs a [task] table (a dataset to classify)", key="task",
                        source=spec.source)
    if task is False and spec.task is not None:
        raise SpecError(f"a classification task runs with 'analogvle train' and 'analogvle evaluate', not "
                        f"'{args.command}'", key="task", source=spec.source)
    check_budget(spec, stages, allow=getattr(args, "allow_large", False))
    for warning in spec.warnings:
        print(f"analogvle {args.command}: warning: {spec.source}: {warning}", file=sys.stderr)
    return spec


def tolerance(text: str) -> float:
    try:
        return check_tolerance(text)
    except CompareError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("tolerance: ")) from None


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}")
    return value
