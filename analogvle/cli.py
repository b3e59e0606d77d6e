"""The ``analogvle`` command line (also ``python -m analogvle``).

Each subcommand is a thin wrapper around a function of the module that owns
the stage; this file only parses options and maps domain errors to exit
codes: 0 success, 1 outside tolerance, 2 bad input, 3 simulator failure.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from analogvle.errors import AnalogvleError

# subcommand -> (module, function taking the parsed args and returning an exit code)
HANDLERS = {
    "reference": ("analogvle.reference", "cli_reference"),
    "netlist": ("analogvle.netlist", "cli_netlist"),
    "simulate": ("analogvle.simulate", "cli_simulate"),
    "compare": ("analogvle.compare", "cli_compare"),
    "run": ("analogvle.pipeline", "cli_run"),
    "demo": ("analogvle.pipeline", "cli_demo"),
    "gradients": ("analogvle.gradients", "cli_gradients"),
    "sweep": ("analogvle.sweep", "cli_sweep"),
}


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (not the usage block) on bad options."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="analogvle", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"analogvle {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("reference", help="integrate the ideal model (NumPy) and write a trajectory file")
    p.add_argument("spec")
    p.add_argument("-o", "--output", required=True, help="trajectory file (.npz)")
    p.add_argument("--method", default="adaptive", choices=["rk4", "adaptive", "gle-euler"])
    p.add_argument("--plot", metavar="PNG", help="also write a plot of output, target and weights")

    p = sub.add_parser("netlist", help="generate the ngspice netlist of the spec's circuit")
    p.add_argument("spec")
    p.add_argument("-o", "--output", required=True, help="netlist file (.cir)")
    p.add_argument("--realization", choices=["ideal", "passive"], default=None,
                   help="default: the spec's [circuit] realization")

    p = sub.add_parser("simulate", help="run the circuit in ngspice and write a trajectory file")
    p.add_argument("spec")
    p.add_argument("-o", "--output", required=True, help="trajectory file (.npz)")
    p.add_argument("--backend", choices=["shared", "subprocess"], default=None,
                   help="default: the spec's [simulator] backend")
    p.add_argument("--realization", choices=["ideal", "passive"], default=None)

    p = sub.add_parser("compare", help="compare two trajectory files and write a report")
    p.add_argument("reference")
    p.add_argument("circuit")
    p.add_argument("--signals", nargs="+", default=None, metavar="GLOB")
    p.add_argument("--tolerance", default=None, help="worst nrmse allowed (default 1e-3)")
    p.add_argument("--report", required=True, metavar="DIR")

    p = sub.add_parser("run", help="reference, netlist, simulation and comparison in one")
    p.add_argument("spec")
    p.add_argument("--out", default=None, metavar="DIR", help="default sims/out/<name>/")
    p.add_argument("--realization", choices=["ideal", "passive"], default=None)
    p.add_argument("--backend", choices=["shared", "subprocess"], default=None)

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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module, function = HANDLERS[args.command]
    try:
        handler = getattr(importlib.import_module(module), function)
        return int(handler(args) or 0)
    except AnalogvleError as exc:
        print(f"analogvle {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # an output path that cannot be written (a directory, no permission, disk full)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"analogvle {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"analogvle {args.command}: interrupted", file=sys.stderr)
        return 130


def _version() -> str:
    from analogvle import __version__

    return __version__
