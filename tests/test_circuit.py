"""The circuit representation and its ngspice writer (analogvle/circuit.py)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from analogvle.circuit import (
    PRIMITIVES,
    Circuit,
    Comment,
    Dc,
    Model,
    Pwl,
    Sin,
    Subckt,
    bcurrent,
    bvoltage,
    capacitor,
    filesource,
    format_netlist,
    format_number,
    get_summary,
    instance,
    isource,
    resistor,
    vccs,
    vcvs,
    vsource,
)
from analogvle.rawfile import read_raw


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
    from analogvle.circuit import NgspiceWriter

    assert set(PRIMITIVES) == set(NgspiceWriter._FORMATTERS)
    for p in PRIMITIVES.values():
        assert p.card.startswith(p.prefix + "xxx")
        assert all(param.description for param in p.params)


def test_elements_format_to_their_spice_cards():
    cards = [
        (resistor("R1", "a", "0", 1e6), "R1 a 0 1e6"),
        (capacitor("C1", "a", "0", 1e-9, 0.5), "C1 a 0 1e-9 ic=0.5"),
        (vccs("G1", "s", "r", "0", -5e-7), "G1 0 s r 0 -5e-7"),
        (vcvs("E1", "o", "m", "u", "0", 0.9), "E1 o m u 0 0.9"),
        (bvoltage("B1", "r", "tanh(v(u))"), "B1 r 0 V=tanh(v(u))"),
        (bcurrent("B2", "w", "2e-8*v(e)*v(x)"), "B2 0 w I=2e-8*v(e)*v(x)"),
        (vsource("V1", "x", "0", Sin(0, 1, 50.0, 0, 0, 90)), "V1 x 0 SIN(0 1 50 0 0 90)"),
        (vsource("V2", "g", "0", Pwl(((0, 0), (0.08, 0), (0.08000001, 1)))), "V2 g 0 PWL(0 0 0.08 0 0.08000001 1)"),
        (vsource("V3", "g", "0", Dc(1.5)), "V3 g 0 DC 1.5"),
        (isource("I1", "s", 1e-7), "I1 0 s DC 1e-7"),
        (filesource("A1", ("x_n0", "x_n1"), "fs_x"), "A1 %vd([x_n0 0 x_n1 0]) fs_x"),
        (instance("X1", ("x_n0", "target_n0"), "teacher"), "X1 x_n0 target_n0 teacher"),
    ]
    c = Circuit("t")
    for el, card in cards:
        assert format_netlist(Circuit("t", items=[el])).splitlines()[1] == card
        c.add(el)
    counts = get_summary(c)["counts"]
    assert counts == {"R": 1, "C": 1, "G": 1, "E": 1, "B": 2, "sources": 4, "A": 1, "X": 1}


def test_element_names_must_carry_their_spice_prefix():
    with pytest.raises(ValueError):
        resistor("Cm_l1_n0", "a", "0", 1.0)


def test_netlist_text_has_unix_line_ends_title_first_and_end_last():
    sub = Subckt("cell", ("a", "b"), [Comment("inside"), resistor("R1", "a", "b", 10.0)])
    c = Circuit("my title", header=["h"], subckts=[sub], models=[Model("m", "filesource", {"file": "f.txt",
                                                                                            "amplscale": [1, 2]})])
    c.add(instance("X1", ("n1", "0"), "cell"))
    c.options = {"reltol": 1e-4, "method": "trap"}
    c.saves = ["n1"]
    c.analysis = ".op"
    text = format_netlist(c)
    assert "\r" not in text and text.endswith(".end\n")
    lines = text.splitlines()
    assert lines[0] == "my title" and lines[1] == "* h"
    assert ".subckt cell a b" in lines and ".ends cell" in lines
    assert '.model m filesource(file="f.txt" amplscale=[1 2])' in lines
    assert lines[-4:] == [".options reltol=1e-4 method=trap", ".save v(n1)", ".op", ".end"]


def test_a_written_rc_circuit_runs_in_ngspice_with_the_exact_time_constant(tmp_path):
    c = Circuit("rc step")
    c.add(vsource("V1", "in", "0", Dc(1.0)))
    c.add(resistor("R1", "in", "out", 1e6))
    c.add(capacitor("C1", "out", "0", 1e-9, 0.0))
    c.options = {"reltol": 1e-6, "abstol": 1e-15, "vntol": 1e-9}
    c.analysis = ".tran 1e-5 3e-3 0 1e-6 uic"
    (tmp_path / "rc.cir").write_text(format_netlist(c))
    out = subprocess.run(["ngspice", "-b", "-r", "rc.raw", "rc.cir"], cwd=tmp_path, check=False, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    raw = read_raw(tmp_path / "rc.raw")
    t, v = raw["time"], raw["v(out)"]
    assert np.max(np.abs(v - (1 - np.exp(-t / 1e-3)))) < 1e-4
