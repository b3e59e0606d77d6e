"""Where a trajectory signal lives in a circuit, and how node voltages map back to model units."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    """One trajectory signal in the circuit.

    ``nodes`` are lower-case node names, row-major over ``shape`` (the per-time-point
    model shape, e.g. ``(n,)`` or ``(n, m)``). The model value is
    ``(V(node) − offset) / scale``: ``scale`` in volts per model unit, ``offset``
    in volts at model zero.
    """

    nodes: tuple[str, ...]
    shape: tuple[int, ...]
    scale: float
    offset: float = 0.0


def probe_nodes(probes: dict[str, Probe]) -> list[str]:
    """Every probed node once, in probe order."""
    return list(dict.fromkeys(node for probe in probes.values() for node in probe.nodes))
