"""A small circuit representation and its one ngspice writer.

Circuits are data: each primitive element (R, C, G, E, B, V, I, A, X) is
declared once in :data:`PRIMITIVES` with its SPICE prefix, its ports in order,
its parameters (each with a description and a unit) and the exact SPICE card
it becomes. Elaboration (:mod:`analogvle.netlist`) builds a :class:`Circuit`
of :class:`Element`, :class:`Comment`, :class:`Model` and :class:`Subckt`
items; :class:`NgspiceWriter` is the last pass and only formats.

Naming follows vlsirtools: ``format_*`` returns a string, ``write_*`` writes,
``get_*`` looks something up; files are written by
:meth:`analogvle.netlist.Netlist.write`, atomically. Numbers are written exactly (``repr`` of the
float: the shortest text that reads back to the same double) and lines end
with ``'\\n'`` on every platform.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

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
    """A SPICE element kind: prefix letter, ports in order, parameters, card, summary class."""

    name: str
    prefix: str
    ports: tuple[str, ...]
    params: tuple[Param, ...]
    card: str  # the exact ngspice card, for readers
    kind: str  # summary class: R, C, G, E, B, sources, A, X


RESISTOR = Primitive("resistor", "R", ("n+", "n-"), (Param("r", "resistance", "ohm"),), "Rxxx n+ n- r", "R")
CAPACITOR = Primitive(
    "capacitor",
    "C",
    ("n+", "n-"),
    (Param("c", "capacitance", "F"), Param("ic", "initial voltage V(n+)-V(n-) (with uic)", "V")),
    "Cxxx n+ n- c ic=ic",
    "C",
)
VCCS = Primitive(
    "voltage-controlled current source",
    "G",
    ("n+", "n-", "nc+", "nc-"),
    (Param("gm", "transconductance; current gm*(V(nc+)-V(nc-)) flows from n+ through the source to n-", "S"),),
    "Gxxx n+ n- nc+ nc- gm",
    "G",
)
VCVS = Primitive(
    "voltage-controlled voltage source",
    "E",
    ("n+", "n-", "nc+", "nc-"),
    (Param("gain", "V(n+)-V(n-) = gain*(V(nc+)-V(nc-))"),),
    "Exxx n+ n- nc+ nc- gain",
    "E",
)
BEHAVIOURAL_V = Primitive(
    "behavioural voltage source",
    "B",
    ("n+", "n-"),
    (Param("expr", "V(n+)-V(n-) as an expression of node voltages", "V"),),
    "Bxxx n+ n- V=expr",
    "B",
)
BEHAVIOURAL_I = Primitive(
    "behavioural current source",
    "B",
    ("n+", "n-"),
    (Param("expr", "current from n+ through the source to n-, an expression of node voltages", "A"),),
    "Bxxx n+ n- I=expr",
    "B",
)
VSOURCE = Primitive(
    "independent voltage source",
    "V",
    ("n+", "n-"),
    (Param("wave", "DC value, SIN(...) or PWL(...)", "V"),),
    "Vxxx n+ n- wave",
    "sources",
)
ISOURCE = Primitive(
    "independent current source",
    "I",
    ("n+", "n-"),
    (Param("wave", "DC value; current flows from n+ through the source to n-", "A"),),
    "Ixxx n+ n- wave",
    "sources",
)
FILESOURCE = Primitive(
    "XSPICE filesource (sampled voltages read from a text file)",
    "A",
    ("out+ out- ...",),
    (Param("model", "name of the filesource .model"),),
    "Axxx %vd([o1+ o1- o2+ o2- ...]) model",
    "A",
)
INSTANCE = Primitive(
    "subcircuit instance", "X", ("ports ...",), (Param("subckt", "subcircuit name"),), "Xxxx ports... subckt", "X"
)
AC_VSOURCE = Primitive(
    "small-signal voltage source", "V", ("n+", "n-"), (Param("mag", "AC magnitude", "V"),), "Vxxx n+ n- DC 0 AC mag",
    "sources",
)

PRIMITIVES: dict[str, Primitive] = {
    p.name: p
    for p in (RESISTOR, CAPACITOR, VCCS, VCVS, BEHAVIOURAL_V, BEHAVIOURAL_I, VSOURCE, ISOURCE, FILESOURCE, INSTANCE,
              AC_VSOURCE)
}

# ----------------------------------------------------------------------------
# Waveforms of independent sources
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dc:
    """A constant value (V or A)."""

    value: float


@dataclass(frozen=True)
class Sin:
    """``SIN(offset amplitude freq delay damping phase)``: offset + amplitude·sin(2π·freq·t + phase·π/180)."""

    offset: float
    amplitude: float
    freq: float  # Hz
    delay: float = 0.0  # s
    damping: float = 0.0  # 1/s
    phase: float = 0.0  # degrees


@dataclass(frozen=True)
class Pwl:
    """``PWL(t1 v1 t2 v2 ...)``: linear between corners (s, V); keep it short."""

    points: tuple[tuple[float, float], ...]


Waveform = Dc | Sin | Pwl

# ----------------------------------------------------------------------------
# Netlist items
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element: a primitive, its full SPICE name, its nodes and parameter values.

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
        for key in ("r", "c", "gm", "gain"):
            if key in self.params:
                return float(self.params[key])
        return None


@dataclass(frozen=True)
class Comment:
    """A comment line (``* text``); an empty text writes a blank line."""

    text: str


@dataclass(frozen=True)
class Model:
    """A ``.model name type(key=value ...)`` card; values are numbers, strings or lists of numbers."""

    name: str
    type: str
    params: dict


Item = Element | Comment


@dataclass
class Subckt:
    """A ``.subckt name ports ... .ends`` definition holding its own items."""

    name: str
    ports: tuple[str, ...]
    items: list[Item] = field(default_factory=list)

    def add(self, item: Item) -> Item:
        self.items.append(item)
        return item

    def comment(self, text: str) -> None:
        self.items.append(Comment(text))

    def elements(self) -> Iterator[Element]:
        return (i for i in self.items if isinstance(i, Element))


@dataclass
class Circuit:
    """A whole netlist: title, header comments, subcircuits, models, items, control cards."""

    title: str
    header: list[str] = field(default_factory=list)
    subckts: list[Subckt] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    saves: list[str] = field(default_factory=list)  # node names for .save v(node)
    analysis: str = ""  # e.g. ".tran 1e-4 1.0 0 1e-5 uic"
    data_files: dict[str, str] = field(default_factory=dict)  # file name → text, written beside the netlist
    notes: list[str] = field(default_factory=list)  # non-idealities to report in the header

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


# ----------------------------------------------------------------------------
# Element constructors (the only way elaboration makes elements)
# ----------------------------------------------------------------------------


def resistor(name: str, a: str, b: str, r: float, *, owner: str = "", role: str = "") -> Element:
    """``R{name} a b r``; r in Ω."""
    return Element(RESISTOR, name, (a, b), {"r": float(r)}, owner, role)


def capacitor(name: str, a: str, b: str, c: float, ic: float = 0.0, *, owner: str = "", role: str = "") -> Element:
    """``C{name} a b c ic=ic``; c in F, ic in V (used with ``uic``)."""
    return Element(CAPACITOR, name, (a, b), {"c": float(c), "ic": float(ic)}, owner, role)


def vccs(name: str, into: str, ctrl_p: str, ctrl_n: str, gm: float, *, owner: str = "", role: str = "") -> Element:
    """A current gm·(V(ctrl_p) − V(ctrl_n)) injected into node ``into`` (from ground); gm in S."""
    return Element(VCCS, name, ("0", into, ctrl_p, ctrl_n), {"gm": float(gm)}, owner, role)


def vcvs(name: str, p: str, n: str, ctrl_p: str, ctrl_n: str, gain: float, *, owner: str = "", role: str = "") -> Element:
    """V(p) − V(n) = gain·(V(ctrl_p) − V(ctrl_n))."""
    return Element(VCVS, name, (p, n, ctrl_p, ctrl_n), {"gain": float(gain)}, owner, role)


def bvoltage(name: str, p: str, expr: str, *, owner: str = "", role: str = "") -> Element:
    """V(p) = expr (to ground)."""
    return Element(BEHAVIOURAL_V, name, (p, "0"), {"expr": expr}, owner, role)


def bcurrent(name: str, into: str, expr: str, *, owner: str = "", role: str = "") -> Element:
    """A current ``expr`` (A) injected into node ``into`` (from ground)."""
    return Element(BEHAVIOURAL_I, name, ("0", into), {"expr": expr}, owner, role)


def vsource(name: str, p: str, n: str, wave: Waveform, *, owner: str = "", role: str = "") -> Element:
    return Element(VSOURCE, name, (p, n), {"wave": wave}, owner, role)


def isource(name: str, into: str, value: float, *, owner: str = "", role: str = "") -> Element:
    """A constant current ``value`` (A) injected into node ``into`` (from ground)."""
    return Element(ISOURCE, name, ("0", into), {"wave": Dc(float(value))}, owner, role)


def ac_vsource(name: str, p: str, mag: float = 1.0, *, owner: str = "", role: str = "") -> Element:
    return Element(AC_VSOURCE, name, (p, "0"), {"mag": float(mag)}, owner, role)


def filesource(name: str, outputs: tuple[str, ...], model: str, *, owner: str = "", role: str = "") -> Element:
    """An XSPICE filesource driving ``outputs`` (each against ground) from the columns of its model's file."""
    return Element(FILESOURCE, name, tuple(outputs), {"model": model}, owner, role)


def instance(name: str, ports: tuple[str, ...], subckt: str, *, owner: str = "", role: str = "") -> Element:
    return Element(INSTANCE, name, tuple(ports), {"subckt": subckt}, owner, role)


# ----------------------------------------------------------------------------
# The writer
# ----------------------------------------------------------------------------


def format_number(x: float) -> str:
    """Exact and short: the shortest text that reads back to the same double.

    Candidates are Python's ``repr`` (shortest round-trip digits), the integer
    form and the shortest round-tripping exponent form (``1e6``, ``2.5e-8``).
    """
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"cannot write a non-finite number into a netlist: {x}")
    if x == 0.0:
        return "0"
    text = repr(x)
    candidates = [text]
    if x == int(x):
        candidates.append(str(int(x)))
    # repr holds the fewest significant digits that round-trip; the exponent form needs as many
    significant = text.lstrip("-").split("e")[0].replace(".", "").strip("0") or "0"
    mantissa, exponent = f"{x:.{len(significant) - 1}e}".split("e")
    exp_form = f"{mantissa}e{int(exponent)}"
    if float(exp_form) == x:
        candidates.append(exp_form)
    return min(candidates, key=len)


class NgspiceWriter:
    """Formats a :class:`Circuit` as ngspice 39 text. A dialect would subclass and override what differs."""

    line_end = "\n"

    def format_circuit(self, circuit: Circuit) -> str:
        lines = [circuit.title]
        lines += [self.format_comment(h) for h in circuit.header]
        for sub in circuit.subckts:
            lines.append("")
            lines += self.format_subckt(sub)
        if circuit.models:
            lines.append("")
            lines += [self.format_model(m) for m in circuit.models]
        for item in circuit.items:
            lines.append(self.format_item(item))
        lines.append("")
        lines += self.format_control(circuit)
        lines.append(".end")
        return self.line_end.join(lines) + self.line_end

    def format_control(self, circuit: Circuit) -> list[str]:
        lines = []
        if circuit.options:
            opts = " ".join(f"{k}={self.format_value(v)}" for k, v in circuit.options.items())
            lines.append(f".options {opts}")
        if circuit.saves:
            lines += self.format_saves(circuit.saves)
        if circuit.analysis:
            lines.append(circuit.analysis)
        return lines

    def format_saves(self, nodes: list[str], per_line: int = 8) -> list[str]:
        return [
            ".save " + " ".join(f"v({n})" for n in nodes[i : i + per_line]) for i in range(0, len(nodes), per_line)
        ]

    def format_subckt(self, sub: Subckt) -> list[str]:
        lines = [f".subckt {sub.name} {' '.join(sub.ports)}"]
        lines += [self.format_item(i) for i in sub.items]
        lines.append(f".ends {sub.name}")
        return lines

    def format_item(self, item: Item) -> str:
        if isinstance(item, Comment):
            return self.format_comment(item.text) if item.text else ""
        return self.format_element(item)

    def format_comment(self, text: str) -> str:
        return f"* {text}" if text else "*"

    def format_element(self, el: Element) -> str:
        return self._FORMATTERS[el.primitive.name](self, el)

    def format_value(self, v) -> str:
        if isinstance(v, str):
            return v
        if isinstance(v, (list, tuple)):
            return "[" + " ".join(self.format_value(x) for x in v) + "]"
        if isinstance(v, bool):
            return "true" if v else "false"
        return format_number(v)

    def format_model(self, m: Model) -> str:
        params = " ".join(
            f'{k}="{v}"' if k == "file" else f"{k}={self.format_value(v)}" for k, v in m.params.items()
        )
        return f".model {m.name} {m.type}({params})"

    def format_wave(self, wave: Waveform) -> str:
        f = format_number
        if isinstance(wave, Dc):
            return f"DC {f(wave.value)}"
        if isinstance(wave, Sin):
            return (
                f"SIN({f(wave.offset)} {f(wave.amplitude)} {f(wave.freq)} {f(wave.delay)} "
                f"{f(wave.damping)} {f(wave.phase)})"
            )
        return "PWL(" + " ".join(f"{f(t)} {f(v)}" for t, v in wave.points) + ")"

    # one formatter per primitive, looked up by name (no parallel if-chains)
    def _two_terminal(self, el: Element) -> str:
        key = el.primitive.params[0].name
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} {format_number(el.params[key])}"

    def _capacitor(self, el: Element) -> str:
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} {format_number(el.params['c'])} ic={format_number(el.params['ic'])}"

    def _controlled(self, el: Element) -> str:
        key = el.primitive.params[0].name
        return f"{el.name} {' '.join(el.nodes)} {format_number(el.params[key])}"

    def _behavioural(self, el: Element) -> str:
        kind = "V" if el.primitive is BEHAVIOURAL_V else "I"
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} {kind}={el.params['expr']}"

    def _source(self, el: Element) -> str:
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} {self.format_wave(el.params['wave'])}"

    def _ac_source(self, el: Element) -> str:
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} DC 0 AC {format_number(el.params['mag'])}"

    def _filesource(self, el: Element) -> str:
        ports = " ".join(f"{n} 0" for n in el.nodes)
        return f"{el.name} %vd([{ports}]) {el.params['model']}"

    def _instance(self, el: Element) -> str:
        return f"{el.name} {' '.join(el.nodes)} {el.params['subckt']}"

    _FORMATTERS: ClassVar[dict] = {
        RESISTOR.name: _two_terminal,
        CAPACITOR.name: _capacitor,
        VCCS.name: _controlled,
        VCVS.name: _controlled,
        BEHAVIOURAL_V.name: _behavioural,
        BEHAVIOURAL_I.name: _behavioural,
        VSOURCE.name: _source,
        ISOURCE.name: _source,
        AC_VSOURCE.name: _ac_source,
        FILESOURCE.name: _filesource,
        INSTANCE.name: _instance,
    }


def format_netlist(circuit: Circuit) -> str:
    """The ngspice text of ``circuit``."""
    return NgspiceWriter().format_circuit(circuit)


# ----------------------------------------------------------------------------
# Summary
# ----------------------------------------------------------------------------

SUMMARY_KINDS = ("R", "C", "G", "E", "B", "sources", "A", "X")


def get_summary(circuit: Circuit) -> dict:
    """Element counts per class and the ranges of R (Ω), C (F), G (S) and E gains."""
    counts = {k: 0 for k in SUMMARY_KINDS}
    values: dict[str, list[float]] = {"R": [], "C": [], "G": [], "E": []}
    for el in circuit.elements():
        counts[el.kind] += 1
        if el.kind in values:
            values[el.kind].append(abs(el.value))
    ranges = {k: [min(v), max(v)] for k, v in values.items() if v}
    return {"counts": counts, "ranges": ranges, "elements": sum(counts.values())}
