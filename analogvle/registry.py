"""Registries of the interchangeable pieces: integration methods, circuit realizations, simulator backends.

Each registry is one table of names, a one-line summary and where the
implementation lives (``module:attribute``). The spec validator and the
command line read the names from here; the workflows load implementations
through :meth:`Registry.load`, so adding a realization is one entry here and
one module, with no if-chains to keep in sync. Implementations live in later
stages and are imported only when loaded.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One registered piece: its name, what it is, where it lives and its traits."""

    name: str
    summary: str
    target: str  # "package.module:attribute"
    traits: frozenset[str] = frozenset()


class Registry:
    """An ordered table of :class:`Entry` by name."""

    def __init__(self, kind: str, entries: Iterable[Entry]):
        self.kind = kind
        self._entries = {e.name: e for e in entries}

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self):
        return iter(self._entries.values())

    def entry(self, name: str) -> Entry:
        """The entry called ``name``; KeyError naming the choices otherwise."""
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r} (expected one of: {', '.join(self._entries)})") from None

    def has(self, name: str, trait: str) -> bool:
        return trait in self.entry(name).traits

    def load(self, name: str):
        """The implementation registered under ``name`` (imported on first use)."""
        module, _, attribute = self.entry(name).target.partition(":")
        return getattr(importlib.import_module(module), attribute)


METHODS = Registry("method", [
    Entry("adaptive", "scipy DOP853 (rtol 1e-10): the ground truth every circuit is compared with",
          "analogvle.integrate.solvers:integrate_adaptive"),
    Entry("rk4", "classic fixed-step Runge-Kutta at dt (4th order)",
          "analogvle.integrate.solvers:integrate_rk4", frozenset({"fixed_step"})),
    Entry("gle-euler", "the discrete semantics of the public GLE code (explicit Euler, one-step delays)",
          "analogvle.integrate.gle_euler:integrate_gle_euler", frozenset({"fixed_step"})),
])

REALIZATIONS = Registry("realization", [
    Entry("ideal", "a Norton lead-lag cell per filter (R, C, two VCCS) fed by the synapse currents",
          "analogvle.circuit.cells.ideal:IdealCells"),
    Entry("passive", "RC lag/lead networks plus a buffer and a gain stage",
          "analogvle.circuit.cells.passive:PassiveCells"),
    Entry("sky130", "SkyWater 130 nm transistors (sky130_fd_pr nfet/pfet, MIM capacitors), VDD 1.8 V; forward path",
          "analogvle.circuit.cells.sky130:Sky130Cells", frozenset({"transistor", "trim"})),
])

BACKENDS = Registry("backend", [
    Entry("shared", "libngspice in this process (PySpice)", "analogvle.simulate.shared:run_shared"),
    Entry("subprocess", "ngspice -b in a temporary folder, results read from its raw file",
          "analogvle.simulate.batch:run_batch"),
])
