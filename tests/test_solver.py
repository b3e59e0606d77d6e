"""``[simulator] solver``: KLU where the loaded ngspice has it, Sparse 1.3 otherwise, never a silent 'klu'."""

from __future__ import annotations

import pytest

from analogvle.cli import main
from analogvle.errors import ConfigurationError
from analogvle.model.toml import spec_from_dict
from analogvle.netlist.netlist import build_netlist
from analogvle.simulate import solver
from analogvle.simulate.run import simulate

SMALL = {
    "name": "small", "time": {"dt": 0.01, "duration": 1.0, "save_dt": 0.1},
    "input": {"kind": "sines", "omegas": [1.0]},
    "network": {"inputs": 1, "errors": "none", "layer": [{"size": 2, "tau_m": 1.0, "tau_r": [1.0, 0.1],
                                                          "phi": "tanh", "weights": [[0.5], [-1.0]]}]},
}


def small(solver_name: str = "auto"):
    return spec_from_dict({**SMALL, "simulator": {"solver": solver_name}})


@pytest.mark.parametrize("requested,version,has_klu,expected", [
    ("auto", 39, False, "sparse"), ("auto", 42, True, "klu"), ("auto", 44, False, "sparse"),
    ("auto", None, True, "sparse"), ("sparse", 39, False, "sparse"), ("sparse", 43, True, "sparse"),
    ("klu", 42, True, "klu"), ("klu", 45, True, "klu"),
])
def test_choice_follows_the_version_and_the_build(requested, version, has_klu, expected):
    assert solver.choose_solver(requested, version, has_klu) == expected


@pytest.mark.parametrize("version,has_klu,why", [(39, False, "older than 42"), (39, True, "older than 42"),
                                                 (43, False, "not built with KLU")])
def test_klu_without_klu_is_refused_in_one_line(version, has_klu, why):
    with pytest.raises(ConfigurationError, match=why) as info:
        solver.choose_solver("klu", version, has_klu)
    assert info.value.exit_code == 2 and "\n" not in str(info.value) and "simulator.solver" in str(info.value)


def test_klu_is_detected_by_its_symbols_in_the_file(tmp_path):
    with_klu, without = tmp_path / "with.so", tmp_path / "without.so"
    with_klu.write_bytes(b"\x7fELF...klu_factor\x00...")
    without.write_bytes(b"\x7fELF...spFactor\x00...")
    assert solver.file_has_klu(str(with_klu)) and not solver.file_has_klu(str(without))
    assert not solver.file_has_klu(str(tmp_path / "missing.so"))


@pytest.mark.parametrize("backend", ["shared", "subprocess"])
def test_both_backends_report_their_ngspice(backend):
    version, has_klu = solver.capability(backend)
    assert isinstance(version, int) and version >= 39
    if version < solver.KLU_VERSION:
        assert not has_klu  # Debian's 39 here: no KLU, whatever the file holds


def test_an_explicit_choice_is_written_and_auto_writes_nothing():
    texts = {name: build_netlist(small(name)).text for name in ("auto", "sparse", "klu")}
    options = {name: next(ln for ln in text.splitlines() if ln.startswith(".options")) for name, text in texts.items()}
    assert options["auto"] == ".options reltol=1e-4 abstol=1e-12 vntol=1e-7 method=trap"
    assert options["sparse"] == options["auto"] + " sparse" and options["klu"] == options["auto"] + " klu"


def test_auto_becomes_klu_only_where_ngspice_has_it(monkeypatch):
    net = build_netlist(small())
    monkeypatch.setattr(solver, "capability", lambda backend: (42, True))
    klu, chosen = solver.resolve_solver(net, "shared")
    assert chosen == "klu" and klu.text == net.text.replace("method=trap", "method=trap klu")
    monkeypatch.setattr(solver, "capability", lambda backend: (39, False))
    same, chosen = solver.resolve_solver(net, "shared")
    assert chosen == "sparse" and same is net


@pytest.mark.parametrize("backend", ["shared", "subprocess"])
def test_the_solver_that_ran_is_recorded_and_klu_on_this_ngspice_follows_its_build(backend, tmp_path, capsys):
    version, has_klu = solver.capability(backend)
    capable = has_klu and version >= solver.KLU_VERSION
    traj = simulate(small(), backend=backend, progress=False)
    assert traj.meta["producer"]["solver"] == ("klu" if capable else "sparse")
    spec_file = tmp_path / "klu.toml"
    spec_file.write_text('name = "klu"\n[time]\ndt = 0.01\nduration = 1.0\nsave_dt = 0.1\n'
                         '[input]\nkind = "sines"\nomegas = [1.0]\n[network]\ninputs = 1\nerrors = "none"\n'
                         '[[network.layer]]\nsize = 1\ntau_m = 1.0\nphi = "tanh"\nweights = [[0.5]]\n'
                         f'[simulator]\nsolver = "klu"\nbackend = "{backend}"\n')
    code = main(["simulate", str(spec_file), "-o", str(tmp_path / "out.npz")])
    err = capsys.readouterr().err.strip()
    if capable:
        assert code == 0
    else:  # ngspice 39 here: refused, one line, nothing written
        assert code == 2 and len(err.splitlines()) == 1 and "solver = 'klu'" in err
        assert not (tmp_path / "out.npz").exists()
