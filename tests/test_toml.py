"""TOML ⇄ Spec (analogvle/model/toml.py): every example and random valid specs round-trip exactly."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analogvle.errors import SpecError
from analogvle.model.network import LayerSpec, NetworkSpec
from analogvle.model.settings import SOLVERS, CircuitSpec, CompareSpec, SimulatorSpec
from analogvle.model.spec import Spec, TimeSpec
from analogvle.model.stimulus import InputSpec, TargetSpec
from analogvle.model.task import EVALUATE_ON, INITS, LOSSES, OPTIMIZERS, SCHEDULES, TaskSpec, TrainSpec
from analogvle.model.toml import SCHEMA, dump_spec, dumps_spec, load_spec, spec_from_dict, spec_to_dict
from analogvle.registry import BACKENDS, REALIZATIONS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "sims").glob("*.toml")) + [ROOT / "tests/data/gle_code_parity2.toml"]


def test_every_example_round_trips_exactly(tmp_path):
    for path in EXAMPLES:
        spec = load_spec(path)
        again = load_spec(dump_spec(spec, tmp_path / path.name))
        assert again == spec, path
        assert spec_from_dict(spec_to_dict(spec)) == spec


def test_equality_sees_a_changed_weight_and_ignores_the_source():
    spec = load_spec(ROOT / "sims/lagnet.toml")
    raw = spec_to_dict(spec)
    assert spec_from_dict(raw, source="elsewhere") == spec
    raw["network"]["layer"][0]["weights"][0][0] += 1e-15
    assert spec_from_dict(raw) != spec


def test_the_dump_is_valid_toml_with_only_schema_keys():
    raw = tomllib.loads(dumps_spec(load_spec(ROOT / "sims/hidden.toml")))
    assert set(raw) <= set(SCHEMA[""])
    for table in ("time", "input", "network", "circuit", "simulator", "compare"):
        assert set(raw.get(table, {})) - {"layer"} <= set(SCHEMA[table])
    for layer in raw["network"]["layer"]:
        assert set(layer) <= set(SCHEMA["network.layer"])


# ----------------------------------------------------------------------------
# Random valid specs
# ----------------------------------------------------------------------------

floats = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
positive = st.floats(0.05, 5.0)


@st.composite
def layers(draw, fan_in: int, *, teacher: bool, errors: str) -> tuple[LayerSpec, ...]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 3))
        per_neuron = st.one_of(positive, st.lists(positive, min_size=n, max_size=n))
        plastic = not teacher and errors != "none" and draw(st.booleans())
        out.append(LayerSpec(
            size=n, tau_m=draw(per_neuron), tau_r=draw(st.one_of(st.none(), per_neuron)),
            weights=draw(st.lists(st.lists(floats, min_size=fan_in, max_size=fan_in), min_size=n, max_size=n)),
            phi=draw(st.sampled_from(["tanh", "sigmoid", "softplus", "relu", "linear", "hard_tanh", "hard_sigmoid"])),
            gamma=0.0 if teacher else draw(floats), bias=draw(st.one_of(floats, st.lists(floats, min_size=n,
                                                                                           max_size=n))),
            plastic=plastic, eta=draw(positive) if plastic else 0.0,
            learn_bias=draw(st.booleans()) if not teacher else True))
        fan_in = n
    return tuple(out)


@st.composite
def specs(draw, folder: Path) -> Spec:
    dt = draw(st.sampled_from([0.01, 0.05, 0.1, 0.25]))
    steps = draw(st.integers(4, 40))
    time = TimeSpec(dt=dt, duration=steps * 2 * dt, save_dt=2 * dt, learn_after=draw(st.sampled_from([0.0, dt])))
    if draw(st.integers(0, 4)) == 0:
        return draw(task_specs(time))
    inputs = draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["sines", "square", "file"]))
    if kind == "sines":
        omegas = draw(st.lists(st.lists(positive, min_size=1, max_size=3), min_size=inputs, max_size=inputs))
        inp = InputSpec(kind="sines", channels=inputs, omegas=omegas,
                        amplitudes=[[draw(floats) for _ in row] for row in omegas],
                        phases=draw(st.sampled_from([0.0, 0.5])))
    elif kind == "square":
        inp = InputSpec(kind="square", channels=inputs, period=draw(positive), amplitude=draw(floats),
                        smooth_sigma=draw(st.sampled_from([0.0, 0.05])))
    else:
        np.save(folder / "x.npy", np.linspace(-1, 1, (steps * 2 + 1) * inputs).reshape(-1, inputs))
        inp = InputSpec(kind="file", channels=inputs, path=folder / "x.npy")
    errors = draw(st.sampled_from(["prospective", "instantaneous", "none"]))
    net = NetworkSpec(inputs=inputs, layers=draw(layers(inputs, teacher=False, errors=errors)), errors=errors,
                      beta=draw(st.floats(0.0, 2.0)))
    teacher = target = None
    if draw(st.booleans()):
        top = draw(layers(inputs, teacher=True, errors="none"))
        last = top[-1]
        top = (*top[:-1], LayerSpec(size=net.sizes[-1], tau_m=1.0, weights=[[0.5] * last.fan_in] * net.sizes[-1]))
        teacher = NetworkSpec(inputs=inputs, layers=top, errors="none")
    elif errors != "none" or draw(st.booleans()):
        np.save(folder / "y.npy", np.zeros((steps * 2 + 1, net.sizes[-1])))
        target = TargetSpec(path=folder / "y.npy")
    circuit = CircuitSpec(time_scale=draw(st.sampled_from([1e-3, 2e-4])), v_scale=draw(st.sampled_from([1.0, 0.1])),
                          realization=draw(st.sampled_from(REALIZATIONS.names())), mismatch=draw(st.floats(0, 0.1)),
                          seed=draw(st.integers(0, 99)), leak_tau=draw(st.one_of(st.none(), positive)),
                          weight_rail=draw(st.one_of(st.none(), positive)), noise=draw(st.floats(0, 0.1)))
    simulator = SimulatorSpec(backend=draw(st.sampled_from(BACKENDS.names())), reltol=draw(st.sampled_from([1e-4, 1e-6])),
                              max_step=draw(st.one_of(st.none(), st.just(dt / 2))),
                              method=draw(st.sampled_from(["trap", "gear"])), solver=draw(st.sampled_from(SOLVERS)))
    compare = CompareSpec(tolerance=draw(positive), signals=draw(st.lists(st.sampled_from(
        ["layer*/r", "layer*/e", "layer1/W", "loss"]), min_size=1, max_size=3)))
    return Spec(name=draw(st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)), time=time, input=inp, network=net,
                teacher=teacher, target=target, circuit=circuit, simulator=simulator, compare=compare)


@st.composite
def task_specs(draw, time: TimeSpec) -> Spec:
    """A classification task: no input, teacher or target; one input, ten outputs, errors on."""
    errors = draw(st.sampled_from(["prospective", "instantaneous"]))
    hidden = draw(layers(1, teacher=False, errors=errors))
    out = LayerSpec(size=10, tau_m=draw(positive), weights=[[draw(floats)] * hidden[-1].size] * 10,
                    phi=draw(st.sampled_from(["linear", "tanh"])))
    train = TrainSpec(epochs=draw(st.integers(1, 200)), batch_size=draw(st.integers(1, 100)),
                      optimizer=draw(st.sampled_from(OPTIMIZERS)), lr=draw(positive),
                      momentum=draw(st.floats(0.0, 0.99)), schedule=draw(st.sampled_from(SCHEDULES)),
                      patience=draw(st.integers(0, 5)), factor=draw(st.floats(0.05, 0.95)),
                      seed=draw(st.integers(0, 99)), init=draw(st.sampled_from(INITS)),
                      train_samples=draw(st.integers(0, 4000)), test_samples=draw(st.integers(0, 1000)),
                      test_batch=draw(st.integers(1, 1000)), evaluate_on=draw(st.sampled_from(EVALUATE_ON)))
    task = TaskSpec(dataset_seed=draw(st.integers(0, 99)), sample_length=time.dt * draw(st.integers(1, 400)),
                    loss=draw(st.sampled_from(LOSSES)), train=train)
    return Spec(name=draw(st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)), time=time, input=None,
                network=NetworkSpec(inputs=1, layers=(*hidden, out), errors=errors, beta=draw(st.floats(0.0, 2.0))),
                task=task)


def test_a_task_spec_refuses_an_input_and_a_wrong_output_size():
    spec = load_spec(ROOT / "sims/mnist1d_tiny.toml")
    raw = spec_to_dict(spec)
    raw["input"] = {"kind": "sines", "omegas": [1.0]}
    with pytest.raises(SpecError, match=r"^<dict>: input: a \[task\] feeds its dataset"):
        spec_from_dict(raw)
    raw = spec_to_dict(spec)
    raw["network"]["layer"][-1]["size"] = 9
    raw["network"]["layer"][-1]["weights"] = raw["network"]["layer"][-1]["weights"][:9]
    with pytest.raises(SpecError, match=r"network.layer.4.size: expected 10 output neurons"):
        spec_from_dict(raw)
    raw = spec_to_dict(spec)
    raw["task"]["train"]["optimizer"] = "adamw"
    with pytest.raises(SpecError, match=r"^<dict>: task.train.optimizer: expected one of 'sgd'"):
        spec_from_dict(raw)
    raw = spec_to_dict(spec)
    raw["task"]["train"]["lr_"] = 1.0
    with pytest.raises(SpecError, match=r"task.train.lr_: unknown key"):
        spec_from_dict(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_random_valid_specs_round_trip_exactly(tmp_path, data):
    spec = data.draw(specs(tmp_path))
    assert load_spec(dump_spec(spec, tmp_path / "spec.toml")) == spec
    assert spec_from_dict(spec_to_dict(spec)) == spec
