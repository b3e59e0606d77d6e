"""Realizations: how each term of the equations becomes circuit elements.

Every realization shares the network elaboration (:mod:`analogvle.circuit.network`:
synapses, rates, error sums, plasticity); a realization supplies the *filter
cell* that realizes H(s) = (1 + s·τ_num)/(1 + s·τ_den), used by the
representation neuron (τ_num = τr, τ_den = τm: input s, state u, output ŭ)
and by the prospective error neuron (τ_num = τm, τ_den = τr: input p, state
v, output e). A cell takes its input either as a voltage (:class:`VoltageCells`:
the network sums the synapses' currents on a summing node, 1/g_unit to
ground) or as the current flowing into its output node (:class:`CurrentCells`:
the synapses inject straight into ŭ or e, no summing node). Realizations
are registered by name in :data:`analogvle.registry.REALIZATIONS`;
:func:`get_cells` loads one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from analogvle.circuit.ir import Circuit, Comment, Element, Subckt
from analogvle.circuit.nonideal import NonIdeal
from analogvle.errors import NetlistError
from analogvle.model.settings import CircuitSpec
from analogvle.registry import REALIZATIONS


@dataclass(frozen=True)
class Scales:
    """Model units → circuit units: s per time unit, V per unit, S per weight, F per membrane."""

    time_scale: float = 1e-3
    v_scale: float = 1.0
    g_unit: float = 1e-6
    c_unit: float = 1e-9

    @classmethod
    def from_spec(cls, circuit: CircuitSpec) -> Scales:
        return cls(circuit.time_scale, circuit.v_scale, circuit.g_unit, circuit.c_unit)


@dataclass
class Builder:
    """Appends elements and comments to a circuit (or subcircuit) at given scales."""

    target: Circuit | Subckt
    scales: Scales
    cells: FilterCells
    notes: list[str] = field(default_factory=list)  # non-idealities to report
    nonideal: NonIdeal = field(default_factory=NonIdeal)  # the switches of nonideal.py (default: all off)
    shared: dict[str, str] = field(default_factory=dict)  # nodes built once and read by many elements (nonideal.py)

    def add(self, element: Element) -> Element:
        self.target.add(element)
        return element

    def comment(self, text: str) -> None:
        self.target.add(Comment(text))


class VoltageCells(Protocol):
    """A realization's filter cell on a voltage input: out = H(s)·in with H = (1 + s·τ_num)/(1 + s·τ_den)."""

    name: str
    current_input: bool  # False

    def filter_cell(self, b: Builder, *, role: str, tag: str, inp: str, out: str, state: str, tau_num: float,
                    tau_den: float, stiff: bool, owner: str) -> None:
        """Add the cell. ``state`` = in/(1 + s·τ_den) must be a node too; τ in model units.

        ``role`` ('m' membrane, 'v' error) prefixes element names; ``tag``
        (e.g. 'l1_n0') suffixes them; ``stiff`` says ``inp`` is driven by a
        voltage source (else the cell buffers it first).
        """
        ...


class CurrentCells(Protocol):
    """A realization's filter cell on a current input: a current g_unit·in (A) flowing into ``out`` makes
    out = H(s)·in; every element that feeds the neuron injects into ``out`` (no summing node)."""

    name: str
    current_input: bool  # True

    def current_cell(self, b: Builder, *, role: str, tag: str, out: str, state: str, tau_num: float,
                     tau_den: float, owner: str) -> None:
        """Add the cell; ``state`` = in/(1 + s·τ_den) is a node too. Arguments as for :meth:`VoltageCells.filter_cell`."""
        ...


FilterCells = VoltageCells | CurrentCells


def get_cells(realization: str) -> FilterCells:
    """The filter cells of a registered realization; NetlistError naming the choices otherwise."""
    if realization not in REALIZATIONS:
        raise NetlistError(f"unknown realization {realization!r} (expected one of: {', '.join(REALIZATIONS.names())})")
    return REALIZATIONS.load(realization)()
