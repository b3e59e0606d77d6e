"""report.md: the comparison as tables a person reads, with the plots inline."""

from __future__ import annotations

from collections.abc import Mapping

from analogvle.compare.metrics import Comparison
from analogvle.report.fmt import fmt, producer_text, shape_text
from analogvle.report.plots import signal_groups


def format_report(result: Comparison, plots: Mapping[str, str], metrics: Mapping) -> str:
    """report.md: verdict, inputs, the metrics table, one-file-only signals, plots."""
    verdict = "PASS" if result.passed else "FAIL"
    relation = "within" if result.worst <= result.tolerance else "outside"
    lines = [
        "# Circuit vs reference",
        "",
        (f"**{verdict}**: worst nrmse {fmt(result.worst)} ({result.worst_signal}), {relation} the tolerance "
        f"{result.tolerance:.3g}."),
        *(f"**FAIL**: {reason}." for reason in result.failures),
        "",
        f"- reference: `{metrics['reference']}` ({producer_text(result.reference_meta)})",
        f"- circuit: `{metrics['circuit']}` ({producer_text(result.circuit_meta)})",
        (f"- compared over t = {result.t[0]:g} … {result.t[-1]:g} model time units, {len(result.t)} points, "
        f"step {result.step:.4g}"),
        ("- nrmse = RMS(circuit − reference) / peak-to-peak(reference); lag > 0: the circuit runs behind the "
        "reference, circuit(t) ≈ reference(t − lag)"),
        "",
        f"![summary]({plots['summary']})",
        "",
        ("| signal | shape | nrmse | max abs [model units] | lag [model time units] | lag [steps] "
        "| nrmse after lag | result |"),
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, m in result.signals.items():
        lines.append(
            f"| {name} | {shape_text(m.shape)} | {fmt(m.nrmse)} | {fmt(m.max_abs)} | {fmt(m.lag)} "
            f"| {fmt(m.lag / result.step, '.2f')} | {fmt(m.nrmse_aligned)} | {'pass' if m.passed else '**FAIL**'} |"
        )
    if result.learning is not None:
        c = result.learning
        lines += [
            "",
            "## Learning curve",
            "",
            (f"The loss ½ β ‖target − r_L‖² (the `loss` row above), averaged over the last {c.window:.4g} model "
             f"time units (one period of {c.window_basis}) at every save point:"),
            "",
            "| quantity | value |",
            "|---|---:|",
            (f"| largest \\|circuit − reference\\| / reference, t ≥ {c.start:g} | {fmt(100 * c.max_rel_dev)} % "
             f"(t = {fmt(c.t_worst, '.5g')}) |"),
            (f"| loss ratio, reference (mean over [{c.start:g}, {c.start + c.span:g}) / last {c.span:g}) "
             f"| {fmt(c.loss_ratio_reference)} |"),
            f"| loss ratio, circuit | {fmt(c.loss_ratio_circuit)} |",
        ]
    lines += ["", "## Signals in one file only", ""]
    lines.append(f"- only in the reference: {', '.join(result.only_in_reference) or 'none'}")
    lines.append(f"- only in the circuit: {', '.join(result.only_in_circuit) or 'none'}")
    notes = result.notes + [f"{name}: {note}" for name, m in result.signals.items() for note in m.notes]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    for group, names in signal_groups(result).items():
        lines += ["", f"## {group}", "", f"[![{group}]({plots[group]})]({plots[group]})", ""]
        multi = [n for n in names if len(result.signals[n].components) > 1]
        if multi:
            lines += ["| component | nrmse | max abs | lag |", "|---|---:|---:|---:|"]
            for name in multi:
                for c in result.signals[name].components:
                    lines.append(f"| {name}{c.label} | {fmt(c.nrmse)} | {fmt(c.max_abs)} | {fmt(c.lag)} |")
    return "\n".join(lines) + "\n"
