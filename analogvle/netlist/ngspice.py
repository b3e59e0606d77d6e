"""The ngspice writer: the last pass, which only formats.

:class:`NgspiceWriter` formats each element through ``format_<primitive
name>`` (``format_resistor``, ``format_capacitor``, ...), looked up on the
instance, so a subclass that overrides one of them changes how that
primitive is written; expressions, analyses, options and init settings have
their own ``format_*`` methods. Naming follows vlsirtools: ``format_*``
returns text. Numbers are exact (:func:`~analogvle.formatting.format_number`)
and lines end with ``'\\n'`` on every platform. Sampled sources become an
XSPICE ``filesource`` (an ``A`` element, a ``.model`` card and a data file
beside the netlist).
"""

from __future__ import annotations

from analogvle.circuit.ir import Ac, Circuit, Comment, Dc, DcSweep, Element, Library, Model, Pwl, Sin, Subckt, Tran
from analogvle.errors import NetlistError
from analogvle.formatting import format_number
from analogvle.model.expr import Add, Call, Div, Expr, Mul, Neg, Node, Num, Scaled, Sub, Var

#: the line buffer of ngspice's XSPICE filesource (file_source/cfunc.mod: fgets into char[512])
FILESOURCE_LINE = 512


class NgspiceWriter:
    """Formats a :class:`Circuit` as ngspice 39 text (and its data files)."""

    line_end = "\n"

    # -- whole circuits ------------------------------------------------------

    def format_circuit(self, circuit: Circuit) -> str:
        lines = [circuit.title]
        lines += [self.format_comment(h) for h in circuit.header]
        if circuit.libraries:
            lines.append("")
            lines += [self.format_library(lib) for lib in circuit.libraries]
        for sub in circuit.subckts:
            lines.append("")
            lines += self.format_subckt(sub)
        models = list(circuit.models) + [self.sampled_model(el) for el in circuit.elements()
                                         if el.primitive.name == "sampled_source"]
        if models:
            lines.append("")
            lines += [self.format_model(m) for m in models]
        lines += [self.format_item(item) for item in circuit.items]
        lines.append("")
        lines += self.format_control(circuit)
        lines.append(".end")
        return self.line_end.join(lines) + self.line_end

    def format_data_files(self, circuit: Circuit) -> dict[str, str]:
        """File name → text of every data file the netlist reads (written beside it)."""
        return {el.params["samples"].file: self.format_samples(el.params["samples"])
                for el in circuit.elements() if el.primitive.name == "sampled_source"}

    def format_init(self, circuit: Circuit) -> str:
        """The ``.spiceinit`` text: settings ngspice needs before it reads the netlist ('' when none)."""
        return "".join(f"set {k}" + ("" if v is None else f"={v}") + self.line_end for k, v in circuit.init.items())

    def format_control(self, circuit: Circuit) -> list[str]:
        lines = []
        options = {**circuit.options, **({circuit.solver: None} if circuit.solver != "auto" else {})}
        if options:
            lines.append(".options " + " ".join(k if v is None else f"{k}={self.format_value(v)}"
                                                for k, v in options.items()))
        if circuit.ics:
            lines.append(".ic " + " ".join(f"v({n})={self.format_value(v)}" for n, v in circuit.ics.items()))
        # a starting guess for the operating point (6 digits: it only sets where Newton starts)
        lines += self.format_cards(".nodeset", [f"v({n})={v:.6g}" for n, v in circuit.nodesets.items()])
        if circuit.saves:
            lines += self.format_saves(circuit.saves)
        lines += [self.format_analysis(a) for a in circuit.analyses]
        if circuit.control:  # commands only (no run): both backends then run the analyses above
            lines += [".control", *circuit.control, ".endc"]
        return lines

    def format_saves(self, nodes: list[str], per_line: int = 8) -> list[str]:
        """``.save`` lines: a node name is saved as ``v(node)``, an entry like ``i(vdd)`` as it is."""
        return self.format_cards(".save", [n if n.endswith(")") else f"v({n})" for n in nodes], per_line)

    @staticmethod
    def format_cards(card: str, words: list[str], per_line: int = 8) -> list[str]:
        """``card`` lines carrying ``words``, ``per_line`` each (none for no words)."""
        return [f"{card} " + " ".join(words[i : i + per_line]) for i in range(0, len(words), per_line)]

    def format_analysis(self, analysis) -> str:
        f = format_number
        if isinstance(analysis, Tran):
            max_step = f" {f(analysis.max_step)}" if analysis.max_step is not None else ""
            return f".tran {f(analysis.step)} {f(analysis.stop)} {f(analysis.start)}{max_step}" + (
                " uic" if analysis.uic else "")
        if isinstance(analysis, Ac):
            return f".ac dec {analysis.points} {f(analysis.f_start)} {f(analysis.f_stop)}"
        if isinstance(analysis, DcSweep):
            return f".dc {analysis.source} {f(analysis.start)} {f(analysis.stop)} {f(analysis.step)}"
        raise TypeError(f"unknown analysis {analysis!r}")

    def format_library(self, lib: Library) -> str:
        return f'.lib "{lib.path}" {lib.section}' if lib.section else f'.include "{lib.path}"'

    def format_subckt(self, sub: Subckt) -> list[str]:
        params = "".join(f" {k}={self.format_value(v)}" for k, v in sub.params.items())
        return [f".subckt {sub.name} {' '.join(sub.ports)}{params}", *(self.format_item(i) for i in sub.items),
                f".ends {sub.name}"]

    def format_item(self, item: Element | Comment) -> str:
        if isinstance(item, Comment):
            return self.format_comment(item.text) if item.text else ""
        return self.format_element(item)

    def format_comment(self, text: str) -> str:
        return f"* {text}" if text else "*"

    def format_element(self, el: Element) -> str:
        """Dispatch on the primitive: ``self.format_<name>(el)``."""
        return getattr(self, f"format_{el.primitive.name}")(el)

    def format_value(self, v) -> str:
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (list, tuple)):
            return "[" + " ".join(self.format_value(x) for x in v) + "]"
        return format_number(v)

    def format_model(self, m: Model) -> str:
        params = " ".join(f'{k}="{v}"' if k == "file" else f"{k}={self.format_value(v)}" for k, v in m.params.items())
        return f".model {m.name} {m.type}({params})"

    def format_wave(self, wave) -> str:
        f = format_number
        if isinstance(wave, Dc):
            return f"DC {f(wave.value)}"
        if isinstance(wave, Sin):
            return (f"SIN({f(wave.offset)} {f(wave.amplitude)} {f(wave.freq)} {f(wave.delay)} {f(wave.damping)} "
                    f"{f(wave.phase)})")
        if isinstance(wave, Pwl):
            return "PWL(" + " ".join(f"{f(t)} {f(v)}" for t, v in wave.points) + ")"
        raise TypeError(f"unknown waveform {wave!r}")

    # -- one method per primitive ----------------------------------------------

    def format_resistor(self, el: Element) -> str:
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} {format_number(el.params['r'])}"

    def format_capacitor(self, el: Element) -> str:
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} {format_number(el.params['c'])} ic={format_number(el.params['ic'])}"

    def format_vccs(self, el: Element) -> str:
        return f"{el.name} {' '.join(el.nodes)} {format_number(el.params['gm'])}"

    def format_vcvs(self, el: Element) -> str:
        return f"{el.name} {' '.join(el.nodes)} {format_number(el.params['gain'])}"

    def format_behavioural_voltage(self, el: Element) -> str:
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} V={self.format_expr(el.params['expr'])}"

    def format_behavioural_current(self, el: Element) -> str:
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} I={self.format_expr(el.params['expr'])}"

    def format_vsource(self, el: Element) -> str:
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} {self.format_wave(el.params['wave'])}"

    def format_isource(self, el: Element) -> str:
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} {self.format_wave(el.params['wave'])}"

    def format_ac_vsource(self, el: Element) -> str:
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} DC 0 AC {format_number(el.params['mag'])}"

    def format_ac_isource(self, el: Element) -> str:
        return f"{el.name} {el.nodes[0]} {el.nodes[1]} DC 0 AC {format_number(el.params['mag'])}"

    def format_sampled_source(self, el: Element) -> str:
        ports = " ".join(f"{n} 0" for n in el.nodes)
        return f"{el.name} %vd([{ports}]) {self.sampled_model(el).name}"

    def format_instance(self, el: Element) -> str:
        params = "".join(f" {k}={self.format_value(v)}" for k, v in el.params["params"].items())
        return f"{el.name} {' '.join(el.nodes)} {el.params['subckt']}{params}"

    # -- sampled sources ---------------------------------------------------------

    def sampled_model(self, el: Element) -> Model:
        """The filesource ``.model`` card of a sampled source (named ``fs_`` + the element name after 'A')."""
        s = el.params["samples"]
        cols = len(el.nodes)
        return Model(f"fs_{el.name[1:]}", "filesource", {
            "file": s.file, "amploffset": [0.0] * cols, "amplscale": [s.v_scale] * cols, "timeoffset": 0.0,
            "timescale": s.time_scale, "timerelative": False, "amplstep": False})

    def format_samples(self, samples) -> str:
        """One line per sample: model time, then one model-unit value per output."""
        f = format_number
        lines = [" ".join([f(k * samples.dt)] + [f(v) for v in row]) for k, row in enumerate(samples.data)]
        longest = max(map(len, lines), default=0)
        if longest >= FILESOURCE_LINE:  # filesource would read the rest of the line as further rows
            raise NetlistError(f"{samples.file}: a data line of {longest} characters; ngspice's filesource reads "
                               f"at most {FILESOURCE_LINE - 1} (split the source in fewer columns)")
        return "\n".join(lines) + "\n"

    # -- expressions -------------------------------------------------------------

    def format_expr(self, expr: Expr) -> str:
        """ngspice syntax, parenthesized so that the parse tree is the expression's own."""
        match expr:
            case Num(value):
                return format_number(value)
            case Node(name):
                return f"v({name})"
            case Var(name):
                raise ValueError(f"expression still holds the placeholder {name!r}")
            case Call(fn, args):
                return f"{fn}({','.join(self.format_expr(a) for a in args)})"
            case Add(terms):
                out = self.format_expr(terms[0])
                for t in terms[1:]:
                    if isinstance(t, Num) and t.value < 0:
                        out += f"-{format_number(-t.value)}"
                    else:
                        out += f"+{self.format_expr(t)}"
                return out
            case Sub(a, b):
                return f"{self.format_expr(a)}-{self._operand(b, (Add, Sub))}"
            case Mul(factors):
                first = self._operand(factors[0], (Add, Sub, Div))
                return "*".join([first, *(self._operand(f, (Add, Sub, Div, Mul, Scaled, Neg)) for f in factors[1:])])
            case Div(a, b):
                return f"{self._operand(a, (Add, Sub))}/{self._operand(b, (Add, Sub, Mul, Div, Scaled, Neg))}"
            case Neg(a):
                return f"-{self._operand(a, (Add, Sub, Mul, Div, Scaled, Neg))}"
            case Scaled(gain, term):
                return f"{format_number(gain)}*{self._operand(term, (Add, Sub, Div))}"
        raise TypeError(f"not an expression: {expr!r}")

    def _operand(self, expr: Expr, group: tuple[type, ...]) -> str:
        text = self.format_expr(expr)
        if isinstance(expr, group) or (isinstance(expr, Num) and expr.value < 0):
            return f"({text})"
        return text
