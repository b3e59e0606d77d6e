"""Non-idealities (analogvle/circuit/nonideal.py, circuit/passes.apply_mismatch), each checked in real ngspice
for the effect it must have. With beta = 0 the error is exactly 0 V, so a weight moves only through the
non-ideality under test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analogvle.circuit.benches import Bench, synapse_dc_bench
from analogvle.circuit.ir import Samples
from analogvle.circuit.nonideal import RAIL_STIFFNESS, NonIdeal
from analogvle.errors import NetlistError, SpecError
from analogvle.model.toml import load_spec, spec_from_dict
from analogvle.netlist.netlist import bench_netlist, build_netlist
from analogvle.netlist.ngspice import NgspiceWriter
from analogvle.simulate.batch import run_analysis
from analogvle.simulate.run import simulate

ROOT = Path(__file__).resolve().parents[1]
LAGNET = ROOT / "sims/lagnet.toml"
REALIZATIONS = ("ideal", "passive")
# the weights learn only through the switch under test: no error (beta = 0), plasticity from t = 0
QUIET = {"network.beta": 0.0, "time.learn_after": 0.0}


def lagnet(**overrides) -> object:
    return load_spec(LAGNET, {**QUIET, **{k.replace("__", "."): v for k, v in overrides.items()}})


def run_dc(bench: Bench, tmp_path: Path) -> dict[str, np.ndarray]:
    """Run a DC bench with Newton converged far below ngspice's default reltol = 1e-3 (flat tanh regions)."""
    bench.circuit.options = {"reltol": 1e-9, "vntol": 1e-12}
    return run_analysis(bench_netlist(bench).write(tmp_path / "dc.cir"))


def static_net(noise: float = 0.0, seed: int = 0, noise_dt: float | None = None, duration: float = 100.0,
               width: int = 1) -> object:
    """x → ``width`` linear neurons with τr = τm (so ŭ = s = W x + noise), no errors."""
    circuit = {"noise": noise, "seed": seed} | ({"noise_dt": noise_dt} if noise_dt else {})
    return spec_from_dict({
        "name": "static", "time": {"dt": 0.01, "duration": duration, "save_dt": 0.1},
        "input": {"kind": "sines", "omegas": [0.49, 1.07]},
        "network": {"inputs": 1, "errors": "none",
                    "layer": [{"size": width, "tau_m": 1.0, "phi": "linear", "weights": [[0.7]] * width}]},
        "circuit": circuit,
    })


# ----------------------------------------------------------------------------
# Spec switches
# ----------------------------------------------------------------------------


def test_every_switch_is_off_by_default_and_adds_nothing():
    spec = load_spec(LAGNET)
    assert NonIdeal.from_spec(spec) == NonIdeal(noise_dt=spec.time.save_dt, dt=spec.time.dt)
    text = build_netlist(spec).text
    assert all(f"{p}_" not in text for p in ("Rso", "Rqo", "Gnz", "Bwr", "Bbr")) and "Anz" not in text


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("leak_tau", 0.0, "expected a positive number"),
    ("g_out_ratio", -0.1, "expected a non-negative number"),
    ("synapse_linear_range", "wide", "expected a number"),
    ("multiplier_offset", True, "expected a number"),
    ("weight_rail", -1.0, "expected a positive number"),
    ("noise", -0.01, "expected a non-negative number"),
    ("noise_dt", 0, "expected a positive number"),
    ("leak", 1.0, "unknown key"),
])
def test_bad_switch_is_one_line_naming_the_key(key, value, expected):
    with pytest.raises(SpecError) as err:
        load_spec(LAGNET, {f"circuit.{key}": value})
    message = str(err.value)
    assert f"circuit.{key}" in message and expected in message and "\n" not in message


def test_active_switches_are_reported_in_the_netlist_summary():
    spec = lagnet(circuit__g_out_ratio=0.1, circuit__synapse_linear_range=2.0, circuit__multiplier_offset=0.01,
                  circuit__weight_rail=1.0, circuit__noise=0.01, circuit__leak_tau=50.0)
    notes = " | ".join(build_netlist(spec).summary["non_idealities"])
    for word in ("output resistance", "tanh", "offset", "rails", "noise", "time constant 50 model time units"):
        assert word in notes


# ----------------------------------------------------------------------------
# Effects, in ngspice
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("realization", REALIZATIONS)
def test_leak_decays_a_stored_weight_with_time_constant_leak_tau(realization):
    tau = 20.0
    traj = simulate(lagnet(time__duration=40.0, circuit__leak_tau=tau), realization=realization, progress=False)
    w = traj.signals["layer1/W"][:, 0, 0]  # starts at 0.5
    slope, intercept = np.polyfit(traj.t, np.log(w), 1)
    assert -1.0 / slope == pytest.approx(tau, rel=1e-2)
    assert np.exp(intercept) == pytest.approx(0.5, rel=1e-3)


def test_multiplier_offset_makes_weights_drift_at_eta_times_offset():
    eta, offset = 0.5, 0.04
    traj = simulate(lagnet(time__duration=20.0, network__layer__1__eta=eta, circuit__multiplier_offset=offset),
                    progress=False)
    w = traj.signals["layer1/W"][:, :, 0]
    for k in range(2):
        slope = np.polyfit(traj.t, w[:, k], 1)[0]
        assert slope == pytest.approx(eta * offset, rel=1e-3)
    plain = simulate(lagnet(time__duration=20.0, network__layer__1__eta=eta), progress=False)
    assert np.max(np.abs(plain.signals["layer1/W"] - plain.signals["layer1/W"][0])) < 1e-6


def test_rails_clip_a_drifting_weight_at_the_rail():
    rail, eta, offset, dt = 0.8, 1.0, 0.1, 0.01
    traj = simulate(lagnet(time__duration=20.0, network__layer__1__eta=eta, circuit__multiplier_offset=offset,
                           circuit__weight_rail=rail), progress=False)
    w = traj.signals["layer1/W"][:, :, 0]  # W0 = 0.5 and -0.5, both drifting up at 0.1 per time unit
    overshoot = eta * offset * dt * RAIL_STIFFNESS  # learning current / clamp conductance, model units
    assert np.max(w) <= rail + 2 * overshoot
    assert np.allclose(w[-1], rail, atol=2 * overshoot)
    before = traj.t < 2.5  # W[0] reaches the rail at t = 3
    assert np.allclose(w[before, 0], 0.5 + eta * offset * traj.t[before], atol=1e-5)


@pytest.mark.parametrize("realization", REALIZATIONS)
def test_output_resistance_scales_the_static_synapse_dc_gain_by_1_over_1_plus_ratio(realization, tmp_path):
    weight, ratio = 1.5, 0.05
    nl = synapse_dc_bench(weight, realization=realization, nonideal=NonIdeal(g_out_ratio=ratio))
    raw = run_dc(nl, tmp_path)
    x, r = raw["v(x_n0)"], raw["v(r_l1_n0)"]
    gain = np.polyfit(x, r, 1)[0]
    assert gain == pytest.approx(weight / (1 + ratio), rel=1e-6)


@pytest.mark.parametrize("realization", REALIZATIONS)
def test_tanh_synapse_saturates_at_g_times_linear_range(realization, tmp_path):
    weight, v_l = 2.0, 0.25
    nl = synapse_dc_bench(weight, realization=realization, nonideal=NonIdeal(synapse_linear_range=v_l),
                          sweep=(-2.0, 2.0, 0.1))
    raw = run_dc(nl, tmp_path)
    x, r = raw["v(x_n0)"], raw["v(r_l1_n0)"]
    assert np.allclose(r, weight * v_l * np.tanh(x / v_l), rtol=1e-6, atol=1e-9)
    assert np.max(np.abs(r)) == pytest.approx(weight * v_l, rel=1e-5)  # x = 2 is 8 V_L: tanh(8) = 1 - 2e-7


@pytest.mark.parametrize("backend", ["shared", "subprocess"])
def test_noise_is_seeded_and_has_the_requested_rms(backend):
    sigma = 0.05
    clean = simulate(static_net(), backend=backend, progress=False).signals["layer1/uhat"][:, 0]
    a, b, c = (simulate(static_net(sigma, seed), backend=backend, progress=False).signals["layer1/uhat"][:, 0]
               for seed in (3, 3, 4))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)
    for noisy in (a, c):
        # 1001 independent samples: the RMS estimate's relative sd is 1/sqrt(2*1001) = 2.2 %; 10 % is 4.5 sd
        assert np.sqrt(np.mean((noisy - clean) ** 2)) == pytest.approx(sigma, rel=0.1)
    assert np.corrcoef(a - clean, c - clean)[0, 1] < 0.15  # different seeds: independent noise


def test_wide_noise_is_split_into_filesource_lines_ngspice_reads_whole(tmp_path):
    """ngspice's filesource reads a data line into 512 bytes: 40 noise columns go in files of 16, and every
    neuron gets its own column's noise at the requested RMS (a long line read in pieces would garble it)."""
    sigma, width = 0.05, 40
    spec = static_net(sigma, 2, width=width)
    files = build_netlist(spec).files()
    assert len([f for f in files if "noise" in f]) == 3
    assert max(len(line) for text in files.values() for line in text.splitlines()) < 512
    clean = simulate(static_net(), progress=False).signals["layer1/uhat"][:, 0]
    noise = simulate(spec, progress=False).signals["layer1/uhat"] - clean[:, None]
    assert np.allclose(np.sqrt(np.mean(noise**2, axis=0)), sigma, rtol=0.15)
    corr = np.corrcoef(noise.T)[np.triu_indices(width, 1)]
    assert np.max(np.abs(corr)) < 0.2


def test_a_data_line_filesource_cannot_read_whole_is_refused():
    wide = Samples(np.zeros((3, 40)) + 1.2345678901234567e-3, 0.1, 1.0, 1e-3, "wide.txt")
    with pytest.raises(NetlistError, match="512|511"):
        NgspiceWriter().format_samples(wide)


def test_noise_dt_sets_the_bandwidth():
    """Samples every noise_dt, linear in between: the noise is correlated over noise_dt, not beyond."""
    clean = simulate(static_net(duration=200.0), progress=False).signals["layer1/uhat"][:, 0]
    noisy = simulate(static_net(0.05, 1, noise_dt=1.0, duration=200.0), progress=False).signals["layer1/uhat"][:, 0]
    n = noisy - clean
    lag = 5  # 0.5 time units at save_dt = 0.1: the linear interpolation's autocorrelation is 1 - 3/2·0.5 + ... ≈ 0.53
    rho_half = np.corrcoef(n[:-lag], n[lag:])[0, 1]
    rho_two = np.corrcoef(n[:-20], n[20:])[0, 1]  # 2 time units: independent samples
    assert 0.35 < rho_half < 0.75 and abs(rho_two) < 0.2


def test_mismatch_is_per_seed_with_the_requested_sigma():
    sigma = 0.05
    raw = {
        "name": "wide", "time": {"dt": 0.01, "duration": 1.0},
        "input": {"kind": "sines", "omegas": [1.0]},
        "network": {"inputs": 1, "errors": "none", "layer": [
            {"size": 20, "tau_m": 1.0, "tau_r": 0.5, "init": "normal", "seed": 1},
            {"size": 20, "tau_m": 1.0, "tau_r": 0.5, "init": "normal", "seed": 2}]},
    }

    def values(seed: int | None) -> dict[str, float]:
        circuit = {} if seed is None else {"mismatch": sigma, "seed": seed}
        nl = build_netlist(spec_from_dict({**raw, "circuit": circuit}))
        return {ln.split()[0]: float(ln.split()[3 if ln[0] == "C" or ln[0] == "R" else 5].split("*")[0])
                for ln in nl.text.splitlines() if ln[:1] in ("R", "C", "G")} | {"_text": nl.text}

    nominal, a, b, c = values(None), values(1), values(1), values(2)
    assert a["_text"] == b["_text"] and a["_text"] != c["_text"]
    for run in (a, c):
        ratios = np.array([run[k] / nominal[k] - 1.0 for k in nominal if k != "_text"])
        assert len(ratios) > 400
        # sd of a sample sd from n normals is sigma/sqrt(2n) (~3 % here): 15 % is 5 sd
        assert np.std(ratios) == pytest.approx(sigma, rel=0.15)
        assert abs(np.mean(ratios)) < 5 * sigma / np.sqrt(len(ratios))
        assert all(run[k] != nominal[k] for k in nominal if k != "_text")


def test_mismatch_perturbs_the_gains_of_behavioural_synapses_but_not_rates():
    def b_lines(spec) -> dict[str, str]:
        return {ln.split()[0]: ln for ln in build_netlist(spec).text.splitlines() if ln[:1] == "B"}

    nominal = b_lines(load_spec(LAGNET))
    mis = b_lines(load_spec(LAGNET, {"circuit.mismatch": 0.05, "circuit.seed": 7}))
    assert nominal.keys() == mis.keys()
    changed = {name for name in nominal if nominal[name] != mis[name]}
    assert {"Bw_l1_n0_j0", "Bw_l1_n1_j0", "Bdw_l1_n0_j0", "Bdw_l1_n1_j0"} <= changed
    assert not any(name.startswith(("Br_", "Bp_")) for name in changed)
