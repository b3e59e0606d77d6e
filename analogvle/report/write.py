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

Everything is drawn in a temporary folder beside DIR and moved into place
only when complete: a failed or interrupted run leaves no half report.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from analogvle.compare.metrics import Comparison
from analogvle.errors import CompareError
from analogvle.files import current_umask
from analogvle.report.markdown import format_report
from analogvle.report.metrics_file import metrics_dict
from analogvle.report.plots import plot_group, plot_summary, signal_groups


def write_report(
    result: Comparison,
    directory: str | Path,
    *,
    reference_path: str | Path | None = None,
    circuit_path: str | Path | None = None,
) -> Path:
    """Write metrics.json, report.md and the PNGs into ``directory``; returns it.

    Built in a temporary folder beside ``directory``, then moved into place;
    an existing ``directory`` keeps its other files (a previous report's
    plots are replaced).
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise CompareError(f"{directory}: exists and is not a directory (the report needs a folder)")
    created = [p for p in [directory.parent, *directory.parent.parents] if not p.exists()]
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
    try:
        tmp.chmod(0o777 & ~current_umask())  # mkdtemp makes it private; the report is not
        plots = {"summary": "summary.png"}
        plot_summary(result, tmp / "summary.png")
        for group, names in signal_groups(result).items():
            plots[group] = f"{group}.png"
            plot_group(result, group, names, tmp / plots[group])
        files = [*plots.values(), "report.md", "metrics.json"]
        metrics = metrics_dict(result, reference_path=reference_path, circuit_path=circuit_path, files=files)
        (tmp / "report.md").write_text(format_report(result, plots, metrics), encoding="utf-8")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        _install(tmp, directory, files)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for p in created:  # innermost first
            try:
                p.rmdir()
            except OSError:
                pass
        raise
    return directory


def _install(tmp: Path, directory: Path, files: Sequence[str]) -> None:
    """Move the finished report from ``tmp`` into ``directory`` (metrics.json last)."""
    if not directory.exists():
        os.rename(tmp, directory)
        return
    old = directory / "metrics.json"
    stale: list[str] = []
    if old.is_file():
        try:
            stale = [f for f in json.loads(old.read_text(encoding="utf-8")).get("files", []) if "/" not in f]
        except (ValueError, AttributeError, OSError):
            stale = []
        old.unlink()
    for name in files:
        os.replace(tmp / name, directory / name)
    for name in set(stale) - set(files):
        (directory / name).unlink(missing_ok=True)
    shutil.rmtree(tmp, ignore_errors=True)
