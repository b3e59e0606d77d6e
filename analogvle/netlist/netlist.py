"""A netlist: a circuit, its ngspice text and data files, and where each trajectory signal is.

:func:`build_netlist` is spec → circuit (:mod:`analogvle.circuit.build`) →
text (:class:`~analogvle.netlist.ngspice.NgspiceWriter`); the
:class:`Netlist` keeps the circuit it was written from.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from analogvle.circuit.benches import Bench
from analogvle.circuit.build import build_circuit
from analogvle.circuit.ir import Circuit
from analogvle.circuit.probes import Probe
from analogvle.files import write_text_atomic
from analogvle.model.spec import Spec
from analogvle.netlist.ngspice import NgspiceWriter

INIT_FILE = ".spiceinit"  # ngspice reads it from the working directory before the netlist


@dataclass
class Netlist:
    """A complete ngspice netlist: ``ngspice -b -r out.raw FILE.cir`` runs it with ``data_files`` beside it.

    ``time_scale`` is seconds of circuit time per model time unit; ``summary``
    holds element counts and component value ranges; ``init`` the settings
    ngspice needs before it reads the netlist (written as ``.spiceinit``).
    """

    name: str
    circuit: Circuit
    text: str
    data_files: dict[str, str] = field(default_factory=dict)
    probes: dict[str, Probe] = field(default_factory=dict)
    time_scale: float = 1e-3
    summary: dict = field(default_factory=dict)
    init: str = ""

    @property
    def tran(self) -> dict:
        """The transient's settings as written: step, stop, max_step (s) and the options."""
        tran = self.circuit.tran
        out = {"step": tran.step, "stop": tran.stop, "max_step": tran.max_step} if tran else {}
        return {**out, **self.circuit.options}

    def files(self) -> dict[str, str]:
        """Every file of the netlist beside the .cir: data files and, if needed, the init file."""
        return {**self.data_files, **({INIT_FILE: self.init} if self.init else {})}

    def write(self, path: str | Path) -> Path:
        """Write the netlist to ``path`` and its files beside it (each atomically); returns ``path``."""
        path = Path(path)
        for fname, content in self.files().items():
            write_text_atomic(path.parent / fname, content)
        return write_text_atomic(path, self.text)


def write_circuit(name: str, circuit: Circuit, probes: dict[str, Probe], time_scale: float, summary: dict,
                  writer: NgspiceWriter | None = None) -> Netlist:
    """The :class:`Netlist` of an elaborated circuit."""
    writer = writer or NgspiceWriter()
    return Netlist(name=name, circuit=circuit, text=writer.format_circuit(circuit),
                   data_files=writer.format_data_files(circuit), probes=probes, time_scale=time_scale,
                   summary=summary, init=writer.format_init(circuit))


def build_netlist(spec: Spec, realization: str | None = None, *, writer: NgspiceWriter | None = None,
                  trims: dict[str, float] | None = None, calibrating: bool = False) -> Netlist:
    """Elaborate ``spec`` into a runnable :class:`Netlist` (``realization`` default: the spec's).

    Raises :class:`~analogvle.errors.NetlistError` when the realization cannot build the spec
    or a component leaves its physical range.
    """
    built = build_circuit(spec, realization, trims=trims, calibrating=calibrating)
    return write_circuit(spec.name, built.circuit, built.probes, built.time_scale, built.summary, writer)


#: the probe :func:`with_nodesets` adds: every node of the flattened circuit, in volts
ALL_NODES = "operating_point/nodes"


def with_nodesets(netlist: Netlist, volts: dict[str, float], read_back: bool = True,
                  writer: NgspiceWriter | None = None) -> Netlist:
    """``netlist`` with ``volts`` (node → V; its own nodes only) as the operating point's starting guess
    (``.nodeset``), and with ``read_back`` the probe ``ALL_NODES`` that reads every node for the next guess."""
    nodes, saves, probes = netlist.circuit.flat_nodes(), netlist.circuit.saves, netlist.probes
    if read_back:
        saves = list(dict.fromkeys([*saves, *nodes])) if saves else saves  # no .save at all: ngspice keeps every node
        probes = {**probes, ALL_NODES: Probe(tuple(nodes), (len(nodes),), 1.0)}
    known = set(nodes)
    circuit = replace(netlist.circuit, nodesets={n: v for n, v in volts.items() if n in known}, saves=saves)
    return write_circuit(netlist.name, circuit, probes, netlist.time_scale, netlist.summary, writer)


def bench_netlist(bench: Bench, writer: NgspiceWriter | None = None) -> Netlist:
    """The :class:`Netlist` of a test bench (:mod:`analogvle.circuit.benches`)."""
    return write_circuit(bench.name, bench.circuit, bench.probes, bench.time_scale, dict(bench.expected), writer)
