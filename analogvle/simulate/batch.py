"""The ``subprocess`` backend: ``ngspice -b -r out.raw net.cir`` in the netlist's folder, read back from the raw file.

The isolation fallback and the worker of parallel sweeps: every run is its
own process, so nothing is shared. ngspice reads ``.spiceinit`` (the
netlist's init settings) from that folder.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from analogvle.errors import RawFileError, SimulationError
from analogvle.simulate.rawfile import read_raw, read_raw_plots
from analogvle.simulate.shared import INSTALL_HINT, failure_message, is_fatal

_REFERENCE_VALUE = re.compile(r"Reference value\s*:\s*([-+0-9.eE]+)")


def ngspice_executable() -> str:
    exe = shutil.which("ngspice")
    if exe is None:
        raise SimulationError(f"ngspice is not installed (no 'ngspice' on PATH); {INSTALL_HINT}")
    return exe


def run_batch(netlist_path: Path, vectors: list[str], *, stop: float | None = None,
              on_progress: Callable[[float], None] | None = None,
              init: dict[str, str | None] | None = None) -> tuple[dict[str, np.ndarray], list[str], int | None]:
    """Run the transient of ``netlist_path`` (its init file beside it); (vectors in s and V, output lines, version)."""
    exe = ngspice_executable()
    folder = netlist_path.parent
    raw, out, err = folder / "out.raw", folder / "ngspice.out", folder / "ngspice.err"
    with open(out, "wb") as fout, open(err, "wb") as ferr:
        proc = subprocess.Popen([exe, "-b", "-r", raw.name, netlist_path.name], cwd=folder, stdout=fout, stderr=ferr,
                                stdin=subprocess.DEVNULL)
        try:
            while proc.poll() is None:
                time.sleep(0.1)
                if stop and on_progress is not None:
                    values = _REFERENCE_VALUE.findall(err.read_bytes()[-200:].decode("latin-1"))
                    if values:
                        on_progress(float(values[-1]) / stop)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    lines = [part for f in (out, err) for part in re.split(r"[\r\n]+", f.read_bytes().decode("utf-8", "replace"))
             if part]
    if proc.returncode != 0 or is_fatal(lines) or not raw.is_file():
        raise SimulationError(f"ngspice (exit {proc.returncode}): {failure_message(lines)}")
    try:
        plot = read_raw(raw, "Transient Analysis")
    except RawFileError as exc:
        raise SimulationError(f"ngspice wrote no usable transient result ({exc}); {failure_message(lines)}") from exc
    missing = [v for v in vectors if v not in plot]
    if missing:
        raise SimulationError(f"ngspice output has no vector {missing[0]!r} ({len(missing)} probed nodes missing)")
    return {"time": plot["time"], **{v: plot[v] for v in vectors}}, lines, ngspice_version()


def run_analysis(netlist_path: Path, *, timeout: float = 120.0) -> dict[str, np.ndarray]:
    """Run any analysis of ``netlist_path`` in batch mode and return its last plot's vectors (e.g. .ac, .dc)."""
    exe = ngspice_executable()
    folder = netlist_path.parent
    proc = subprocess.run([exe, "-b", "-r", "out.raw", netlist_path.name], cwd=folder, capture_output=True,
                          text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    if proc.returncode != 0 or is_fatal(lines) or not (folder / "out.raw").is_file():
        raise SimulationError(f"ngspice (exit {proc.returncode}): {failure_message(lines)}")
    return read_raw(folder / "out.raw")


def run_analysis_plots(netlist_path: Path, *, timeout: float = 300.0) -> list[dict[str, np.ndarray]]:
    """Like :func:`run_analysis`, but every plot of the run (one per analysis), in the raw file's order."""
    run_analysis(netlist_path, timeout=timeout)
    return [p.vectors for p in read_raw_plots(netlist_path.parent / "out.raw")]


@functools.lru_cache(maxsize=1)
def ngspice_version() -> int | None:
    """Major version of the ``ngspice`` on PATH (None if it does not say)."""
    try:
        text = subprocess.run([ngspice_executable(), "-v"], check=False, capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"ngspice-(\d+)", text)
    return int(match.group(1)) if match else None
