"""The comparison report: DIR/metrics.json, DIR/report.md and PNG plots, installed in one step.

Files of one report:

- ``metrics.json``: per signal ``nrmse``, ``max_abs``, ``lag`` (model time
  units, > 0: circuit behind the reference), ``nrmse_aligned`` and
  per-component detail; overall ``pass``, ``worst`` (the largest nrmse) and
  ``worst_signal``; the signals present in one file only; the files written;
  ``learning_curve`` when the loss was compared
  (:class:`~analogvle.compare.learning.LearningCurve`).
- ``report.md``: the same as tables a person reads, with the plots inline.
- ``summary.png``: nrmse per signal against the tolerance, and the lags.
- ``layer{l}.png`` (and ``other.png`` for signals outside layers): one row
  per signal kind, circuit (solid) over reference (dashed) for the whole run
  and zoomed on its end, beside their difference.

Everything is drawn in a temporary folder beside DIR and installed only when
complete (:func:`analogvle.files.staged_folder`): a failed or interrupted run
leaves no half report, and files in DIR that analogvle did not write stay.
"""

from __future__ import annotations

import json
from pathlib import Path

from analogvle.compare.metrics import Comparison
from analogvle.files import staged_folder
from analogvle.report.markdown import format_report
from analogvle.report.metrics_file import metrics_dict
from analogvle.report.plots import plot_group, plot_summary, signal_groups


def write_report(result: Comparison, directory: str | Path, *, reference_path: str | Path | None = None,
                 circuit_path: str | Path | None = None) -> Path:
    """Write the report into ``directory``, staged and installed in one step; returns ``directory``.

    An existing ``directory`` keeps files analogvle did not write; an earlier report's files are replaced.
    """
    directory = Path(directory)
    with staged_folder(directory) as stage:
        write_report_files(result, stage, reference_path=reference_path, circuit_path=circuit_path)
    return directory


def write_report_files(result: Comparison, folder: Path, *, reference_path: str | Path | None = None,
                       circuit_path: str | Path | None = None) -> list[str]:
    """metrics.json, report.md and the PNGs into ``folder`` (a stage); returns the file names."""
    plots = {"summary": "summary.png"}
    plot_summary(result, folder / "summary.png")
    for group, names in signal_groups(result).items():
        plots[group] = f"{group}.png"
        plot_group(result, group, names, folder / plots[group])
    files = [*plots.values(), "report.md", "metrics.json"]
    metrics = metrics_dict(result, reference_path=reference_path, circuit_path=circuit_path, files=files)
    (folder / "report.md").write_text(format_report(result, plots, metrics), encoding="utf-8")
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return files
