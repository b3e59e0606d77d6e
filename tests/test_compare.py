"""The comparator and its report: accuracy of lag and nrmse, alignment, bad input, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from analogvle.cli import main
from analogvle.compare.metrics import compare
from analogvle.errors import CompareError
from analogvle.files import MANIFEST
from analogvle.model.trajectory import Trajectory, save_trajectory
from analogvle.report import learning_plot
from analogvle.report import write as report_write

DT = 0.01  # reference step, model time units
LAG_STEPS = 0.015  # lags recovered within this many steps: 3× the worst measured (0.0048, README: 0.005)
NRMSE_REL = 3e-7  # nrmse recovered within this relative error: 3× the worst measured (9.1e-8, README: 1e-7)
DURATION = 60.0
OMEGAS = np.array([0.49, 1.07, 1.98])  # the LagNet input, rad per time unit
PHASES = np.array([0.3, 1.1, 2.0])


def rates(t: np.ndarray) -> np.ndarray:
    """A two-neuron 'layer1/r' made of sines, (T, 2), model units."""
    first = np.sin(np.outer(t, OMEGAS) + PHASES).sum(axis=1)
    second = 0.5 * np.sin(np.outer(t, 1.3 * OMEGAS) + 2 * PHASES).sum(axis=1)
    return np.stack([first, second], axis=1)


def error_shape(t: np.ndarray) -> np.ndarray:
    """The added error, unit amplitude, at frequencies away from the signal's."""
    return np.stack([np.sin(5.3 * t + 0.7), np.cos(6.1 * t)], axis=1)


def weights(t: np.ndarray) -> np.ndarray:
    """A slowly learning 2 × 1 weight matrix over time, (T, 2, 1)."""
    return np.stack([-0.5 + 0.3 * np.tanh(t / 20), 1.0 - 0.2 * np.tanh(t / 30)], axis=1)[:, :, None]


def write(path: Path, t: np.ndarray, signals: dict[str, np.ndarray], **meta) -> Path:
    return save_trajectory(path, Trajectory(t=t, signals=signals, meta=meta))


def grid(step: float, end: float = DURATION) -> np.ndarray:
    return np.arange(round(end / step) + 1) * step


def expected_nrmse(t: np.ndarray, circuit: np.ndarray, reference: np.ndarray) -> float:
    return float(np.sqrt(np.mean((circuit - reference) ** 2)) / np.ptp(reference))


# ----------------------------------------------------------------------------
# Accuracy: a known shift and a known added error
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("circuit_step", [DT, 0.0073, 0.0125], ids=["same grid", "finer grid", "coarser grid"])
@pytest.mark.parametrize("shift_steps", [0.0, 0.37, 1.0, 2.5, -4.21, 12.345])
@pytest.mark.parametrize("error", [0.0, 1e-4, 1e-3, 2e-2])
def test_known_shift_and_error_are_measured(tmp_path, shift_steps, error, circuit_step):
    lag = shift_steps * DT
    t_ref, t_circ = grid(DT), grid(circuit_step)
    ref_file = write(tmp_path / "ref.npz", t_ref, {"layer1/r": rates(t_ref)})
    circ_file = write(tmp_path / "circ.npz", t_circ, {"layer1/r": rates(t_circ - lag) + error * error_shape(t_circ)})
    from analogvle.model.trajectory import load_trajectory

    result = compare(load_trajectory(ref_file), load_trajectory(circ_file), signals=["layer1/r"], tolerance=1.0)
    m = result.signals["layer1/r"]

    t = result.t  # the common span on the reference's grid
    truth = rates(t - lag) + error * error_shape(t)
    # the README's claim: lag within 0.005 of a step (measured 0.0048), nrmse within 1e-7 relative (9.1e-8)
    assert abs(m.lag - lag) <= LAG_STEPS * DT, f"lag {m.lag / DT:.4f} steps, expected {shift_steps}"
    want = expected_nrmse(t, truth, rates(t))
    assert m.nrmse == pytest.approx(want, rel=NRMSE_REL, abs=1e-9)
    want_aligned = error * np.sqrt(np.mean(error_shape(t) ** 2)) / np.ptp(rates(t))
    assert m.nrmse_aligned == pytest.approx(want_aligned, rel=0.01, abs=1e-7)
    assert m.max_abs == pytest.approx(np.max(np.abs(truth - rates(t))), rel=0.01, abs=1e-7)  # spline floor
    for j, component in enumerate(m.components):
        assert abs(component.lag - lag) <= LAG_STEPS * DT
        assert component.nrmse == pytest.approx(
            expected_nrmse(t, truth[:, j], rates(t)[:, j]), rel=0.01, abs=1e-8
        )


def test_lag_is_found_under_white_noise(tmp_path):
    t = grid(DT)
    rng = np.random.default_rng(1)
    for shift_steps in (0.5, -3.3, 7.77):
        circuit = rates(t - shift_steps * DT) + 0.01 * rng.standard_normal((len(t), 2))
        result = compare(Trajectory(t, {"layer1/r": rates(t)}), Trajectory(t, {"layer1/r": circuit}))
        assert abs(result.signals["layer1/r"].lag / DT - shift_steps) <= 0.1


def test_identical_files_give_zero_and_pass(tmp_path):
    t = grid(DT)
    signals = {"layer1/r": rates(t), "layer1/W": weights(t), "layer1/e": 0.01 * error_shape(t)}
    write(tmp_path / "a.npz", t, signals)
    write(tmp_path / "b.npz", t, signals)
    code = main(["compare", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--report", str(tmp_path / "rep")])
    assert code == 0
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert metrics["pass"] is True and metrics["worst"] == 0.0
    for name in signals:
        assert metrics["signals"][name]["nrmse"] == 0.0
        assert metrics["signals"][name]["max_abs"] == 0.0
        assert metrics["signals"][name]["lag"] == 0.0


def test_different_grids_and_lengths_compare_over_the_common_span_and_a_short_circuit_fails():
    t_ref, t_circ = grid(DT, 60.0), grid(0.02, 45.0)  # coarser and shorter circuit
    ref, circ = Trajectory(t_ref, {"layer1/r": rates(t_ref)}), Trajectory(t_circ, {"layer1/r": rates(t_circ)})
    result = compare(ref, circ)
    assert result.t[0] == 0.0 and result.t[-1] == pytest.approx(45.0)
    assert np.allclose(np.diff(result.t), DT)
    assert result.signals["layer1/r"].nrmse < 1e-6  # cubic resampling of a smooth signal
    assert result.coverage == pytest.approx(0.75)
    assert not result.passed and "covers t = 0..45, 75 % of the reference's 0..60" in result.failures[0]
    assert any("common span" in note for note in result.notes)
    assert compare(ref, circ, coverage=0.7).passed  # a shorter comparison, when asked for


def test_a_circuit_covering_a_sliver_of_the_run_fails_with_exit_1(tmp_path, capsys):
    t_ref, t_circ = grid(DT, 5.0), grid(DT, 0.2)
    write(tmp_path / "ref.npz", t_ref, {"layer1/r": rates(t_ref)})
    write(tmp_path / "circ.npz", t_circ, {"layer1/r": rates(t_circ)})
    code = main(["compare", str(tmp_path / "ref.npz"), str(tmp_path / "circ.npz"), "--report", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 1 and out.startswith("FAIL") and "4 % of the reference's 0..5" in out
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["pass"] is False and metrics["coverage"] == pytest.approx(0.04)
    assert "4 % of the reference" in metrics["failures"][0]


def test_signals_in_one_file_only_are_listed_and_a_missing_requested_signal_fails(tmp_path):
    t = grid(DT)
    write(tmp_path / "ref.npz", t, {"layer1/r": rates(t), "layer2/e": rates(t)[:, :1], "layer2/r": rates(t)[:, :1]})
    write(tmp_path / "circ.npz", t, {"layer1/r": rates(t), "layer1/W": weights(t), "layer2/r": rates(t)[:, :1]})
    code = main(["compare", str(tmp_path / "ref.npz"), str(tmp_path / "circ.npz"), "--report", str(tmp_path / "rep")])
    assert code == 1  # layer2/e is requested (layer*/e) and the circuit does not have it
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert metrics["pass"] is False and "missing from the circuit: layer2/e" in metrics["failures"][0]
    assert all(m["pass"] for m in metrics["signals"].values())
    assert sorted(metrics["signals"]) == ["layer1/r", "layer2/r"]
    assert metrics["only_in_reference"] == ["layer2/e"]
    assert metrics["only_in_circuit"] == ["layer1/W"]
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "only in the reference: layer2/e" in text and "only in the circuit: layer1/W" in text


def test_constant_reference_falls_back_to_its_magnitude_and_says_so():
    t = grid(DT)
    constant = np.full((len(t), 2, 1), 0.5)
    result = compare(Trajectory(t, {"layer1/W": constant}), Trajectory(t, {"layer1/W": constant + 1e-4}))
    m = result.signals["layer1/W"]
    assert m.scale_basis == "max|ref|" and m.nrmse == pytest.approx(2e-4)
    assert any("constant" in note for note in m.notes)


def test_shape_mismatch_names_the_signal():
    t = grid(DT)
    with pytest.raises(CompareError, match="layer1/W"):
        compare(Trajectory(t, {"layer1/W": weights(t)}), Trajectory(t, {"layer1/W": weights(t)[:, :1, :]}))


# ----------------------------------------------------------------------------
# The command line: exit codes and the report
# ----------------------------------------------------------------------------


@pytest.fixture
def pair(tmp_path):
    t = grid(DT, 30.0)
    ref = write(tmp_path / "ref.npz", t, {"layer1/r": rates(t), "layer1/W": weights(t)}, producer={"method": "rk4"})
    circ = write(
        tmp_path / "circ.npz",
        grid(0.0125, 30.0),
        {"layer1/r": rates(grid(0.0125, 30.0) - 0.013), "layer1/W": weights(grid(0.0125, 30.0))},
        producer={"backend": "shared"},
    )
    return ref, circ


def _bad(tmp_path, capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "rep").exists()
    return err


def test_missing_file_exits_2(tmp_path, capsys, pair):
    ref, _ = pair
    err = _bad(tmp_path, capsys, ["compare", str(ref), str(tmp_path / "nope.npz"), "--report", str(tmp_path / "rep")])
    assert "nope.npz" in err and "not found" in err


def test_text_file_renamed_npz_exits_2(tmp_path, capsys, pair):
    ref, _ = pair
    fake = tmp_path / "fake.npz"
    fake.write_text("time,value\n0,1\n")
    err = _bad(tmp_path, capsys, ["compare", str(ref), str(fake), "--report", str(tmp_path / "rep")])
    assert "fake.npz" in err and "not a trajectory file" in err


def test_no_common_signals_exits_2(tmp_path, capsys, pair):
    ref, circ = pair
    err = _bad(tmp_path, capsys,
               ["compare", str(ref), str(circ), "--signals", "layer9/*", "--report", str(tmp_path / "rep")])
    assert "no common signals" in err


@pytest.mark.parametrize("tolerance", ["abc", "-1", "0", "nan", "inf"])
def test_bad_tolerance_exits_2(tmp_path, capsys, pair, tolerance):
    ref, circ = pair
    err = _bad(tmp_path, capsys,
               ["compare", str(ref), str(circ), "--tolerance", tolerance, "--report", str(tmp_path / "rep")])
    assert "--tolerance" in err and tolerance in err


def test_outside_tolerance_exits_1_and_still_reports(tmp_path, pair):
    ref, circ = pair  # the 1.3-step lag gives nrmse ~ 3e-3
    assert main(["compare", str(ref), str(circ), "--report", str(tmp_path / "rep"), "--tolerance", "1e-4"]) == 1
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert metrics["pass"] is False and metrics["worst_signal"] == "layer1/r"
    assert metrics["signals"]["layer1/r"]["lag"] == pytest.approx(0.013, abs=0.1 * DT)
    assert main(["compare", str(ref), str(circ), "--report", str(tmp_path / "rep"), "--tolerance", "0.5"]) == 0


def test_report_holds_metrics_markdown_and_pngs_that_open(tmp_path, pair):
    ref, circ = pair
    rep = tmp_path / "rep"
    assert main(["compare", str(ref), str(circ), "--report", str(rep), "--tolerance", "0.1"]) == 0
    metrics = json.loads((rep / "metrics.json").read_text())
    for name in ("layer1/r", "layer1/W"):
        assert {"nrmse", "max_abs", "lag"} <= set(metrics["signals"][name])
    assert {"pass", "worst"} <= set(metrics)
    pngs = sorted(p.name for p in rep.glob("*.png"))
    assert pngs == ["layer1.png", "summary.png"]
    for png in pngs:
        image = imread(rep / png)
        assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 600
        assert f"({png})" in (rep / "report.md").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["circ.npz", "ref.npz", "rep"]  # no temporaries


def test_failure_mid_report_leaves_nothing_behind_and_exits_4_with_a_crash_log(tmp_path, pair, monkeypatch, capsys):
    ref, circ = pair

    def broken(*args, **kwargs):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(report_write, "plot_group", broken)
    assert main(["compare", str(ref), str(circ), "--report", str(tmp_path / "deep" / "rep")]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" in err and "Traceback" not in err
    log = Path(err.split("traceback in ")[1].strip())
    assert "RuntimeError: plotting failed" in log.read_text() and "Traceback" in log.read_text()
    log.unlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["circ.npz", "ref.npz"]


def test_rewriting_a_report_replaces_it_and_keeps_other_files(tmp_path, pair):
    ref, circ = pair
    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "keep.txt").write_text("mine")
    assert main(["compare", str(ref), str(circ), "--report", str(rep), "--tolerance", "0.1"]) == 0
    assert (rep / "layer1.png").exists()
    assert main(["compare", str(ref), str(circ), "--report", str(rep), "--signals", "layer1/W"]) == 0
    metrics = json.loads((rep / "metrics.json").read_text())
    assert list(metrics["signals"]) == ["layer1/W"]
    assert sorted(p.name for p in rep.iterdir()) == sorted([*metrics["files"], "keep.txt", MANIFEST])
    assert (rep / "keep.txt").read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_foreign_metrics_json_never_makes_the_report_delete_a_users_file(tmp_path, pair):
    ref, circ = pair
    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "notes.txt").write_text("my notes")
    (rep / "metrics.json").write_text(json.dumps({"files": ["notes.txt", "metrics.json"]}))
    assert main(["compare", str(ref), str(circ), "--report", str(rep), "--tolerance", "0.1"]) == 0
    assert (rep / "notes.txt").read_text() == "my notes"
    assert json.loads((rep / "metrics.json").read_text())["pass"] is True


def test_plot_learning_writes_a_readable_png(tmp_path):
    t = grid(DT, 40.0)
    out = np.tanh(rates(t)[:, :1])
    student = Trajectory(t, {"layer1/r": out, "layer1/W": weights(t), "target": 1.05 * out})
    circuit = Trajectory(t, {"layer1/r": out + 1e-3, "layer1/W": weights(t) + 1e-3})
    path = learning_plot.plot_learning([(student, "reference"), (circuit, "circuit")], tmp_path / "learning.png",
                                       teacher_weights={1: [[-0.2], [0.8]]}, title="test")
    assert imread(path).shape[0] > 500
    assert sorted(p.name for p in tmp_path.iterdir()) == ["learning.png"]
