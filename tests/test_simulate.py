"""Simulation against real ngspice: both backends, mapping to model units, failures, memory.

No simulator is mocked in these tests; only ``failure_message`` (a parser) is
fed hand-written lines.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from analogvle.circuit.ir import Circuit, Dc, Sin, Tran, bcurrent, capacitor, instance, resistor, vsource
from analogvle.circuit.probes import Probe
from analogvle.errors import SimulationError
from analogvle.integrate.solve import integrate
from analogvle.model.expr import Node, Scaled, product
from analogvle.model.toml import load_spec, spec_from_dict
from analogvle.model.trajectory import load_trajectory
from analogvle.netlist.netlist import Netlist, build_netlist, write_circuit
from analogvle.simulate import run as sim
from analogvle.simulate import shared
from analogvle.simulate.shared import failure_message, get_shared, library_candidates

BACKENDS = ("shared", "subprocess")
LAGNET = "sims/lagnet.toml"
DURATION = 100.0  # model time units: long enough for the errors to settle, short enough for CI
FORWARD_NRMSE = 3e-5  # 3× the worst measured on LagNet's forward path (9.5e-6, both backends)
ERRORS_NRMSE = 8e-5  # 3× the worst measured with errors on (2.55e-5; README: 2.6e-5)


def _spec(duration: float = 10.0, save_dt: float = 0.1):
    """A minimal spec: only its time grid and name matter for hand-written netlists."""
    return spec_from_dict(
        {
            "name": "rc",
            "time": {"dt": 0.01, "duration": duration, "save_dt": save_dt},
            "input": {"kind": "sines", "omegas": [1.0]},
            "network": {"inputs": 1, "errors": "none",
                        "layer": [{"size": 1, "tau_m": 1.0, "phi": "linear", "weights": [[1.0]]}]},
        }
    )


def _rc_netlist(duration: float = 10.0, body: list | None = None, name: str = "rc",
                probes: dict[str, Probe] | None = None) -> Netlist:
    """RC low-pass (tau = RC = 1 ms = 1 model unit) driven by sin(t), t in model units (1 ms).

    Exact: u(t) = (sin t - cos t + e^-t) / 2. Voltages are 0.5 V + 2 V per unit
    (offset and scale exercise the mapping).
    """
    circuit = Circuit(name)
    for el in body or [vsource("V1", "in", "0", Sin(0.5, 2.0, 1e3 / (2 * np.pi))), resistor("R1", "in", "out", 1e3),
                       capacitor("C1", "out", "0", 1e-6, 0.5)]:
        circuit.add(el)
    circuit.options = {"reltol": 1e-6, "abstol": 1e-12, "vntol": 1e-9, "method": "trap"}
    circuit.analyses = [Tran(1e-5, duration * 1e-3, 1e-5)]
    probes = probes or {"x": Probe(("in",), (1,), 2.0, 0.5), "layer1/u": Probe(("out",), (1,), 2.0, 0.5)}
    return write_circuit(name, circuit, probes, 1e-3, {})


def _nrmse(circuit: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per component: RMS(difference) / peak-to-peak(reference)."""
    flat_c = circuit.reshape(len(circuit), -1)
    flat_r = reference.reshape(len(reference), -1)
    return np.sqrt(np.mean((flat_c - flat_r) ** 2, axis=0)) / np.ptp(flat_r, axis=0)


# ----------------------------------------------------------------------------
# Hand-written circuits with exact answers
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_rc_lowpass_maps_to_model_units_and_matches_the_exact_solution(backend):
    traj = sim.simulate(_spec(), backend=backend, netlist=_rc_netlist(), progress=False)
    t = traj.t
    np.testing.assert_allclose(t, np.arange(101) * 0.1)
    assert traj["layer1/u"].shape == (101, 1) and traj["x"].shape == (101, 1)
    # linear resampling between ngspice's points (h <= max_step = 0.01) errs by <= h^2/8 |f''| <= 1.25e-5
    np.testing.assert_allclose(traj["x"][:, 0], np.sin(t), atol=1.5e-5)
    exact = (np.sin(t) - np.cos(t) + np.exp(-t)) / 2
    assert np.abs(traj["layer1/u"][:, 0] - exact).max() < 1.5e-5
    producer = traj.meta["producer"]
    assert producer["kind"] == "circuit" and producer["backend"] == backend
    assert producer["ngspice_version"] >= 39 and producer["options"]["max_step"] == 1e-5
    assert traj.meta["wall_time"] > 0


def test_backends_agree_to_1e_9_on_the_same_netlist():
    net = _rc_netlist()
    a, b = (sim.simulate(_spec(), backend=k, netlist=net, progress=False) for k in BACKENDS)
    for name in a.signals:
        assert np.abs(a[name] - b[name]).max() <= 1e-9, name


def test_matrix_probe_is_reshaped_row_major():
    body = [el for k in range(6) for el in (vsource(f"V{k}", f"n{k}", "0", Dc(k)), resistor(f"R{k}", f"n{k}", "0", 1e3))]
    net = _rc_netlist(body=body, probes={"layer1/W": Probe(tuple(f"n{k}" for k in range(6)), (2, 3), 0.5, 1.0)})
    traj = sim.simulate(_spec(), backend="shared", netlist=net, progress=False)
    assert traj["layer1/W"].shape == (101, 2, 3)
    np.testing.assert_allclose(traj["layer1/W"][7], (np.arange(6).reshape(2, 3) - 1.0) / 0.5)


def test_progress_bar_goes_to_stderr_only_when_asked(capsys, monkeypatch):
    sim.simulate(_spec(), backend="shared", netlist=_rc_netlist(), progress=False)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sim, "PROGRESS_DELAY", 0.0)
    sim.simulate(_spec(), backend="subprocess", netlist=_rc_netlist(), progress=True)
    captured = capsys.readouterr()
    assert "ngspice rc" in captured.err and captured.out == ""


# ----------------------------------------------------------------------------
# Failures are never silent
# ----------------------------------------------------------------------------

RC = [vsource("V1", "in", "0", Dc(1.0)), resistor("R1", "in", "out", 1e3), capacitor("C1", "out", "0", 1e-6)]
FLOATING = [*RC, resistor("R2", "y", "z", 1e3)]  # y, z: no path to ground
SOURCE_LOOP = [*RC, vsource("V2", "in", "0", Dc(2.0))]  # two sources on one node
ESCAPE = [vsource("V1", "in", "0", Dc(0.0)), resistor("R1", "in", "0", 1e3),  # a finite-time blow-up
          bcurrent("B1", "out", Scaled(1e-3, product(Node("out"), Node("out")) + 1.0)),
          capacitor("C1", "out", "0", 1e-9, 1.0)]
BAD_CARD = [*RC, instance("X1", ("a", "b"), "no_such_model")]  # an instance of a model nobody defined


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (FLOATING, r"singular matrix.*check node [yz]|Timestep too small"),
        (SOURCE_LOOP, r"singular matrix|Timestep too small"),
        (ESCAPE, r"Timestep too small.*trouble with node \"?out"),
        (BAD_CARD, r"no_such_model|circuit not parsed"),
    ],
    ids=["floating-node", "voltage-source-loop", "timestep-too-small", "bad-card"],
)
def test_broken_circuits_raise_simulation_error_with_ngspices_message(backend, body, message):
    with pytest.raises(SimulationError, match=message) as info:
        sim.run_netlist(_rc_netlist(body=body), backend)
    assert "\n" not in str(info.value) and info.value.exit_code == 3


def test_shared_library_keeps_working_after_failures():
    with pytest.raises(SimulationError):
        sim.run_netlist(_rc_netlist(body=SOURCE_LOOP), "shared")
    with pytest.raises(SimulationError):
        sim.run_netlist(_rc_netlist(body=BAD_CARD), "shared")
    run = sim.run_netlist(_rc_netlist(), "shared")
    assert run.vectors["time"][-1] == pytest.approx(1e-2)


def test_missing_ngspice_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SimulationError, match=r"apt-get install ngspice libngspice0"):
        sim.run_netlist(_rc_netlist(), "subprocess")


def test_missing_shared_library_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(shared, "library_candidates", lambda: ["/nonexistent/libngspice.so.0"])
    with pytest.raises(SimulationError, match=r"not found.*apt-get install ngspice libngspice0"):
        shared.find_library()
    assert any("libngspice" in name for name in library_candidates())


def test_failure_message_is_one_line_of_ngspices_own_words():
    lines = [
        "Note: No compatibility mode selected!",
        "Warning: singular matrix:  check node z",
        "Warning: singular matrix:  check node z",
        "Trying gmin =   1.0000E-03 Note: One successful gmin step",
        "Reference value :  1.00535e-06\r",
        'doAnalyses: TRAN:  Timestep too small; time = 1e-16, timestep = 1.25e-17: cause unrecorded.',
        "run simulation(s) aborted",
        "Using SPARSE 1.3 as Direct Linear Solver",
    ]
    assert failure_message(lines) == (
        "Warning: singular matrix: check node z; doAnalyses: TRAN: Timestep too small; time = 1e-16, "
        "timestep = 1.25e-17: cause unrecorded.; run simulation(s) aborted"
    )
    assert failure_message(["x" * 50 + " error"] * 1 + [f"error {i}" for i in range(100)], limit=80).endswith("...")


# ----------------------------------------------------------------------------
# Memory: the shared library is reset between runs
# ----------------------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_consecutive_shared_runs_do_not_grow_memory():
    net = _rc_netlist(duration=2.0)
    for _ in range(20):  # warm up allocator pools
        sim.run_netlist(net, "shared")
    before = _rss_mb()
    runs = 200
    for _ in range(runs):
        sim.run_netlist(net, "shared")
    growth_kb_per_run = (_rss_mb() - before) * 1024 / runs
    assert growth_kb_per_run < 20, f"{growth_kb_per_run:.1f} kB per run (1,000 runs would add {growth_kb_per_run:.0f} MB)"
    assert get_shared().version >= 39


# ----------------------------------------------------------------------------
# The LagNet circuit against the adaptive reference
# ----------------------------------------------------------------------------


def _lagnet(errors: bool, **extra):
    overrides = {"time.duration": DURATION, "network.layer.1.plastic": False, **extra}
    if not errors:
        overrides["network.errors"] = "none"
    return load_spec(LAGNET, overrides=overrides)


def _check_against_reference(spec, kinds: tuple[str, ...], bound: float):
    ref = integrate(spec, method="adaptive")
    net = build_netlist(spec)
    trajs = {b: sim.simulate(spec, backend=b, netlist=net, progress=False) for b in BACKENDS}
    names = [f"layer{i}/{k}" for i in range(1, len(spec.network.layers) + 1) for k in kinds]
    worst = {}
    for name in names:
        for backend, traj in trajs.items():
            worst[(name, backend)] = float(_nrmse(traj[name], ref[name]).max())
        assert np.abs(trajs["shared"][name] - trajs["subprocess"][name]).max() <= 1e-9, name
    bad = {k: v for k, v in worst.items() if v > bound}
    assert not bad, f"NRMSE above {bound}: {bad}"
    return trajs["shared"], net


def test_lagnet_forward_circuit_matches_the_adaptive_reference_on_both_backends():
    traj, net = _check_against_reference(_lagnet(errors=False), ("r", "uhat"), FORWARD_NRMSE)
    # the options the spec gave reach ngspice unchanged: no step is longer than max_step
    run = sim.run_netlist(net, "shared")
    assert np.diff(run.vectors["time"]).max() <= net.tran["max_step"] * (1 + 1e-9)
    assert traj.meta["producer"]["options"] == net.tran


def test_lagnet_circuit_with_errors_matches_the_adaptive_reference_on_both_backends():
    # gamma = 0: with gamma != 0 the reference's algebraic-loop solve fails (see test below)
    spec = _lagnet(errors=True, **{"network.layer.1.gamma": 0.0, "network.layer.2.gamma": 0.0})
    _check_against_reference(spec, ("r", "uhat", "e"), ERRORS_NRMSE)


def test_lagnet_circuit_with_errors_and_gamma_matches_the_adaptive_reference():
    _check_against_reference(_lagnet(errors=True), ("r", "uhat", "e"), ERRORS_NRMSE)


def test_cli_simulate_writes_the_trajectory_file(tmp_path):
    spec_file = tmp_path / "small.toml"
    spec_file.write_text(
        'name = "small"\n[time]\ndt = 0.01\nduration = 5.0\nsave_dt = 0.1\n'
        '[input]\nkind = "sines"\nomegas = [1.0]\n'
        '[network]\ninputs = 1\nerrors = "none"\n'
        '[[network.layer]]\nsize = 2\ntau_m = 1.0\ntau_r = [1.0, 0.1]\nphi = "tanh"\nweights = [[0.5], [-1.0]]\n'
    )
    out = tmp_path / "circ.npz"
    proc = subprocess.run(
        [sys.executable, "-m", "analogvle", "simulate", str(spec_file), "-o", str(out), "--backend", "subprocess"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout and proc.stdout.count("\n") == 1
    traj = load_trajectory(out)
    assert traj["layer1/r"].shape == (51, 2) and traj.meta["producer"]["backend"] == "subprocess"
