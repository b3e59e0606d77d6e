"""The circuit representation (analogvle/circuit/ir.py) and its ngspice writer (analogvle/netlist/ngspice.py)."""

from __future__ import annotations

import numpy as np
import pytest

from analogvle.circuit.ir import (
    PRIMITIVES,
    Ac,
    Circuit,
    Comment,
    Dc,
    DcSweep,
    Library,
    Model,
    Pwl,
    Samples,
    Sin,
    Subckt,
    Tran,
    bcurrent,
    bvoltage,
    capacitor,
    instance,
    isource,
    resistor,
    sampled_source,
    vccs,
    vcvs,
    vsource,
)
from analogvle.circuit.passes import apply_mismatch, get_summary
from analogvle.formatting import format_number
from analogvle.model.expr import Node, Scaled, call, evaluate, product
from analogvle.netlist.ngspice import NgspiceWriter
from analogvle.simulate.batch import run_analysis

WRITER = NgspiceWriter()


def test_numbers_are_written_exactly_and_short():
    rng = np.random.default_rng(0)
    values = list(rng.standard_normal(200) * 10.0 ** rng.integers(-15, 15, 200)) + [1e6, 2e-8, 0.5, 1e14, 1 / 3]
    for x in values:
        assert float(format_number(x)) == x
    assert [format_number(x) for x in (1e6, 2e-8, 0.5, 1.0, -3.0, 0.0, 1e-3 / 1e-9)] == [
        "1e6", "2e-8", "0.5", "1", "-3", "0", "1e6"]
    with pytest.raises(ValueError):
        format_number(float("nan"))


def test_every_primitive_is_declared_once_with_its_card_and_has_a_formatter():
    for p in PRIMITIVES.values():
        assert p.card.startswith(p.prefix + "xxx")
        assert all(param.description for param in p.params)
        assert callable(getattr(WRITER, f"format_{p.name}"))


def test_elements_format_to_their_spice_cards():
    samples = Samples(np.zeros((3, 2)), 0.01, 1.0, 1e-3, "x.txt")
    cards = [
        (resistor("R1", "a", "0", 1e6), "R1 a 0 1e6"),
        (capacitor("C1", "a", "0", 1e-9, 0.5), "C1 a 0 1e-9 ic=0.5"),
        (vccs("G1", "s", "r", "0", -5e-7), "G1 0 s r 0 -5e-7"),
        (vcvs("E1", "o", "m", "u", "0", 0.9), "E1 o m u 0 0.9"),
        (bvoltage("B1", "r", call("tanh", Node("u"))), "B1 r 0 V=tanh(v(u))"),
        (bcurrent("B2", "w", Scaled(2e-8, product(Node("e"), Node("x")))), "B2 0 w I=2e-8*v(e)*v(x)"),
        (vsource("V1", "x", "0", Sin(0, 1, 50.0, 0, 0, 90)), "V1 x 0 SIN(0 1 50 0 0 90)"),
        (vsource("V2", "g", "0", Pwl(((0, 0), (0.08, 0), (0.08000001, 1)))), "V2 g 0 PWL(0 0 0.08 0 0.08000001 1)"),
        (vsource("V3", "g", "0", Dc(1.5)), "V3 g 0 DC 1.5"),
        (isource("I1", "s", 1e-7), "I1 0 s DC 1e-7"),
        (sampled_source("Ax", ("x_n0", "x_n1"), samples), "Ax %vd([x_n0 0 x_n1 0]) fs_x"),
        (instance("X1", ("x_n0", "target_n0"), "teacher"), "X1 x_n0 target_n0 teacher"),
        (instance("XM1", ("d", "g", "s", "b"), "sky130_fd_pr__nfet_01v8", params={"w": 4, "l": 1}),
         "XM1 d g s b sky130_fd_pr__nfet_01v8 w=4 l=1"),
    ]
    c = Circuit("t")
    for el, card in cards:
        assert WRITER.format_element(el) == card
        c.add(el)
    counts = get_summary(c)["counts"]
    assert counts == {"R": 1, "C": 1, "G": 1, "E": 1, "B": 2, "sources": 4, "A": 1, "X": 2}


def test_element_names_must_carry_their_spice_prefix():
    with pytest.raises(ValueError):
        resistor("Cm_l1_n0", "a", "0", 1.0)


def test_a_writer_subclass_override_of_one_primitive_takes_effect():
    class Dialect(NgspiceWriter):
        def format_capacitor(self, el):
            return f"{el.name} {el.nodes[0]} {el.nodes[1]} C={format_number(el.params['c'])}"

    c = Circuit("t", items=[capacitor("C1", "a", "0", 1e-9), resistor("R1", "a", "0", 1.0)])
    text = Dialect().format_circuit(c)
    assert "C1 a 0 C=1e-9" in text.splitlines() and "R1 a 0 1" in text.splitlines()
    assert "C1 a 0 1e-9 ic=0" in WRITER.format_circuit(c).splitlines()


def test_expressions_keep_their_parse_tree_and_evaluate_like_numpy():
    x, w = Node("x"), Node("w")
    cases = [
        (Scaled(1e-6, product(w, 0.5 * call("tanh", x / 0.5))), "1e-6*v(w)*(0.5*tanh(v(x)/0.5))"),
        (product(0.5, x / 0.1), "0.5*(v(x)/0.1)"),
        (Scaled(-2.0, call("max", x - 0.8, 0) + call("min", x + 0.8, 0)), "-2*(max(v(x)-0.8,0)+min(v(x)+0.8,0))"),
        ((1 - call("tanh", x) * call("tanh", x)) * w, "(1-tanh(v(x))*tanh(v(x)))*v(w)"),
        (Scaled(3.0, product(product(x, w) + -0.02, Node("g"))), "3*(v(x)*v(w)-0.02)*v(g)"),
        (x / (w * 2.0), "v(x)/(v(w)*2)"),
        (-call("abs", x), "-abs(v(x))"),
    ]
    env = {"x": np.linspace(-2, 2, 9), "w": np.linspace(0.3, 1.1, 9), "g": np.linspace(1, 2, 9)}
    for expr, text in cases:
        assert WRITER.format_expr(expr) == text
        # the text, read as Python with v(n) = env[n], gives the tree's value
        value = eval(text.replace("v(", "V(").replace("tanh", "np.tanh").replace("abs", "np.abs")
                     .replace("max", "np.maximum").replace("min", "np.minimum"), {"np": np, "V": lambda n: n}, {
            "x": env["x"], "w": env["w"], "g": env["g"]})
        np.testing.assert_array_equal(value, evaluate(expr, env) * np.ones(9))


def test_mismatch_edits_values_and_gains_as_fields_in_netlist_order():
    items = [resistor("R1", "a", "0", 1e6), Comment("c"), bcurrent("B1", "a", Scaled(2e-8, Node("e"))),
             bvoltage("B2", "r", call("tanh", Node("a"))), vccs("G1", "a", "r", "0", 1e-6)]
    c = Circuit("t", items=list(items))
    apply_mismatch(c, 0.1, seed=3)
    draws = 1 + 0.1 * np.random.default_rng(3).standard_normal(3)
    assert c.items[0].params["r"] == 1e6 * draws[0]
    assert c.items[2].params["expr"] == Scaled(2e-8 * draws[1], Node("e"))
    assert c.items[3] is items[3]  # a voltage-output behavioural source is not a transconductor
    assert c.items[4].params["gm"] == 1e-6 * draws[2]


def test_libraries_init_settings_sampled_data_and_analyses_are_written(tmp_path):
    sub = Subckt("cell", ("a", "b"), [Comment("inside"), resistor("R1", "a", "b", 10.0)], params={"k": 2})
    data = np.array([[0.0, 1.0], [0.5, -1.0]])
    c = Circuit("my title", header=["h"], libraries=[Library("/pdk/models.lib", "tt"), Library("/pdk/extra.spice")],
                subckts=[sub], models=[Model("m", "filesource", {"file": "f.txt", "amplscale": [1, 2]})])
    c.add(instance("X1", ("n1", "0"), "cell"))
    c.add(sampled_source("Ain", ("i0", "i1"), Samples(data, 0.25, 0.1, 1e-3, "in.txt")))
    c.options = {"reltol": 1e-4, "method": "trap"}
    c.init = {"ngbehavior": "hsa", "ng_nomodcheck": None}
    c.saves = ["n1"]
    c.analyses = [Tran(1e-4, 1.0, 1e-5), Ac(10, 1.0, 1e3), DcSweep("V1", -1.0, 1.0, 0.5)]
    text = WRITER.format_circuit(c)
    assert "\r" not in text and text.endswith(".end\n")
    lines = text.splitlines()
    assert lines[0] == "my title" and lines[1] == "* h"
    assert '.lib "/pdk/models.lib" tt' in lines and '.include "/pdk/extra.spice"' in lines
    assert ".subckt cell a b k=2" in lines and ".ends cell" in lines
    assert '.model m filesource(file="f.txt" amplscale=[1 2])' in lines
    assert any(line.startswith('.model fs_in filesource(file="in.txt" amploffset=[0 0] amplscale=[0.1 0.1]')
               for line in lines)
    assert lines[-6:] == [".options reltol=1e-4 method=trap", ".save v(n1)", ".tran 1e-4 1 0 1e-5 uic",
                          ".ac dec 10 1 1e3", ".dc V1 -1 1 0.5", ".end"]
    assert WRITER.format_data_files(c) == {"in.txt": "0 0 1\n0.25 0.5 -1\n"}
    assert WRITER.format_init(c) == "set ngbehavior=hsa\nset ng_nomodcheck\n"


def test_a_written_rc_circuit_runs_in_ngspice_with_the_exact_time_constant(tmp_path):
    c = Circuit("rc step")
    c.add(vsource("V1", "in", "0", Dc(1.0)))
    c.add(resistor("R1", "in", "out", 1e6))
    c.add(capacitor("C1", "out", "0", 1e-9, 0.0))
    c.options = {"reltol": 1e-6, "abstol": 1e-15, "vntol": 1e-9}
    c.analyses = [Tran(1e-5, 3e-3, 1e-6)]
    (tmp_path / "rc.cir").write_text(WRITER.format_circuit(c))
    raw = run_analysis(tmp_path / "rc.cir")
    t, v = raw["time"], raw["v(out)"]
    assert np.max(np.abs(v - (1 - np.exp(-t / 1e-3)))) < 1e-4


def test_flat_nodes_are_the_names_ngspice_gives_and_a_nodeset_guess_leaves_the_solution(tmp_path):
    inner = Subckt("inner", ("p", "q"), [resistor("R1", "p", "m", 1e3), resistor("R2", "m", "q", 1e3)])
    outer = Subckt("outer", ("a",), [instance("Xi", ("a", "k"), "inner"), resistor("R3", "k", "0", 2e3)])
    c = Circuit("nested dividers", subckts=[inner, outer])
    c.add(vsource("V1", "in", "0", Dc(1.0)))
    c.add(instance("Xo", ("in",), "outer"))
    assert c.flat_nodes() == ["in", "xo.k", "xo.xi.m"]
    c.nodesets = {"xo.k": 0.9, "xo.xi.m": 0.1}  # a wrong guess: only where Newton starts
    c.analyses = [Tran(1e-6, 1e-5)]
    text = WRITER.format_circuit(c)
    assert ".nodeset v(xo.k)=0.9 v(xo.xi.m)=0.1" in text.splitlines()
    (tmp_path / "nested.cir").write_text(text)
    raw = run_analysis(tmp_path / "nested.cir")
    assert {f"v({n})" for n in c.flat_nodes()} <= set(raw)  # ngspice names every flat node the same
    assert np.allclose(raw["v(xo.k)"], 0.5) and np.allclose(raw["v(xo.xi.m)"], 0.75)
