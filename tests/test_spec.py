"""The spec loader: every example loads; every malformed spec exits 2 with one line naming file and key."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from analogvle.cli import main
from analogvle.compare.learning import output_loss
from analogvle.errors import SpecError
from analogvle.integrate.solve import integrate
from analogvle.model.network import LayerSpec, NetworkSpec
from analogvle.model.settings import CircuitSpec, CompareSpec
from analogvle.model.spec import Spec, TimeSpec, check_fixed_step
from analogvle.model.stimulus import InputSpec
from analogvle.model.toml import load_spec, spec_from_dict
from analogvle.model.trajectory import Trajectory
from analogvle.netlist.netlist import build_netlist

SIMS = Path(__file__).resolve().parent.parent / "sims"

BASE = {
    "name": "tiny",
    "time": {"dt": 0.01, "duration": 1.0},
    "input": {"kind": "sines", "omegas": [1.0]},
    "network": {
        "inputs": 1,
        "layer": [
            {"size": 2, "tau_m": 1.0, "tau_r": [0.5, 1.0], "weights": [[1.0], [0.5]]},
            {"size": 1, "tau_m": 1.0, "phi": "linear", "weights": [[1.0, -1.0]]},
        ],
    },
    "teacher": {"layer": [{"size": 1, "tau_m": 1.0, "weights": [[0.3]]}]},
}


def with_(path: str, value):
    raw = copy.deepcopy(BASE)
    node = raw
    parts = path.split(".")
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
    if value is DELETE:
        del node[parts[-1]]
    elif isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
    return raw


DELETE = object()


@pytest.mark.parametrize("name", ["lagnet", "lagline"])
def test_examples_load(name):
    spec = load_spec(SIMS / f"{name}.toml")
    assert spec.name == name
    assert spec.teacher is not None
    assert spec.network.layers[0].plastic


def test_lagnet_matches_the_paper_setup():
    spec = load_spec(SIMS / "lagnet.toml")
    assert spec.network.sizes == (2, 2, 1)
    np.testing.assert_array_equal(spec.teacher.layers[0].weights, [[-0.5], [1.0]])
    np.testing.assert_array_equal(spec.network.layers[0].tau_r, [1.0, 0.1])
    assert [layer.plastic for layer in spec.network.layers] == [True, False, False]
    assert spec.input.omegas == ((0.49, 1.07, 1.98),)


def test_defaults_and_broadcasting():
    spec = spec_from_dict(BASE)
    assert spec.time.save_dt == spec.time.dt
    assert spec.time.save_times[-1] == pytest.approx(1.0)
    layer = spec.network.layers[0]
    np.testing.assert_array_equal(layer.tau_m, [1.0, 1.0])
    np.testing.assert_array_equal(layer.bias, [0.0, 0.0])
    assert layer.phi == "tanh"
    assert spec.network.layers[1].tau_r[0] == 1.0  # tau_r defaults to tau_m
    assert spec.circuit.g_unit == 1e-6 and spec.simulator.reltol == 1e-4
    assert spec.max_step == 0.01


def test_normal_init_is_seeded_and_scaled():
    raw = with_("network.layer.0", {"size": 50, "tau_m": 1.0, "init": "normal", "seed": 3, "scale": 2.0})
    raw["network"]["layer"][1]["weights"] = [[1.0] * 50]
    a = spec_from_dict(raw).network.layers[0].weights
    b = spec_from_dict(raw).network.layers[0].weights
    np.testing.assert_array_equal(a, b)
    assert a.shape == (50, 1)
    assert np.std(a) == pytest.approx(2.0, rel=0.3)


def test_overrides_use_dotted_keys_with_one_based_layers():
    spec = spec_from_dict(BASE, overrides={"network.layer.2.tau_m": 3.0, "time.duration": 2.0})
    assert spec.network.layers[1].tau_m[0] == 3.0
    assert spec.time.n_steps == 200


BAD = [
    (with_("network.layer.0.wieghts", [[1.0]]), "network.layer.1.wieghts", "unknown key"),
    (with_("timee", {}), "timee", "unknown key"),
    (with_("network.layer.0.weights", [[1.0, 2.0], [0.5, 1.0]]), "network.layer.1.weights", "2 × 1"),
    (with_("network.layer.1.weights", [[1.0]]), "network.layer.2.weights", "1 × 2"),
    (with_("network.layer.0.tau_m", -1.0), "network.layer.1.tau_m", "positive"),
    (with_("network.layer.0.tau_m", 0.0), "network.layer.1.tau_m", "positive"),
    (with_("network.layer.0.tau_r", [0.5, float("nan")]), "network.layer.1.tau_r[1]", "finite"),
    (with_("network.layer.0.tau_m", float("inf")), "network.layer.1.tau_m", "finite"),
    (with_("network.layer.0.tau_r", [0.5]), "network.layer.1.tau_r", "one per neuron"),
    (with_("network.layer.0.phi", "tanhh"), "network.layer.1.phi", "tanh"),
    (with_("network.errors", "sometimes"), "network.errors", "prospective"),
    (with_("input.kind", "noise"), "input.kind", "sines"),
    (with_("input", {"kind": "file", "path": "nope.npy"}), "input.path", "file not found"),
    (with_("time.dt", "0.01"), "time.dt", "number"),
    (with_("time.save_dt", 0.015), "time.save_dt", "multiple"),
    (with_("network.layer.0.size", 0), "network.layer.1.size", ">= 1"),
    (with_("teacher.layer", [{"size": 2, "tau_m": 1.0, "weights": [[0.3], [0.2]]}]), "teacher.layer.1.size",
     "output size 1"),
    (with_("teacher", DELETE), "network.errors", "needs a [teacher]"),
    (with_("network.layer.0.plastic", True), "network.layer.1.eta", "learning rate"),
    (with_("circuit", {"g_unit": 0}), "circuit.g_unit", "positive"),
    (with_("simulator", {"backend": "xyce"}), "simulator.backend", "shared"),
    (with_("name", "my lag/net"), "name", "file-name safe"),
]


@pytest.mark.parametrize("raw,key,expected", BAD, ids=[b[1] for b in BAD])
def test_bad_spec_names_key_and_expectation(raw, key, expected):
    with pytest.raises(SpecError) as info:
        spec_from_dict(raw, source="bad.toml")
    message = str(info.value)
    assert message.startswith(f"bad.toml: {key}:"), message
    assert expected in message
    assert "\n" not in message


def test_tau_below_dt_rejected_for_fixed_step_methods_only():
    spec = spec_from_dict(with_("network.layer.0.tau_r", [0.001, 1.0]), source="s.toml")
    check_fixed_step(spec, "adaptive")
    with pytest.raises(SpecError, match=r"s.toml: network.layer.1.tau_r: expected >= dt = 0.01"):
        check_fixed_step(spec, "rk4")


def test_cli_exits_2_with_one_line_for_bad_spec(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text((SIMS / "lagnet.toml").read_text().replace("tau_m = 1.0\nphi", "tau_m = -1.0\nphi", 1))
    out = tmp_path / "ref.npz"
    code = main(["reference", str(bad), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "network.layer.3.tau_m" in err and str(bad) in err
    assert not out.exists()


def test_cli_exits_2_for_missing_and_malformed_files(tmp_path, capsys):
    assert main(["reference", str(tmp_path / "none.toml"), "-o", str(tmp_path / "o.npz")]) == 2
    assert "spec file not found" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    assert main(["reference", str(broken), "-o", str(tmp_path / "o.npz")]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_file_input_is_loaded_relative_to_the_spec(tmp_path):
    np.save(tmp_path / "x.npy", np.linspace(0, 1, 101))
    spec_path = tmp_path / "f.toml"
    spec_path.write_text(
        'name = "f"\n[time]\ndt = 0.01\nduration = 1.0\n[input]\nkind = "file"\npath = "x.npy"\n'
        '[network]\ninputs = 1\nerrors = "none"\n[[network.layer]]\nsize = 1\ntau_m = 1.0\nweights = [[1.0]]\n'
    )
    spec = load_spec(spec_path)
    assert spec.input.data.shape == (101, 1)
    short = tmp_path / "short.npy"
    np.save(short, np.zeros(50))
    spec_path.write_text(spec_path.read_text().replace("x.npy", "short.npy"))
    with pytest.raises(SpecError, match="input.path: expected at least 101 samples"):
        load_spec(spec_path)


# ----------------------------------------------------------------------------
# A Spec built in Python: validated on construction, the one truth downstream
# ----------------------------------------------------------------------------


def python_lagnet(**network) -> Spec:
    """The GLE paper's LagNet, built in Python: only W1 learns, no biases."""
    hidden = {"tau_m": 1.0, "tau_r": [1.0, 0.1], "phi": "tanh"}
    student = (LayerSpec(size=2, weights=[[0.5], [-0.5]], gamma=1e-3, plastic=True, eta=0.02, learn_bias=False,
                         **hidden),
               LayerSpec(size=2, weights=[[0.5, 0.0], [0.0, 1.0]], gamma=1e-3, **hidden),
               LayerSpec(size=1, tau_m=1.0, phi="linear", weights=[[0.5, 1.0]]))
    teacher = (LayerSpec(size=2, weights=[[-0.5], [1.0]], **hidden),
               LayerSpec(size=2, weights=[[0.5, 0.0], [0.0, 1.0]], **hidden),
               LayerSpec(size=1, tau_m=1.0, phi="linear", weights=[[0.5, 1.0]]))
    return Spec(name="lagnet", time=TimeSpec(dt=0.01, duration=5.0, save_dt=0.1),
                input=InputSpec(kind="sines", omegas=[0.49, 1.07, 1.98]),
                network=NetworkSpec(inputs=1, layers=student, **network),
                teacher=NetworkSpec(inputs=1, layers=teacher, errors="none"))


def test_python_spec_equals_the_toml_one_with_the_same_content():
    toml = load_spec(SIMS / "lagnet.toml", overrides={"time.duration": 5.0, "time.learn_after": 0.0})
    assert python_lagnet() == replace(toml, circuit=CircuitSpec(), compare=replace(toml.compare,
                                                                                  signals=CompareSpec().signals))


@pytest.mark.parametrize("build,key,expected", [
    (lambda: NetworkSpec(inputs=1, layers=(LayerSpec(size=2, tau_m=1.0, weights=[[1, 2, 3], [4, 5, 6]]),)),
     "layer.1.weights", "2 × 1 (size × fan-in), got 2 × 3"),
    (lambda: LayerSpec(size=1, tau_m=1.0, phi="tanhh", weights=[[1.0]]), "phi", "'tanh'"),
    (lambda: LayerSpec(size=2, tau_m=[1.0, -1.0], weights=[[1.0], [1.0]]), "tau_m[1]", "positive"),
    (lambda: TimeSpec(dt=0.01, duration=1.005), "duration", "whole number of steps"),
    (lambda: CircuitSpec(realization="sky131"), "realization", "'ideal'"),
    (lambda: replace(python_lagnet(), name=".."), "name", "file-name safe"),
    (lambda: python_lagnet(beta=-1.0), "beta", "non-negative"),
    (lambda: replace(python_lagnet(), teacher=None), "network.errors", "needs a [teacher]"),
])
def test_python_built_specs_are_validated_on_construction(build, key, expected):
    with pytest.raises(SpecError) as info:
        build()
    assert info.value.key == key and expected in str(info.value) and "\n" not in str(info.value)


def test_replacing_beta_changes_the_loss_the_comparison_uses():
    spec = python_lagnet()
    half = replace(spec, network=replace(spec.network, beta=0.5))
    ref, ref_half = (integrate(s, "rk4") for s in (spec, half))
    assert ref.spec.network.beta == 1.0 and ref_half.spec.network.beta == 0.5
    loss, loss_half = output_loss(ref), output_loss(ref_half)
    nonzero = loss > 1e-6
    assert nonzero.sum() > 10
    # the same output error weighs half as much with half the beta (and nudges half as hard)
    assert not np.allclose(loss_half[nonzero], loss[nonzero])
    assert output_loss(replace_spec(ref, half)).tolist() == (0.5 * loss).tolist()


def replace_spec(traj, spec):
    return Trajectory(t=traj.t, signals=traj.signals, meta=traj.meta, spec=spec)


@pytest.mark.parametrize("method", ["adaptive", "rk4", "gle-euler"])
def test_learn_bias_false_learns_weights_and_keeps_biases(method):
    spec = python_lagnet()
    traj = integrate(spec, method)
    assert "layer1/W" in traj and "layer1/b" not in traj
    assert np.max(np.abs(traj["layer1/W"][-1] - traj["layer1/W"][0])) > 1e-4
    with_bias = replace(spec, network=replace(spec.network, layers=(
        replace(spec.network.layers[0], learn_bias=True), *spec.network.layers[1:])))
    other = integrate(with_bias, method)
    assert np.max(np.abs(other["layer1/b"][-1])) > 1e-4  # it would have learned a bias
    assert not np.array_equal(other["layer1/W"], traj["layer1/W"])


def test_learn_bias_false_builds_no_bias_capacitor():
    text = build_netlist(python_lagnet()).text
    assert "Cw_l1_n0_j0" in text and "Cb_l1_n0" not in text and "Gb_l1_n0" not in text
    assert "Bdb_" not in text and "Gdb_" not in text
