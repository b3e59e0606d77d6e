"""analogvle train / evaluate / sweep on a classification task: the tiny MNIST-1D configuration learns, its circuit
classifies like the reference (real ngspice), bad input exits 2, Ctrl-C exits 130 with nothing written."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from test_interrupt import Running

from analogvle.cli import main
from analogvle.errors import LimitError
from analogvle.integrate.batched.trained_file import load_curve, load_trained
from analogvle.integrate.batched.training import net_from_spec, train
from analogvle.model.budget import Limits, check_budget
from analogvle.model.toml import load_spec
from analogvle.workflows.evaluate import forward_spec

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "sims/mnist1d_tiny.toml"
PAPER = ROOT / "sims/mnist1d.toml"
PAPER_WEIGHTS = ROOT / "benchmarks/data/mnist1d_adam_s42.npz"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """The tiny configuration trained by the command line (30 epochs, 300 samples; a few seconds)."""
    path = tmp_path_factory.mktemp("train") / "trained.npz"
    assert main(["train", str(TINY), "-o", str(path)]) == 0
    return path


def test_the_tiny_run_learns_well_above_chance(trained):
    curve = load_curve(trained)
    assert len(curve["epoch"]) == 31 and curve["epoch"][-1] == 30
    assert curve["test_acc"][0] < 20.0  # before training: near chance (10 %)
    assert curve["test_acc"][-1] >= 25.0, curve["test_acc"]  # measured 35.3 %
    assert np.all(np.isfinite(curve["train_loss"][1:])) and curve["lr"][-1] < curve["lr"][1]  # plateau halved it
    spec = load_spec(TINY)
    weights = load_trained(trained, spec)
    assert [W.shape for W, _ in weights] == [(27, 1), (27, 27), (27, 27), (10, 27)]
    with np.load(trained) as data:
        moved = np.abs(data["layer4/W"] - data["layer4/W_init"]).max()
        meta = json.loads(str(data["meta"]))
    assert moved > 1e-3 and meta["samples"] == {"train": 300, "test": 300, "steps_per_sample": 180}


def test_training_is_seeded():
    spec = load_spec(TINY)
    a, b = train(spec, epochs=2, progress=False), train(spec, epochs=2, progress=False)
    np.testing.assert_array_equal(a.curve["test_loss"], b.curve["test_loss"])
    for (Wa, ba), (Wb, bb) in zip(a.weights, b.weights):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)
    other = dataclasses.replace(spec.task.train, seed=1)
    c = train(dataclasses.replace(spec, task=dataclasses.replace(spec.task, train=other)), epochs=2, progress=False)
    assert not np.array_equal(a.weights[0][0], c.weights[0][0])


def test_the_paper_init_is_the_committed_runs_init():
    """bench_train.py's seed 42 starts from the committed weights' initial values (PyTorch-Linear bounds)."""
    spec = load_spec(PAPER)
    net = net_from_spec(spec)
    with np.load(PAPER_WEIGHTS) as data:
        for ell, layer in enumerate(net.layers, 1):
            np.testing.assert_array_equal(layer.W, data[f"layer{ell}/W_init"])
            assert np.abs(layer.W).max() <= 1 / np.sqrt(layer.fan_in)
    assert sum(layer.W.size + layer.b.size for layer in net.layers) == 14_956  # the paper's parameter count


@pytest.mark.parametrize("realization", ["ideal", "passive"])
def test_the_circuit_classifies_like_the_reference(trained, tmp_path, realization):
    report = tmp_path / "report"
    assert main(["evaluate", str(TINY), "--weights", str(trained), "--report", str(report), "--samples", "20",
                 "--realization", realization]) == 0
    m = json.loads((report / "metrics.json").read_text())
    assert m["samples"] == 20 and m["indices"] == list(range(20)) and m["realization"] == realization
    assert m["agreement"] >= 0.98 and abs(m["accuracy_circuit"] - m["accuracy_reference"]) <= 0.01
    assert m["output_sum_max_rel_diff"] < 5e-3  # measured 7.3e-4 (reltol 1e-3)
    assert m["accuracy_circuit"] > 0.2  # the tiny network, on the samples it was trained on
    assert np.array(m["confusion_circuit"]).sum() == 20
    assert {p.name for p in report.iterdir()} >= {"metrics.json", "report.md", "confusion.png", "traces.png"}


def test_the_forward_spec_is_the_trained_network_without_errors():
    spec = load_spec(PAPER)
    weights = load_trained(PAPER_WEIGHTS, spec)
    x = np.arange(2 * 360, dtype=float).reshape(2, 360)
    f = forward_spec(spec, weights, x)
    assert f.task is None and f.network.errors == "none" and not f.network.plastic
    assert f.time.n_steps == 720 and f.input.data.shape == (721, 1) and f.input.data[360, 0] == 360.0
    np.testing.assert_array_equal(f.network.layers[6].weights, weights[6][0])


def test_a_mismatch_sweep_of_a_task(trained, tmp_path):
    out = tmp_path / "sweep"
    code = main(["sweep", str(TINY), "--weights", str(trained), "--samples", "8", "--seeds", "1",
                 "--set", "circuit.mismatch=0,0.2", "--out", str(out)])
    with (out / "runs.csv").open() as f:
        rows = {float(r["circuit.mismatch"]): r for r in csv.DictReader(f)}
    assert all(r["status"] == "ok" for r in rows.values())
    assert float(rows[0.0]["agreement"]) == 1.0 and rows[0.0]["pass"] == "true"
    assert code == (0 if rows[0.2]["pass"] == "true" else 1)
    assert (out / "sweep_circuit.mismatch.png").is_file() and "accuracy_circuit" in (out / "sweep.md").read_text()


@pytest.mark.parametrize("argv, message", [
    (["train", "sims/lagnet.toml", "-o", "{tmp}/t.npz"], "sims/lagnet.toml: task: missing"),
    (["run", "sims/mnist1d_tiny.toml", "--out", "{tmp}/o"], "task: a classification task runs with"),
    (["evaluate", "sims/mnist1d_tiny.toml", "--weights", "benchmarks/data/mnist1d_adam_s42.npz", "--report", "{tmp}/r"],
     "layer1/W is (53, 1)"),
    (["evaluate", "sims/mnist1d.toml", "--weights", "{tmp}/missing.npz", "--report", "{tmp}/r"], "file not found"),
    (["sweep", "sims/mnist1d_tiny.toml", "--seeds", "1", "--out", "{tmp}/s"], "give its weights (--weights)"),
    (["train", "sims/mnist1d_tiny.toml", "-o", "sims/mnist1d.toml/t.npz"], "mnist1d.toml is not a directory"),
])
def test_bad_input_exits_2_with_one_line(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not any(p.name.startswith("t.npz") for p in tmp_path.iterdir())


def test_ctrl_c_stops_training_at_once_and_writes_nothing(tmp_path):
    out = tmp_path / "trained.npz"
    run = Running("train", str(TINY), "-o", str(out), "--epochs", "1000")
    run.wait_for("train mnist1d_tiny")
    assert run.interrupt() < 2.0
    assert list(tmp_path.iterdir()) == []


def test_the_size_guards_take_200_paper_samples_in_one_transient_and_refuse_1000():
    spec = load_spec(PAPER)
    weights = load_trained(PAPER_WEIGHTS, spec)
    x = np.zeros((1000, 360))
    check_budget(forward_spec(spec, weights, x[:200]), ("reference", "netlist", "circuit"),
                 limits=Limits(memory=8 * 2**30, netlist=2 * 2**30, circuit_points=5e7, steps=1e10))
    with pytest.raises(LimitError, match="the run would need 11.3 GB of reference trajectories"):
        check_budget(forward_spec(spec, weights, x), ("reference", "netlist", "circuit"),
                     limits=Limits(memory=8 * 2**30, netlist=2 * 2**30, circuit_points=5e7, steps=1e10))


def test_a_task_spec_is_refused_by_the_signal_pipeline_in_python_too():
    import analogvle as av

    spec = load_spec(TINY)
    with pytest.raises(av.SpecError, match="task: a \\[task\\] spec has no input signal to integrate"):
        av.integrate(spec, method="rk4")
    with pytest.raises(av.SpecError, match="task: a \\[task\\] spec has no input signal for a circuit"):
        av.build_netlist(spec)
