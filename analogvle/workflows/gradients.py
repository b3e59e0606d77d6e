"""The gradients job: the exact adjoint against the local (GLE) estimate, as JSON and, optionally, a plot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from analogvle.files import write_text_atomic
from analogvle.integrate.adjoint import Gradients, alignment_versus_ratio, compute_gradients
from analogvle.model.spec import Spec
from analogvle.report.alignment import plot_alignment

ALIGNMENT_RATIOS = np.geomspace(0.05, 1.0, 7)  # τr/τm of the alignment plot


def write_gradients(spec: Spec, path: str | Path) -> Gradients:
    """Compute the gradients of ``spec`` and write them as JSON (INTERFACES.md, "Gradients file")."""
    g = compute_gradients(spec)
    write_text_atomic(path, json.dumps(g.as_dict(), indent=1, allow_nan=False))
    return g


def write_alignment_plot(spec: Spec, path: str | Path) -> Path:
    """Local vs exact gradient when every student neuron has τr = ratio·τm, over ALIGNMENT_RATIOS."""
    curves = alignment_versus_ratio(spec, ALIGNMENT_RATIOS)
    return plot_alignment(curves, path, title=f"{spec.name}: local (GLE) vs exact gradient")

