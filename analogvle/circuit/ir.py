"""The circuit representation: simulator-neutral data, from which a writer makes a netlist.

Each primitive element kind (resistor, capacitor, controlled sources,
behavioural sources, independent and sampled sources, subcircuit or model
instances) is declared once in :data:`PRIMITIVES`: its ports in order, its
parameters (each with a description and a unit) and the card a SPICE
writer makes of it. Elaboration builds a :class:`Circuit` of
:class:`Element`, :class:`Comment` and :class:`Subckt` items through the
constructors below (the only way elements are made); a writer
(:mod:`analogvle.netlist.ngspice`) is the last pass and only formats.

Nothing here is simulator text: behavioural values are structured
expressions (:mod:`analogvle.model.expr`) whose gains a pass can edit,
analyses (:class:`Tran`, :class:`Ac`, :class:`DcSweep`), options and
simulator init settings are data, model libraries are :class:`Library`
items, and a sampled source carries its samples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from analogvle.model.expr import Expr

# ----------------------------------------------------------------------------
# Primitives: declared once, as data
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter of a primitive: its name, what it means and its unit."""

    name: str
    description: str
    unit: str = ""


@dataclass(frozen=True)
class Primitive:
    """An element kind: name (a writer's ``format_<name>`` formats it), prefix letter, ports, parameters."""

    name: str
    prefix: str
    ports: tuple[str, ...]
    params: tuple[Param, ...]
    card: str  # the SPICE card, for readers
    kind: str  # summary class: R, C, G, E, B, sources, A, X

    @property
    def main_param(self) -> str:
        return self.params[0].name


def _primitive(name, prefix, ports, params, card, kind) -> Primitive:
    return Primitive(name, prefix, tuple(ports), tuple(Param(*p) for p in params), card, kind)


RESISTOR = _primitive("resistor", "R", ("n+", "n-"), [("r", "resistance", "ohm")], "Rxxx n+ n- r", "R")
CAPACITOR = _primitive("capacitor", "C", ("n+", "n-"), [
    ("c", "capacitance", "F"), ("ic", "initial voltage V(n+)-V(n-) (with uic)", "V")], "Cxxx n+ n- c ic=ic", "C")
VCCS = _primitive("vccs", "G", ("n+", "n-", "nc+", "nc-"), [
    ("gm", "transconductance: gm*(V(nc+)-V(nc-)) flows from n+ through the source to n-", "S")],
    "Gxxx n+ n- nc+ nc- gm", "G")
VCVS = _primitive("vcvs", "E", ("n+", "n-", "nc+", "nc-"), [("gain", "V(n+)-V(n-) = gain*(V(nc+)-V(nc-))")],
                  "Exxx n+ n- nc+ nc- gain", "E")
BEHAVIOURAL_V = _primitive("behavioural_voltage", "B", ("n+", "n-"), [
    ("expr", "V(n+)-V(n-) as an expression of node voltages", "V")], "Bxxx n+ n- V=expr", "B")
BEHAVIOURAL_I = _primitive("behavioural_current", "B", ("n+", "n-"), [
    ("expr", "current from n+ through the source to n-, an expression of node voltages", "A")],
    "Bxxx n+ n- I=expr", "B")
VSOURCE = _primitive("vsource", "V", ("n+", "n-"), [("wave", "Dc, Sin or Pwl", "V")], "Vxxx n+ n- wave", "sources")
ISOURCE = _primitive("isource", "I", ("n+", "n-"), [
    ("wave", "Dc, Sin or Pwl; current flows from n+ through the source to n-", "A")], "Ixxx n+ n- wave", "sources")
AC_VSOURCE = _primitive("ac_vsource", "V", ("n+", "n-"), [("mag", "AC magnitude", "V")],
                        "Vxxx n+ n- DC 0 AC mag", "sources")
AC_ISOURCE = _primitive("ac_isource", "I", ("n+", "n-"), [("mag", "AC magnitude; flows from n+ through the source to n-",
                                                                 "A")], "Ixxx n+ n- DC 0 AC mag", "sources")
SAMPLED = _primitive("sampled_source", "A", ("out ...",), [
    ("samples", "Samples: one column per output, against ground", "V")],
    "Axxx %vd([o1 0 o2 0 ...]) model (+ .model filesource and a data file)", "A")
INSTANCE = _primitive("instance", "X", ("ports ...",), [
    ("subckt", "subcircuit or external model name (e.g. a PDK device)"),
    ("params", "instance parameters, e.g. w and l")], "Xxxx ports... subckt [key=value ...]", "X")

PRIMITIVES: dict[str, Primitive] = {p.name: p for p in (RESISTOR, CAPACITOR, VCCS, VCVS, BEHAVIOURAL_V, BEHAVIOURAL_I,
                                                        VSOURCE, ISOURCE, AC_VSOURCE, AC_ISOURCE, SAMPLED,
                                                        INSTANCE)}

# ----------------------------------------------------------------------------
# Values of sources
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dc:
    """A constant value (V or A)."""

    value: float


@dataclass(frozen=True)
class Sin:
    """offset + amplitude·sin(2π·freq·t + phase·π/180) after ``delay``."""

    offset: float
    amplitude: float
    freq: float  # Hz
    delay: float = 0.0  # s
    damping: float = 0.0  # 1/s
    phase: float = 0.0  # degrees


@dataclass(frozen=True)
class Pwl:
    """Linear between corners (s, V); keep it short."""

    points: tuple[tuple[float, float], ...]


Waveform = Dc | Sin | Pwl


@dataclass(frozen=True)
class Samples:
    """Voltages sampled every ``dt`` model time units from 0, linear in between (held past the end).

    ``data`` (T, outputs) in model units; the circuit's voltage is
    ``v_scale``·data, its time ``time_scale``·t. ``file`` names the data file
    a writer may put the samples in.
    """

    data: np.ndarray = field(repr=False)
    dt: float
    v_scale: float
    time_scale: float
    file: str


# ----------------------------------------------------------------------------
# Netlist items
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element: a primitive, its full name (prefix letter first), its nodes and parameter values.

    ``owner`` says where the element belongs (e.g. "network layer 1 neuron 0"),
    for error messages; ``role`` what it does (e.g. "membrane resistor").
    """

    primitive: Primitive
    name: str
    nodes: tuple[str, ...]
    params: dict = field(default_factory=dict)
    owner: str = ""
    role: str = ""

    def __post_init__(self) -> None:
        if not self.name.upper().startswith(self.primitive.prefix):
            raise ValueError(f"element {self.name!r} must start with {self.primitive.prefix!r}")

    @property
    def kind(self) -> str:
        return self.primitive.kind

    @property
    def value(self) -> float | None:
        """The element's main numeric value (R in Ω, C in F, gm in S, gain), if it has one."""
        value = self.params.get(self.primitive.main_param)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def with_params(self, **params) -> Element:
        """A copy with some parameter values replaced."""
        return Element(self.primitive, self.name, self.nodes, {**self.params, **params}, self.owner, self.role)


@dataclass(frozen=True)
class Comment:
    """A comment line; an empty text is a blank line."""

    text: str


@dataclass(frozen=True)
class Model:
    """A device model card: ``.model name type(key=value ...)``."""

    name: str
    type: str
    params: dict


@dataclass(frozen=True)
class Library:
    """A model library to load: ``path`` and, for a corner library, its ``section`` (e.g. ``tt``)."""

    path: str
    section: str = ""


Item = Element | Comment


@dataclass
class Subckt:
    """A subcircuit definition holding its own items; ``params`` are its default parameters."""

    name: str
    ports: tuple[str, ...]
    items: list[Item] = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def add(self, item: Item) -> Item:
        self.items.append(item)
        return item

    def comment(self, text: str) -> None:
        self.items.append(Comment(text))

    def elements(self) -> Iterator[Element]:
        return (i for i in self.items if isinstance(i, Element))


# ----------------------------------------------------------------------------
# Analyses
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tran:
    """A transient analysis: print ``step``, ``stop`` and ``max_step`` in seconds; ``uic`` uses initial conditions."""

    step: float
    stop: float
    max_step: float | None = None
    start: float = 0.0
    uic: bool = True


@dataclass(frozen=True)
class Ac:
    """A small-signal sweep, ``points`` per decade from ``f_start`` to ``f_stop`` (Hz)."""

    points: int
    f_start: float
    f_stop: float


@dataclass(frozen=True)
class DcSweep:
    """A DC sweep of the value of ``source`` (V or A)."""

    source: str
    start: float
    stop: float
    step: float


Analysis = Tran | Ac | DcSweep


@dataclass
class Circuit:
    """A whole netlist as data: title, header, libraries, subcircuits, models, items and control settings.

    ``options`` are simulator options (name → value, or None for a flag),
    ``init`` simulator settings that must hold before the circuit is read
    (name → value, or None for a flag), ``saves`` the nodes to keep, ``notes``
    non-idealities to report. ``ics`` are initial node voltages (``.ic``: held
    while the DC operating point is solved), ``nodesets`` a starting guess for the
    operating point (``.nodeset``, V; names as :meth:`flat_nodes` gives them), ``control`` commands run after the
    circuit is read and before its analyses (a ``.control`` block, e.g. ``alter``). ``solver`` is the matrix solver asked for:
    "klu" or "sparse" (written as a flag option), or "auto" (nothing written;
    the run resolves it against the loaded ngspice, :mod:`analogvle.simulate.solver`).
    """

    title: str
    header: list[str] = field(default_factory=list)
    libraries: list[Library] = field(default_factory=list)
    subckts: list[Subckt] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)
    saves: list[str] = field(default_factory=list)
    analyses: list[Analysis] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    solver: str = "auto"
    ics: dict[str, float] = field(default_factory=dict)
    nodesets: dict[str, float] = field(default_factory=dict)
    control: list[str] = field(default_factory=list)

    def add(self, item: Item) -> Item:
        self.items.append(item)
        return item

    def comment(self, text: str) -> None:
        self.items.append(Comment(text))

    def elements(self) -> Iterator[Element]:
        """Every element, subcircuit contents first (each definition once)."""
        for sub in self.subckts:
            yield from sub.elements()
        yield from (i for i in self.items if isinstance(i, Element))

    @property
    def tran(self) -> Tran | None:
        return next((a for a in self.analyses if isinstance(a, Tran)), None)

    def flat_nodes(self) -> list[str]:
        """Every node of the flattened circuit as the simulator names it (lower case; a subcircuit's internal
        node ``n`` of instance ``x1`` inside ``x2``: ``x2.x1.n``), ground excluded."""
        subckts = {sub.name.lower(): sub for sub in self.subckts}

        def walk(items, prefix: str, ports: frozenset[str]):
            for el in items:
                if not isinstance(el, Element):
                    continue
                yield from (prefix + n.lower() for n in el.nodes if n.lower() not in ports and n != "0")
                sub = subckts.get(str(el.params.get("subckt", "")).lower()) if el.primitive is INSTANCE else None
                if sub is not None:
                    yield from walk(sub.items, f"{prefix}{el.name.lower()}.", frozenset(p.lower() for p in sub.ports))

        return list(dict.fromkeys(walk(self.items, "", frozenset())))


# ----------------------------------------------------------------------------
# Element constructors (the only way elaboration makes elements)
# ----------------------------------------------------------------------------


def resistor(name: str, a: str, b: str, r: float, *, owner: str = "", role: str = "") -> Element:
    """R between ``a`` and ``b``; r in Ω."""
    return Element(RESISTOR, name, (a, b), {"r": float(r)}, owner, role)


def capacitor(name: str, a: str, b: str, c: float, ic: float = 0.0, *, owner: str = "", role: str = "") -> Element:
    """C between ``a`` and ``b``; c in F, initial voltage ic in V (used with ``uic``)."""
    return Element(CAPACITOR, name, (a, b), {"c": float(c), "ic": float(ic)}, owner, role)


def vccs(name: str, into: str, ctrl_p: str, ctrl_n: str, gm: float, *, owner: str = "", role: str = "") -> Element:
    """A current gm·(V(ctrl_p) − V(ctrl_n)) injected into node ``into`` (from ground); gm in S."""
    return Element(VCCS, name, ("0", into, ctrl_p, ctrl_n), {"gm": float(gm)}, owner, role)


def vcvs(name: str, p: str, n: str, ctrl_p: str, ctrl_n: str, gain: float, *, owner: str = "", role: str = "") -> Element:
    """V(p) − V(n) = gain·(V(ctrl_p) − V(ctrl_n))."""
    return Element(VCVS, name, (p, n, ctrl_p, ctrl_n), {"gain": float(gain)}, owner, role)


def bvoltage(name: str, p: str, expr: Expr, *, owner: str = "", role: str = "") -> Element:
    """V(p) = expr (to ground)."""
    return Element(BEHAVIOURAL_V, name, (p, "0"), {"expr": expr}, owner, role)


def bcurrent(name: str, into: str, expr: Expr, *, owner: str = "", role: str = "") -> Element:
    """A current ``expr`` (A) injected into node ``into`` (from ground)."""
    return Element(BEHAVIOURAL_I, name, ("0", into), {"expr": expr}, owner, role)


def vsource(name: str, p: str, n: str, wave: Waveform, *, owner: str = "", role: str = "") -> Element:
    return Element(VSOURCE, name, (p, n), {"wave": wave}, owner, role)


def isource(name: str, into: str, value: float | Waveform, *, source: str = "0", owner: str = "",
            role: str = "") -> Element:
    """A current ``value`` (A; a number or a waveform) injected into node ``into`` from ``source`` (default ground)."""
    wave = value if isinstance(value, (Dc, Sin, Pwl)) else Dc(float(value))
    return Element(ISOURCE, name, (source, into), {"wave": wave}, owner, role)


def ac_vsource(name: str, p: str, mag: float = 1.0, *, owner: str = "", role: str = "") -> Element:
    return Element(AC_VSOURCE, name, (p, "0"), {"mag": float(mag)}, owner, role)


def ac_isource(name: str, into: str, mag: float = 1.0, *, owner: str = "", role: str = "") -> Element:
    """A small-signal current of magnitude ``mag`` (A) injected into node ``into`` (DC 0)."""
    return Element(AC_ISOURCE, name, ("0", into), {"mag": float(mag)}, owner, role)


def sampled_source(name: str, outputs: tuple[str, ...], samples: Samples, *, owner: str = "",
                   role: str = "") -> Element:
    """Voltages on ``outputs`` (each against ground) played from ``samples``."""
    return Element(SAMPLED, name, tuple(outputs), {"samples": samples}, owner, role)


def instance(name: str, ports: tuple[str, ...], subckt: str, *, params: dict | None = None, owner: str = "",
             role: str = "") -> Element:
    """An instance of a subcircuit or of an external model (e.g. ``sky130_fd_pr__nfet_01v8``, w=4, l=1)."""
    return Element(INSTANCE, name, tuple(ports), {"subckt": subckt, "params": dict(params or {})}, owner, role)
