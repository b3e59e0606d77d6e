"""Run a generated netlist in ngspice and map node voltages back to model units.

Two backends run the same netlist text:

- ``shared`` (default): libngspice in this process (:mod:`analogvle.ngspice_shared`).
- ``subprocess``: ``ngspice -b -r out.raw net.cir`` in a temporary folder,
  read back with :mod:`analogvle.rawfile`; the isolation fallback and the
  worker for parallel sweeps.

Both honour the transient options the netlist carries (``.options`` and
``.tran``, written from ``[simulator]``); nothing here overrides them. The
result is a :class:`~analogvle.trajectory.Trajectory` with the reference's
names and units: time ``t_circuit / time_scale`` (model time units), each
probe ``(V(node) - offset) / scale`` (model units), linearly resampled onto
``spec.time.save_times``. Every failure (ngspice missing, parse error,
non-convergence, time step too small, singular matrix) raises
:class:`~analogvle.errors.SimulationError` (exit 3) with ngspice's own message.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import numpy as np

from analogvle.errors import SimulationError
from analogvle.ngspice_shared import INSTALL_HINT, failure_message, get_shared, is_fatal
from analogvle.rawfile import RawFileError, read_raw
from analogvle.spec import BACKENDS, Spec
from analogvle.trajectory import Trajectory, producer_meta, save_trajectory

START_GAP = 0.05  # largest first-point delay bridged by extrapolation, in save_dt steps
PROGRESS_DELAY = 2.0  # s: runs shorter than this show no progress bar
_REFERENCE_VALUE = re.compile(r"Reference value\s*:\s*([-+0-9.eE]+)")


@dataclass
class NgspiceRun:
    """The raw result of one ngspice transient: seconds and volts, as ngspice computed them."""

    backend: str
    vectors: dict[str, np.ndarray]  # "time" and "v(node)" (lower case)
    version: int | None
    wall_time: float  # s
    warnings: list[str] = field(default_factory=list)


def simulate(
    spec: Spec,
    *,
    backend: str | None = None,
    realization: str | None = None,
    netlist=None,
    progress: bool = True,
) -> Trajectory:
    """Simulate ``spec``'s circuit and return its trajectory in model units on the save_dt grid.

    ``backend``: "shared" | "subprocess" (default: the spec's). ``netlist``: a
    prebuilt :class:`~analogvle.netlist.Netlist` (default: built from the spec
    with ``realization``). ``progress``: a tqdm bar on stderr for runs longer
    than a few seconds.
    """
    start = time.perf_counter()
    backend = backend or spec.simulator.backend
    if backend not in BACKENDS:
        raise SimulationError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    realization = realization or spec.circuit.realization
    if netlist is None:
        from analogvle.netlist import build_netlist

        netlist = build_netlist(spec, realization)
    run = run_netlist(netlist, backend, progress=progress)
    t, signals = map_probes(netlist, run.vectors, spec.time.save_times)
    producer = {
        "kind": "circuit",
        "backend": backend,
        "realization": realization,
        "options": dict(netlist.tran),
        "ngspice_version": run.version,
        "ngspice_wall_time": run.wall_time,
        "time_scale": netlist.time_scale,
        "circuit_points": len(run.vectors["time"]),
    }
    if run.warnings:
        producer["ngspice_warnings"] = run.warnings
    meta = producer_meta(spec, producer, time.perf_counter() - start)
    return Trajectory(t=t, signals=signals, meta=meta)


def cli_simulate(args) -> int:
    """``analogvle simulate SPEC -o FILE.npz [--backend] [--realization]``."""
    from analogvle.spec import load_spec

    spec = load_spec(args.spec)
    traj = simulate(spec, backend=args.backend, realization=args.realization)
    path = save_trajectory(args.output, traj)
    producer = traj.meta["producer"]
    print(
        f"wrote {path}: {len(traj.t)} points × {len(traj.signals)} signals "
        f"(ngspice {producer['ngspice_version']}, {producer['backend']} backend, {traj.meta['wall_time']:.2f} s)"
    )
    return 0


# ----------------------------------------------------------------------------
# Running a netlist
# ----------------------------------------------------------------------------


def run_netlist(netlist, backend: str = "shared", *, progress: bool = False) -> NgspiceRun:
    """Run ``netlist`` (a :class:`~analogvle.netlist.Netlist`) and return time and every probed node voltage."""
    vectors = probe_vectors(netlist)
    stop = float(netlist.tran.get("stop", 0.0)) or None
    with _Progress(progress, netlist.name) as bar, tempfile.TemporaryDirectory(prefix="analogvle-") as tmp:
        path = netlist.write(Path(tmp) / f"{_safe(netlist.name)}.cir")
        start = time.perf_counter()
        if backend == "shared":
            ng = get_shared()
            data, lines = ng.run(path, vectors, on_progress=bar.fraction)
            version = ng.version
        elif backend == "subprocess":
            data, lines = _run_subprocess(path, vectors, stop, bar)
            version = ngspice_version()
        else:
            raise SimulationError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
        wall = time.perf_counter() - start
    _check_complete(data["time"], stop, lines)
    warnings = sorted({" ".join(line.split()) for line in lines if line.lstrip().lower().startswith("warning")})
    return NgspiceRun(backend=backend, vectors=data, version=version, wall_time=wall, warnings=warnings[:20])


def probe_vectors(netlist) -> list[str]:
    """The ``v(node)`` names every probe needs, each once, in probe order."""
    seen: dict[str, None] = {}
    for probe in netlist.probes.values():
        for node in probe.nodes:
            seen[f"v({node.lower()})"] = None
    return list(seen)


def _run_subprocess(path: Path, vectors: list[str], stop: float | None, bar: _Progress):
    exe = shutil.which("ngspice")
    if exe is None:
        raise SimulationError(f"ngspice is not installed (no 'ngspice' on PATH); {INSTALL_HINT}")
    folder = path.parent
    raw, out, err = folder / "out.raw", folder / "ngspice.out", folder / "ngspice.err"
    with open(out, "wb") as fout, open(err, "wb") as ferr:
        proc = subprocess.Popen(
            [exe, "-b", "-r", raw.name, path.name], cwd=folder, stdout=fout, stderr=ferr, stdin=subprocess.DEVNULL
        )
        try:
            while proc.poll() is None:
                time.sleep(0.1)
                if stop and bar.active:
                    values = _REFERENCE_VALUE.findall(err.read_bytes()[-200:].decode("latin-1"))
                    if values:
                        bar.fraction(float(values[-1]) / stop)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    lines = [
        part for f in (out, err) for part in re.split(r"[\r\n]+", f.read_bytes().decode("utf-8", "replace")) if part
    ]
    if proc.returncode != 0 or is_fatal(lines) or not raw.is_file():
        raise SimulationError(f"ngspice (exit {proc.returncode}): {failure_message(lines)}")
    try:
        plot = read_raw(raw, "Transient Analysis")
    except RawFileError as exc:
        raise SimulationError(f"ngspice wrote no usable transient result ({exc}); {failure_message(lines)}") from exc
    missing = [v for v in vectors if v not in plot]
    if missing:
        raise SimulationError(f"ngspice output has no vector {missing[0]!r} ({len(missing)} probed nodes missing)")
    return {"time": plot["time"], **{v: plot[v] for v in vectors}}, lines


@functools.lru_cache(maxsize=1)
def ngspice_version() -> int | None:
    """Major version of the ``ngspice`` on PATH (None if it does not say)."""
    exe = shutil.which("ngspice")
    if exe is None:
        raise SimulationError(f"ngspice is not installed (no 'ngspice' on PATH); {INSTALL_HINT}")
    try:
        text = subprocess.run(
            [exe, "-v"], check=False, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"ngspice-(\d+)", text)
    return int(match.group(1)) if match else None


def _check_complete(t: np.ndarray, stop: float | None, lines: list[str]) -> None:
    if len(t) < 2:
        raise SimulationError(f"ngspice returned {len(t)} time points: {failure_message(lines)}")
    if stop and t[-1] < stop * (1 - 1e-9):
        raise SimulationError(f"ngspice stopped at t = {t[-1]:.6g} s of {stop:.6g} s: {failure_message(lines)}")


# ----------------------------------------------------------------------------
# Mapping back to model units
# ----------------------------------------------------------------------------


def map_probes(netlist, vectors: dict[str, np.ndarray], save_times: np.ndarray) -> tuple[np.ndarray, dict]:
    """Model-unit signals on ``save_times`` (model time units) from ngspice's seconds and volts.

    Time is ``t / netlist.time_scale``; each probe is ``(V - offset) / scale``,
    linearly interpolated onto ``save_times`` and shaped ``(T, *probe.shape)``.
    """
    t_model = np.asarray(vectors["time"], dtype=float).real / netlist.time_scale
    save_times = np.asarray(save_times, dtype=float)
    span = save_times[-1] - save_times[0]
    step = save_times[1] - save_times[0] if len(save_times) > 1 else span
    # With `uic` ngspice does not write the t = 0 point: its first point is the first
    # (tiny) step. Up to START_GAP save steps are bridged by linear extrapolation.
    if t_model[0] - save_times[0] > START_GAP * step or t_model[-1] < save_times[-1] - 1e-9 * span:
        raise SimulationError(
            f"circuit time covers {t_model[0]:.6g}..{t_model[-1]:.6g} model time units, "
            f"the save grid needs {save_times[0]:.6g}..{save_times[-1]:.6g} (netlist .tran stop too short?)"
        )
    signals = {}
    for name, probe in netlist.probes.items():
        columns = [
            (np.asarray(vectors[f"v({node.lower()})"]).real - probe.offset) / probe.scale for node in probe.nodes
        ]
        if int(np.prod(probe.shape)) != len(columns):
            raise SimulationError(f"probe {name!r}: {len(columns)} nodes do not fill shape {probe.shape}")
        resampled = np.stack([_interp(save_times, t_model, col) for col in columns], axis=1)
        signals[name] = resampled.reshape((len(save_times), *probe.shape))
    return save_times.copy(), signals


def _interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """np.interp, but linear extrapolation (from the first two points) before ``xp[0]``."""
    y = np.interp(x, xp, fp)
    before = x < xp[0]
    if before.any() and len(xp) > 1 and xp[1] > xp[0]:
        slope = (fp[1] - fp[0]) / (xp[1] - xp[0])
        y[before] = fp[0] + slope * (x[before] - xp[0])
    return y


# ----------------------------------------------------------------------------
# Progress
# ----------------------------------------------------------------------------


class _Progress:
    """A tqdm bar (stderr, in percent of the transient) that appears only after PROGRESS_DELAY seconds."""

    def __init__(self, enabled: bool, name: str):
        self.enabled = enabled
        self.name = name
        self.bar = None

    @property
    def active(self) -> bool:
        return self.bar is not None

    def __enter__(self) -> Self:
        if self.enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=100.0,
                desc=f"ngspice {self.name}",
                unit="%",
                delay=PROGRESS_DELAY,
                file=sys.stderr,
                leave=False,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
            )
        return self

    def fraction(self, value: float) -> None:
        if self.bar is not None:
            new = min(100.0, max(0.0, 100.0 * value))
            if new > self.bar.n:
                self.bar.update(new - self.bar.n)  # update() honours the display delay; refresh() would not

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "circuit"
