"""Run a netlist in ngspice and map node voltages back to model units.

Two backends run the same netlist text (registered in
:data:`analogvle.registry.BACKENDS`): ``shared`` (libngspice in this process,
the default) and ``subprocess`` (``ngspice -b`` in a temporary folder). Both
honour the transient options the netlist carries; nothing here overrides
them. The result is a :class:`~analogvle.model.trajectory.Trajectory` with the
reference's names and units (:mod:`analogvle.simulate.mapping`). Every
failure (ngspice missing, parse error, non-convergence, time step too small,
singular matrix) raises :class:`~analogvle.errors.SimulationError` (exit 3)
with ngspice's own message.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import numpy as np
from tqdm import tqdm

from analogvle.circuit.probes import probe_vectors
from analogvle.errors import SimulationError
from analogvle.model.spec import Spec
from analogvle.model.trajectory import Trajectory, producer_meta
from analogvle.netlist.netlist import Netlist
from analogvle.registry import BACKENDS
from analogvle.simulate.mapping import map_probes
from analogvle.simulate.shared import failure_message
from analogvle.simulate.solver import resolve_solver
from analogvle.simulate.trim import prepare_netlist

PROGRESS_DELAY = 2.0  # s: runs shorter than this show no progress bar


@dataclass
class NgspiceRun:
    """The raw result of one ngspice transient: seconds and volts, as ngspice computed them."""

    backend: str
    vectors: dict[str, np.ndarray]  # "time" and "v(node)" (lower case)
    version: int | None
    wall_time: float  # s
    warnings: list[str] = field(default_factory=list)
    solver: str = "sparse"  # the matrix solver that ran ("klu" or "sparse")


def simulate(spec: Spec, *, backend: str | None = None, realization: str | None = None,
             netlist: Netlist | None = None, progress: bool = True) -> Trajectory:
    """Simulate ``spec``'s circuit; its trajectory in model units on the save_dt grid.

    ``backend``: a registered backend (default: the spec's). ``netlist``: a
    prebuilt :class:`~analogvle.netlist.netlist.Netlist` (default: built from
    the spec with ``realization``). ``progress``: a bar on stderr for runs
    longer than a few seconds.
    """
    start = time.perf_counter()
    backend = backend or spec.simulator.backend
    realization = realization or spec.circuit.realization
    if netlist is None:
        netlist = trimmed_netlist(spec, realization, backend)
    run = run_netlist(netlist, backend, progress=progress)
    t, signals = map_probes(netlist.probes, netlist.time_scale, run.vectors, spec.time.save_times)
    producer = {
        "kind": "circuit",
        "backend": backend,
        "realization": realization,
        "options": netlist.tran,
        "ngspice_version": run.version,
        "solver": run.solver,
        "ngspice_wall_time": run.wall_time,
        "time_scale": netlist.time_scale,
        "circuit_points": len(run.vectors["time"]),
    }
    if run.warnings:
        producer["ngspice_warnings"] = run.warnings
    meta = producer_meta(spec, producer, time.perf_counter() - start)
    return Trajectory(t=t, signals=signals, meta=meta, spec=spec)


def trimmed_netlist(spec: Spec, realization: str, backend: str) -> Netlist:
    """``build_netlist``, plus the offset trims a transistor realization measures first (:mod:`.trim`)."""
    return prepare_netlist(spec, realization, backend, lambda net, b: run_netlist(net, b).vectors)


def run_netlist(netlist: Netlist, backend: str = "shared", *, progress: bool = False) -> NgspiceRun:
    """Run ``netlist``'s transient with ``backend``; time and every probed node voltage."""
    if backend not in BACKENDS:
        raise SimulationError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS.names())}")
    netlist, solver = resolve_solver(netlist, backend)
    vectors = probe_vectors(netlist.probes)
    stop = float(netlist.tran.get("stop", 0.0)) or None
    runner = BACKENDS.load(backend)
    with Progress(progress, f"ngspice {netlist.name}") as bar, tempfile.TemporaryDirectory(prefix="analogvle-") as tmp:
        path = netlist.write(Path(tmp) / f"{_safe(netlist.name)}.cir")
        start = time.perf_counter()
        data, lines, version = runner(path, vectors, stop=stop, on_progress=bar.fraction if progress else None,
                                      init=netlist.circuit.init)
        wall = time.perf_counter() - start
    _check_complete(data["time"], stop, lines)
    warnings = sorted({" ".join(line.split()) for line in lines if line.lstrip().lower().startswith("warning")})
    return NgspiceRun(backend=backend, vectors=data, version=version, wall_time=wall, warnings=warnings[:20],
                      solver=solver)


def _check_complete(t: np.ndarray, stop: float | None, lines: list[str]) -> None:
    if len(t) < 2:
        raise SimulationError(f"ngspice returned {len(t)} time points: {failure_message(lines)}")
    if stop and t[-1] < stop * (1 - 1e-9):
        raise SimulationError(f"ngspice stopped at t = {t[-1]:.6g} s of {stop:.6g} s: {failure_message(lines)}")


class Progress:
    """A tqdm bar (stderr, in percent) that appears only after PROGRESS_DELAY seconds; ``fraction(x)`` moves it."""

    def __init__(self, enabled: bool, desc: str):
        self.enabled = enabled
        self.desc = desc
        self.bar = None

    def __enter__(self) -> Self:
        if self.enabled:
            self.bar = tqdm(total=100.0, desc=self.desc, unit="%", delay=PROGRESS_DELAY, file=sys.stderr, leave=False,
                            mininterval=1.0,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")
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
