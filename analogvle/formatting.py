"""Numbers as text: exact and short, for netlists, comments and reports."""

from __future__ import annotations

import math


def format_number(x: float) -> str:
    """The shortest text that reads back to the same double.

    Candidates are Python's ``repr`` (shortest round-trip digits), the integer
    form and the shortest round-tripping exponent form (``1e6``, ``2.5e-8``).
    """
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"cannot write a non-finite number into a netlist: {x}")
    if x == 0.0:
        return "0"
    text = repr(x)
    candidates = [text]
    if x == int(x):
        candidates.append(str(int(x)))
    # repr holds the fewest significant digits that round-trip; the exponent form needs as many
    significant = text.lstrip("-").split("e")[0].replace(".", "").strip("0") or "0"
    mantissa, exponent = f"{x:.{len(significant) - 1}e}".split("e")
    exp_form = f"{mantissa}e{int(exponent)}"
    if float(exp_form) == x:
        candidates.append(exp_form)
    return min(candidates, key=len)
