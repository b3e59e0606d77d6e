"""The netlist generator: spec → circuit (one realization) → ngspice text.

Public contract (other stages import these):

- :class:`Probe`: where a trajectory signal lives in the circuit and how to
  map node voltages back to model units.
- :class:`Netlist`: a complete, runnable ngspice netlist plus its data files,
  probes, scales and transient settings.
- :func:`build_netlist`: spec → :class:`Netlist`.
- :func:`cli_netlist`: the ``analogvle netlist`` command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Probe:
    """Where one trajectory signal lives in the circuit.

    ``nodes`` are lower-case ngspice node names, row-major over ``shape`` (the
    per-time-point model shape, e.g. ``(n,)`` or ``(n, m)``). The model value
    is ``(V(node) - offset) / scale``: ``scale`` in volts per model unit,
    ``offset`` in volts at model zero.
    """

    nodes: tuple[str, ...]
    shape: tuple[int, ...]
    scale: float
    offset: float = 0.0


@dataclass
class Netlist:
    """A complete ngspice netlist for one spec and realization.

    ``text`` runs as it stands (``ngspice -b -r out.raw FILE.cir``) with the
    ``data_files`` (file name → text) beside it. ``time_scale`` is seconds of
    circuit time per model time unit; ``tran`` holds step, stop, max_step
    (seconds), method, reltol, abstol, vntol; ``summary`` holds element counts
    and component value ranges.
    """

    name: str
    text: str
    data_files: dict[str, str] = field(default_factory=dict)
    probes: dict[str, Probe] = field(default_factory=dict)
    time_scale: float = 1e-3
    tran: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    def write(self, path: str | Path) -> Path:
        """Write the netlist to ``path`` and its data files beside it (atomically); returns ``path``."""
        from analogvle.trajectory import write_atomic

        path = Path(path)
        for fname, content in self.data_files.items():
            write_atomic(path.parent / fname, lambda f, c=content: f.write(c.encode("utf-8")))
        write_atomic(path, lambda f: f.write(self.text.encode("utf-8")))
        return path


def build_netlist(spec, realization: str | None = None) -> Netlist:
    """Elaborate ``spec`` into a :class:`Netlist` (realization: 'ideal' | 'passive'; default the spec's)."""
    raise NotImplementedError("netlist generator: in progress (issue 3)")
