"""The content of a comparison's metrics.json (non-finite numbers become null)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from analogvle.compare.learning import LearningCurve
from analogvle.compare.metrics import Comparison
from analogvle.report.fmt import num


def metrics_dict(
    result: Comparison,
    *,
    reference_path: str | Path | None = None,
    circuit_path: str | Path | None = None,
    files: Sequence[str] = (),
) -> dict:
    """The content of metrics.json (non-finite numbers become null)."""
    signals = {}
    for name, m in result.signals.items():
        signals[name] = {
            "nrmse": num(m.nrmse),
            "max_abs": num(m.max_abs),
            "lag": num(m.lag),
            "lag_steps": num(m.lag / result.step),
            "nrmse_aligned": num(m.nrmse_aligned),
            "pass": m.passed,
            "shape": list(m.shape),
            "scale": num(m.scale),
            "scale_basis": m.scale_basis,
            "components": [
                {"index": list(c.index), "nrmse": num(c.nrmse), "max_abs": num(c.max_abs), "lag": num(c.lag)}
                for c in m.components
            ],
            "notes": m.notes,
        }
    return {
        "pass": result.passed,
        "failures": result.failures,
        "coverage": result.coverage,
        "worst": num(result.worst),
        "worst_signal": result.worst_signal,
        "tolerance": result.tolerance,
        "signals": signals,
        "only_in_reference": result.only_in_reference,
        "only_in_circuit": result.only_in_circuit,
        "unmatched_patterns": result.unmatched_patterns,
        "patterns": result.patterns,
        "time": {"start": float(result.t[0]), "end": float(result.t[-1]), "points": len(result.t), "step": result.step},
        "units": {"nrmse": "1 (RMS difference / reference peak-to-peak)", "max_abs": "model units",
                  "lag": "model time units, > 0: circuit behind reference"},
        "reference": str(reference_path) if reference_path is not None else None,
        "circuit": str(circuit_path) if circuit_path is not None else None,
        "reference_producer": result.reference_meta.get("producer"),
        "circuit_producer": result.circuit_meta.get("producer"),
        "learning_curve": learning_dict(result.learning),
        "notes": result.notes,
        "files": list(files),
    }


def learning_dict(curve: LearningCurve | None) -> dict | None:
    if curve is None:
        return None
    return {
        "definition": "loss = 1/2 beta |target - r_L|^2; each curve is its causal moving average over `window`; "
        "max_rel_dev = max over save points t >= start of |circuit - reference| / reference",
        "window": curve.window,
        "window_basis": curve.window_basis,
        "start": curve.start,
        "max_rel_dev": num(curve.max_rel_dev),
        "t_worst": num(curve.t_worst),
        "loss_ratio_reference": num(curve.loss_ratio_reference),
        "loss_ratio_circuit": num(curve.loss_ratio_circuit),
        "loss_ratio_span": curve.span,
        "units": {"window": "model time units", "start": "model time units", "loss": "model units"},
    }


