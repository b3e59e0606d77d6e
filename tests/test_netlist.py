"""The netlist generator (analogvle/circuit/, analogvle/netlist/), checked in real ngspice.

Golden netlists are the smoke test; the numbers ngspice computes on the
smallest circuits (AC response of the cells, DC transfer of a synapse) are
the real test.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analogvle.circuit.benches import cell_ac_bench, synapse_dc_bench
from analogvle.circuit.cells import Scales
from analogvle.circuit.ir import Element
from analogvle.circuit.probes import Probe
from analogvle.cli import main
from analogvle.errors import NetlistError
from analogvle.model.toml import load_spec, spec_from_dict
from analogvle.netlist.netlist import Netlist, bench_netlist, build_netlist
from analogvle.registry import REALIZATIONS as REALIZATIONS_REGISTRY
from analogvle.simulate.rawfile import read_raw

ROOT = Path(__file__).resolve().parents[1]
# the learning examples of the behavioural realizations: a transistor-level spec (sims/*sky130*.toml) has its own tests
# (tests/test_sky130*.py); a [task] spec (sims/mnist1d*.toml) has no circuit of its own: its trained network's
# forward circuit is run in test_train.py
EXAMPLES = sorted(p for p in (ROOT / "sims").glob("*.toml")
                  if (s := load_spec(p)).task is None and s.network.plastic
                  and not REALIZATIONS_REGISTRY.has(s.circuit.realization, "transistor"))
REALIZATIONS = ("ideal", "passive")

# lines ngspice 39 prints on every healthy run; anything else mentioning trouble fails the test
_BENIGN = ("Reducing trtol to 1 for xspice 'A' devices", "Circuit: ")  # the latter echoes our title
_TROUBLE = re.compile(r"warning|error|singular|too small|abort|fail|unknown|not found|can't|cannot|undefined",
                      re.IGNORECASE)


def run_ngspice(netlist: Netlist, tmp_path: Path, name: str = "net") -> dict[str, np.ndarray]:
    """Write ``netlist`` (and its data files), run ``ngspice -b -r``, fail on any circuit warning."""
    path = netlist.write(tmp_path / f"{name}.cir")
    out = subprocess.run(["ngspice", "-b", "-r", f"{name}.raw", path.name], cwd=tmp_path, check=False, capture_output=True,
                         text=True, timeout=120)
    text = out.stdout + out.stderr
    trouble = [ln for ln in text.splitlines() if _TROUBLE.search(ln) and not any(b in ln for b in _BENIGN)]
    assert out.returncode == 0 and not trouble, f"ngspice complained:\n{text}"
    return read_raw(tmp_path / f"{name}.raw")


def model_values(raw: dict, probe: Probe) -> np.ndarray:
    return np.stack([(raw[f"v({n})"] - probe.offset) / probe.scale for n in probe.nodes], axis=-1)


# ----------------------------------------------------------------------------
# The contract
# ----------------------------------------------------------------------------


def test_lagnet_netlist_holds_every_trajectory_signal_with_its_probe():
    nl = build_netlist(load_spec(ROOT / "sims/lagnet.toml"))
    expected = {"x", "target"} | {f"layer{l}/{k}" for l in (1, 2, 3) for k in ("u", "uhat", "r", "v", "e")}
    assert expected | {"layer1/W"} == set(nl.probes)  # W1 learns, its biases do not (the paper's LagNet)
    assert nl.probes["layer1/W"].shape == (2, 1) and nl.probes["layer1/W"].nodes == ("w_l1_n0_j0", "w_l1_n1_j0")
    assert all(n == n.lower() for p in nl.probes.values() for n in p.nodes)
    assert nl.tran == {"step": 1e-4, "stop": 1.0, "max_step": 1e-5, "method": "trap", "reltol": 1e-4,
                       "abstol": 1e-12, "vntol": 1e-7}
    assert nl.circuit.tran.stop == 1.0  # the netlist keeps the circuit it was written from
    assert nl.text.splitlines()[-2] == ".tran 1e-4 1 0 1e-5 uic"
    assert ".options reltol=1e-4 abstol=1e-12 vntol=1e-7 method=trap" in nl.text
    assert "Cw_l1_n0_j0 w_l1_n0_j0 0 1e-9 ic=0.5" in nl.text  # plastic weight starts at its spec value


@pytest.mark.parametrize("name", ["lagnet", "lagline", "hidden"])
def test_golden_netlists_regenerate_identically(name, tmp_path):
    assert main([ "netlist", str(ROOT / f"sims/{name}.toml"), "-o", str(tmp_path / f"{name}.cir")]) == 0
    golden = sorted(p.name for p in (ROOT / "netlists").glob(f"{name}*"))
    assert golden == sorted(p.name for p in tmp_path.iterdir())
    for fname in golden:
        assert (tmp_path / fname).read_bytes() == (ROOT / "netlists" / fname).read_bytes(), fname


def test_command_prints_the_same_summary_as_the_header(tmp_path, capsys):
    assert main(["netlist", str(ROOT / "sims/lagnet.toml"), "-o", str(tmp_path / "n.cir"), "--realization",
                 "passive"]) == 0
    printed = capsys.readouterr().out.splitlines()
    header = [ln[2:] for ln in (tmp_path / "n.cir").read_text().splitlines() if ln.startswith("* ")]
    assert printed[0] == "spec lagnet, passive realization"
    assert printed[:-1] == header[: len(printed) - 1]


# ----------------------------------------------------------------------------
# Every generated netlist runs in ngspice without complaint
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("realization", REALIZATIONS)
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_netlists_run_in_ngspice_without_warnings(path, realization, tmp_path):
    spec = load_spec(path, overrides={"time.duration": 30.0, "time.learn_after": 10.0})
    nl = build_netlist(spec, realization)
    raw = run_ngspice(nl, tmp_path)
    for name, probe in nl.probes.items():
        values = model_values(raw, probe)
        assert np.all(np.isfinite(values)), name
    w = model_values(raw, nl.probes["layer1/W"])
    assert np.allclose(w[0], spec.network.layers[0].weights.ravel())  # initial condition
    assert not np.allclose(w[-1], w[0])  # and it learns after learn_after
    assert np.abs(model_values(raw, nl.probes["target"])).max() > 0.1


def _random_spec(draw) -> dict:
    n_layers = draw(st.integers(1, 3))
    inputs = draw(st.integers(1, 2))
    sizes = [draw(st.integers(1, 3)) for _ in range(n_layers)]
    errors = draw(st.sampled_from(["prospective", "instantaneous", "none"]))
    taus = st.sampled_from([0.1, 0.3, 0.5, 1.0, 2.0])
    phis = st.sampled_from(["tanh", "sigmoid", "softplus", "linear", "relu", "hard_tanh", "hard_sigmoid"])
    layers = []
    layer_phis = [draw(phis) for _ in sizes]
    # gamma != 0 closes the algebraic loop s = W r + gamma e through every layer above (e needs the
    # errors from the top); with a step-shaped phi' (relu, hard_*) anywhere on it the loop can have no
    # solution at all, in the model as in the circuit: gamma only in all-smooth networks
    smooth = all(phi in ("tanh", "sigmoid", "softplus", "linear") for phi in layer_phis)
    for i, n in enumerate(sizes):
        phi = layer_phis[i]
        gamma = draw(st.sampled_from([0.0, 0.1])) if smooth else 0.0
        layer = {"size": n, "tau_m": [draw(taus) for _ in range(n)], "tau_r": [draw(taus) for _ in range(n)],
                 "phi": phi, "gamma": gamma, "init": "normal", "seed": i,
                 "bias": draw(st.sampled_from([0.0, 0.2]))}
        if errors != "none" and draw(st.booleans()):
            layer.update(plastic=True, eta=0.1)
        layers.append(layer)
    raw = {"name": "random", "time": {"dt": 0.01, "duration": 3.0, "learn_after": draw(st.sampled_from([0.0, 1.0]))},
           "input": {"kind": "sines", "omegas": [0.7, 2.1], "phases": [0.3, 0.0]} if draw(st.booleans()) else
           {"kind": "square", "period": 2.0, "smooth_sigma": 0.05},
           "network": {"inputs": inputs, "errors": errors, "layer": layers},
           "teacher": {"layer": [{"size": n, "tau_m": 1.0, "init": "normal", "seed": 9 + i}
                                 for i, n in enumerate(sizes)]},
           "circuit": {"v_scale": draw(st.sampled_from([1.0, 0.1])), "realization": draw(st.sampled_from(REALIZATIONS))}}
    return raw


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_small_networks_run_in_ngspice_without_warnings(tmp_path_factory, data):
    spec = spec_from_dict(_random_spec(data.draw))
    nl = build_netlist(spec)
    raw = run_ngspice(nl, tmp_path_factory.mktemp("rand"))
    for name, probe in nl.probes.items():
        assert np.all(np.isfinite(model_values(raw, probe))), name
    assert nl.summary["counts"]["B"] == expected_b_count(spec)


# ----------------------------------------------------------------------------
# The smallest circuits against analytic answers, in ngspice itself
# ----------------------------------------------------------------------------

TAUS = [(1.0, 0.1), (2.0, 0.5), (1.0, 1.0), (0.2, 1.0)]  # (tau_m, tau_r): lag, lag, equal, lead
AC_REL = 6e-15  # 3× the worst AC error measured over TAUS, both cells, both realizations (2.0e-15)


@pytest.mark.parametrize("realization", REALIZATIONS)
@pytest.mark.parametrize("cell", ["neuron", "error"])
@pytest.mark.parametrize("tau_m,tau_r", TAUS)
def test_cell_ac_response_matches_the_transfer_function(cell, tau_m, tau_r, realization, tmp_path):
    scales = Scales(time_scale=1e-3, v_scale=0.5, c_unit=1e-9)
    nl = bench_netlist(cell_ac_bench(cell, tau_m, tau_r, realization=realization, scales=scales))
    raw = run_ngspice(nl, tmp_path)
    omega = 2 * np.pi * np.real(raw["frequency"]) * scales.time_scale
    assert omega.max() / omega.min() == pytest.approx(1e3)
    num, den = (tau_r, tau_m) if cell == "neuron" else (tau_m, tau_r)
    expected = (1 + 1j * omega * num) / (1 + 1j * omega * den)
    ratio = (raw["v(out)"] / raw["v(in)"]) / expected
    # the README's claim: 2e-15 in magnitude, 1e-15 rad in phase (worst measured 2.0e-15, 1.0e-15)
    assert np.max(np.abs(np.abs(ratio) - 1)) < AC_REL
    assert np.max(np.abs(np.angle(ratio))) < AC_REL
    state = (raw["v(state)"] / raw["v(in)"]) * (1 + 1j * omega * den)  # the state is in/(1 + s tau_den)
    assert np.max(np.abs(state - 1)) < 3 * AC_REL  # measured 3.6e-15


@pytest.mark.parametrize("realization", REALIZATIONS)
@pytest.mark.parametrize("weight", [-1.5, 0.25, 2.0])
def test_static_synapse_dc_transfer_equals_the_weight(weight, realization, tmp_path):
    nl = bench_netlist(synapse_dc_bench(weight, realization=realization, scales=Scales(v_scale=0.2)))
    raw = run_ngspice(nl, tmp_path)
    x = model_values(raw, nl.probes["x"])[:, 0]
    assert len(x) == 9
    for kind in ("u", "uhat", "r"):
        y = model_values(raw, nl.probes[f"layer1/{kind}"])[:, 0]
        np.testing.assert_allclose(y, weight * x, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------
# Behavioural elements: only phi, phi' and products
# ----------------------------------------------------------------------------


def expected_b_count(spec) -> int:
    """Counted independently of the generator: one B per phi, per phi'*eps, per product of plasticity."""
    count = 0
    nets = [(spec.network, spec.network.errors)] + ([(spec.teacher, "none")] if spec.teacher else [])
    gated = spec.time.learn_after > 0
    for net, errors in nets:
        for l, layer in enumerate(net.layers, 1):
            nonlinear = layer.phi != "linear"
            count += layer.size * nonlinear * (2 if errors != "none" else 1)
            if layer.plastic:
                count += layer.weights.size * (3 if l > 1 else 2) + layer.size * (gated and layer.learn_bias)
    return count


@pytest.mark.parametrize("realization", REALIZATIONS)
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_behavioural_elements_are_the_minimum_phi_dphi_and_products(path, realization):
    spec = load_spec(path)
    nl = build_netlist(spec, realization)
    b_lines = [ln for ln in nl.text.splitlines() if ln[:1] in ("B", "b")]
    assert len(b_lines) == nl.summary["counts"]["B"] == nl.summary["b_minimum"] == expected_b_count(spec)
    for line in b_lines:
        name = line.split()[0]
        assert name.split("_")[0] in ("Br", "Bp", "Bw", "Bwt", "Bdw", "Bdb"), line
    assert "ddt(" not in nl.text
    assert f"B {len(b_lines)}" in nl.text.splitlines()[4]  # element counts in the header


def test_lagnet_counts_and_ranges_are_reported():
    nl = build_netlist(load_spec(ROOT / "sims/lagnet.toml"))
    s = nl.summary
    assert s["counts"] == {"R": 31, "C": 17, "G": 38, "E": 0, "B": 16, "sources": 4, "A": 0, "X": 1}
    assert s["ranges"]["R"] == [1e5, 1e14] and s["ranges"]["C"] == [1e-9, 1e-9]
    assert any("leak" in n for n in s["non_idealities"])


# ----------------------------------------------------------------------------
# Bad input: exit 2 naming the neuron and the value
# ----------------------------------------------------------------------------


def test_resistor_above_1e15_ohm_names_the_neuron_and_value(tmp_path, capsys):
    spec_path = tmp_path / "s.toml"
    spec_path.write_text((ROOT / "sims/lagnet.toml").read_text().replace("c_unit = 1e-9", "c_unit = 1e-19"))
    assert main(["netlist", str(spec_path), "-o", str(tmp_path / "n.cir")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "teacher layer 1 neuron 0" in err and "Rmb_l1_n0" in err and "1e+16 Ohm" in err
    assert not (tmp_path / "n.cir").exists()


def test_capacitor_above_1_farad_is_refused():
    spec = load_spec(ROOT / "sims/lagnet.toml", overrides={"circuit.c_unit": 2.0, "circuit.time_scale": 1e6})
    with pytest.raises(NetlistError, match=r"Cm_l1_n0 would be 2 F"):
        build_netlist(spec)


def test_passive_lead_network_that_needs_an_unbuildable_resistor_is_refused():
    spec = load_spec(ROOT / "sims/lagnet.toml", overrides={"network.layer.1.tau_r": [1.0, 1.0 - 1e-13]})
    build_netlist(spec, "ideal")  # the ideal realization builds it
    with pytest.raises(NetlistError, match=r"network layer 1 neuron 1: lag series resistor .* Rm1_l1_n1 would be 1.0\d*e-07 Ohm"):
        build_netlist(spec, "passive")


def test_mismatch_perturbs_r_c_g_reproducibly_by_seed_and_still_runs(tmp_path):
    base = load_spec(ROOT / "sims/lagnet.toml", overrides={"time.duration": 5.0})
    a, b, c = (build_netlist(load_spec(ROOT / "sims/lagnet.toml", overrides={
        "time.duration": 5.0, "circuit.mismatch": 0.01, "circuit.seed": seed})) for seed in (1, 1, 2))
    assert a.text == b.text != c.text != build_netlist(base).text
    assert "Rmb_l1_n0 uhat_l1_n0 u_l1_n0 1e6" in build_netlist(base).text
    assert "Rmb_l1_n0 uhat_l1_n0 u_l1_n0 1e6" not in a.text and "Br_l1_n0 0 r_l1_n0 I=1e-6*tanh(v(uhat_l1_n0))" in a.text
    assert any("mismatch" in n for n in a.summary["non_idealities"])
    run_ngspice(a, tmp_path)


def _unknowns(circuit) -> int:
    """MNA unknowns: every node but ground, plus a branch current per voltage-defined element
    (a subcircuit's internal nodes once: every subcircuit here is instantiated once)."""
    branch = {"vsource", "vcvs", "behavioural_voltage", "ac_vsource"}
    bodies = [(list(sub.elements()), set(sub.ports)) for sub in circuit.subckts]
    bodies.append(([i for i in circuit.items if isinstance(i, Element)], set()))
    return sum(len({n for el in body for n in el.nodes} - {"0"} - ports)
               + sum(el.primitive.name in branch for el in body) for body, ports in bodies)


@pytest.mark.parametrize("errors", ["none", "prospective"])
def test_ideal_neurons_have_three_unknowns_and_no_branch_current(errors):
    """ŭ, u and r per forward neuron (the yardstick's count); with errors q, e and v per error neuron."""
    layer = {"size": 4, "tau_m": 1.0, "tau_r": [0.1, 0.5, 1.0, 2.0], "phi": "tanh", "init": "normal"}
    raw = {"name": "u", "time": {"dt": 0.01, "duration": 1.0}, "input": {"kind": "sines", "omegas": [1.0]},
           "network": {"inputs": 1, "errors": errors, "layer": [{**layer, "seed": 1}, {**layer, "seed": 2}]}}
    if errors != "none":
        raw["teacher"] = {"layer": [{**layer, "seed": 3}, {**layer, "seed": 4}]}
    circuit = build_netlist(spec_from_dict(raw)).circuit
    sin_source = 2  # the input's node and its branch current
    teacher = 3 * 8 if errors != "none" else 0
    per_neuron = 3 if errors == "none" else 6
    assert _unknowns(circuit) - sin_source - teacher == per_neuron * 8
    assert not any(el.primitive.name in ("vcvs", "behavioural_voltage") for el in circuit.elements())
