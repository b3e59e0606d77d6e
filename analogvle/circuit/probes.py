"""Where a trajectory signal lives in a circuit, and how node voltages map back to model units."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    """One trajectory signal in the circuit.

    ``nodes`` are lower-case node names, row-major over ``shape`` (the per-time-point
    model shape, e.g. ``(n,)`` or ``(n, m)``). The model value is
    ``(V(node) − offset) / scale``: ``scale`` in volts per model unit, ``offset``
    in volts at model zero. ``quantity`` "i" reads the branch current of the
    voltage source named ``node`` instead (ngspice's ``i(name)``; scale in A per unit).
    ``saturation`` (a weight stored as a voltage): the model value is
    ``saturation·tanh((V(node) − offset) / scale)``.
    """

    nodes: tuple[str, ...]
    shape: tuple[int, ...]
    scale: float
    offset: float = 0.0
    quantity: str = "v"
    saturation: float | None = None

    def vectors(self) -> tuple[str, ...]:
        """The simulator vectors this probe reads: ``v(node)`` or ``i(source)``, lower case."""
        return tuple(f"{self.quantity}({n.lower()})" for n in self.nodes)


def probe_nodes(probes: dict[str, Probe]) -> list[str]:
    """Every probed node (voltage probes) once, in probe order."""
    return list(dict.fromkeys(node for probe in probes.values() if probe.quantity == "v" for node in probe.nodes))


def probe_vectors(probes: dict[str, Probe]) -> list[str]:
    """Every simulator vector the probes read (``v(node)``, ``i(source)``) once, in probe order."""
    return list(dict.fromkeys(v for probe in probes.values() for v in probe.vectors()))
