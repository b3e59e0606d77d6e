"""Option types and spec loading shared by the command modules."""

from __future__ import annotations

import argparse
import sys

from analogvle.compare.metrics import check_tolerance
from analogvle.errors import CompareError
from analogvle.model.budget import check_budget
from analogvle.model.spec import Spec
from analogvle.model.toml import load_spec


def add_allow_large(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-large", action="store_true",
                        help="skip the size checks (memory, netlist size, time points)")


def load_checked(args, stages: tuple[str, ...]) -> Spec:
    """The spec of ``args.spec``, checked against the size limits of ``stages``; its warnings on stderr."""
    spec = load_spec(args.spec)
    check_budget(spec, stages, allow=args.allow_large)
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
