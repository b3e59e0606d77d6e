"""Commands about hardware realizations: ``characterize`` (each transistor cell against its ideal form)."""

from __future__ import annotations

import argparse
import sys

from analogvle.files import check_output_dir
from analogvle.registry import REALIZATIONS
from analogvle.workflows.characterize import characterize


def add_commands(sub: argparse._SubParsersAction) -> dict:
    """Add this module's sub-commands to ``sub``; returns command name → handler."""
    transistor = [e.name for e in REALIZATIONS if "transistor" in e.traits]
    p = sub.add_parser("characterize", help="every transistor cell against its ideal form (cells.json and plots)")
    p.add_argument("--realization", choices=transistor, default=transistor[0])
    p.add_argument("--report", required=True, metavar="DIR", help="writes DIR/cells.json and DIR/cell_*.png")
    return {"characterize": cli_characterize}


def cli_characterize(args) -> int:
    """Exit 0 when every cell is within its limit, 1 when one is not."""
    check_output_dir(args.report)
    data = characterize(args.report, realization=args.realization,
                        progress=lambda message: print(message, file=sys.stderr, flush=True))
    width = max(len(k) for k in data["targets"])
    for key, t in data["targets"].items():
        print(f"{'PASS' if t['pass'] else 'FAIL'}  {key:<{width}}  {t['value']:.4g} {t['unit']} (limit {t['limit']:g})")
    m = data["mapping"]
    print(f"mapping: VU = {1e3 * m['VU']:.2f} mV per unit, I0 = {1e9 * m['I0']:.3f} nA, "
          f"1 time unit = {1e6 * m['T_unit_s']:.0f} us (C = {1e12 * m['C_membrane']:.2f} pF)")
    print(f"wrote {args.report}/cells.json and plots ({data['total_wall_s']:.0f} s)")
    return 0 if data["passed"] else 1
