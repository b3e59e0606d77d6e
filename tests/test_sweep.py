"""The sweep (analogvle/sweep.py): planning, bad input before any run, results table, resume, failures, Dask."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np
import pytest

from analogvle.cli import main
from analogvle.model.trajectory import load_trajectory
from analogvle.workflows.sweep import parse_set, plan, sweep

ROOT = Path(__file__).resolve().parents[1]
LAGNET = str(ROOT / "sims/lagnet.toml")
SHORT = "time.duration=5.0"  # model time units: a LagNet run then takes a few seconds


def rows_of(out: Path) -> list[dict[str, str]]:
    with (out / "runs.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_values_are_toml_literals_and_the_plan_is_the_product():
    assert parse_set("circuit.mismatch=0.0,0.01") == ("circuit.mismatch", [0.0, 0.01])
    assert parse_set('circuit.realization="ideal","passive"') == ("circuit.realization", ["ideal", "passive"])
    runs = plan(3, [("circuit.mismatch", [0.0, 0.01]), ("network.beta", [1, 2])])
    assert len(runs) == 12 and len({r.run_id for r in runs}) == 12
    assert runs[0].overrides == {"circuit.mismatch": 0.0, "network.beta": 1, "circuit.seed": 0}


@pytest.mark.parametrize(("args", "expected"), [
    (["--set", "circuit.mismatchh=0.1"], "circuit.mismatchh: unknown key"),
    (["--set", 'circuit.mismatch="big"'], "circuit.mismatch: expected a number, got str 'big'"),
    (["--set", "circuit.mismatch=big"], "not TOML literals"),
    (["--set", "circuit.seed=1,2"], "--seeds"),
    (["--set", "time.duration.x=1"], "time.duration is a float value, not a table"),
    (["--seeds", "0"], "--seeds: expected an integer >= 1"),
    (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler tcp://127.0.0.1:9: cannot connect"),
])
def test_bad_sweep_input_exits_2_with_one_line_before_any_run(args, expected, tmp_path, capsys):
    start = time.perf_counter()
    assert main(["sweep", LAGNET, "--out", str(tmp_path / "sw"), *args]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "sw").exists()  # nothing ran, nothing written
    assert time.perf_counter() - start < 15


@pytest.mark.parametrize("content", [b"a,b\n1,2\n", b"\xff\xfe\x00garbage\n"])
def test_an_out_dir_holding_a_foreign_runs_csv_exits_2_with_one_line(content, tmp_path, capsys):
    (tmp_path / "sw").mkdir()
    (tmp_path / "sw" / "runs.csv").write_bytes(content)
    assert main(["sweep", LAGNET, "--out", str(tmp_path / "sw")]) == 2
    err = capsys.readouterr().err
    assert "is not a sweep's runs.csv" in err and err.count("\n") == 1 and "Traceback" not in err
    assert (tmp_path / "sw" / "runs.csv").read_bytes() == content  # left as it was


@pytest.mark.slow
def test_sweep_writes_one_row_per_run_reports_and_plots_and_is_reproducible(tmp_path):
    sets = ["circuit.mismatch=0.0,0.05", SHORT]
    a, rows = sweep(LAGNET, seeds=2, sets=sets, workers=2, out=tmp_path / "a", progress=False)
    assert [r["status"] for r in rows] == ["ok"] * 4
    table = rows_of(a)
    assert list(table[0]) == ["run_id", "seed", "circuit.mismatch", "time.duration", "status", "worst_nrmse",
                              "final_loss", "wall_time"]
    assert [(r["seed"], r["circuit.mismatch"]) for r in table] == [("0", "0.0"), ("1", "0.0"), ("0", "0.05"),
                                                                    ("1", "0.05")]
    for r in table:
        assert (a / r["run_id"] / "report.md").is_file() and float(r["wall_time"]) > 0
        assert np.isfinite(float(r["final_loss"])) and np.isfinite(float(r["worst_nrmse"]))
    assert (a / "sweep.md").is_file() and (a / "sweep_circuit.mismatch.png").stat().st_size > 10_000
    # mismatch: the seed matters; without mismatch it does not
    assert table[2]["final_loss"] != table[3]["final_loss"] and table[0]["final_loss"] == table[1]["final_loss"]
    # identical seeds give identical results, in another sweep, one worker
    b, _ = sweep(LAGNET, seeds=2, sets=["circuit.mismatch=0.05", SHORT], workers=1, out=tmp_path / "b",
                 progress=False)
    for r_b in rows_of(b):
        r_a = next(r for r in table if r["run_id"] == r_b["run_id"])
        assert (r_a["final_loss"], r_a["worst_nrmse"]) == (r_b["final_loss"], r_b["worst_nrmse"])
        ta, tb = (load_trajectory(d / r_b["run_id"] / "circuit.npz") for d in (a, b))
        assert all(np.array_equal(ta.signals[k], tb.signals[k]) for k in ta.signals)


@pytest.mark.slow
def test_failed_run_is_recorded_and_a_rerun_redoes_only_what_is_not_ok(tmp_path, capsys):
    out = tmp_path / "sw"
    # c_unit = 2 F is a valid spec but an unbuildable circuit: that run fails in the netlist stage
    argv = ["sweep", LAGNET, "--seeds", "1", "--set", "circuit.c_unit=1e-9,2.0", "--set", SHORT, "--out", str(out)]
    assert main(argv) == 1
    first = {r["run_id"]: r for r in rows_of(out)}
    assert len(first) == 2
    bad = next(r for r in first.values() if r["circuit.c_unit"] == "2.0")
    good = next(r for r in first.values() if r["circuit.c_unit"] == "1e-09")
    assert bad["status"].startswith("error: NetlistError:") and "physical range" in bad["status"]
    assert good["status"] == "ok"
    assert "Failed runs" in (out / "sweep.md").read_text()
    assert main(argv) == 1  # the failed run is retried (and fails again); the ok one is kept as it was
    second = {r["run_id"]: r for r in rows_of(out)}
    assert second[good["run_id"]] == good
    assert second[bad["run_id"]]["wall_time"] != bad["wall_time"]
    assert "1 of 2 runs ok" in capsys.readouterr().out


@pytest.mark.slow
def test_dask_local_cluster_runs_the_same_sweep_with_the_same_results(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    sets = ["circuit.mismatch=0.05", SHORT]
    local, _ = sweep(LAGNET, seeds=2, sets=sets, workers=2, out=tmp_path / "local", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote, rows = sweep(LAGNET, seeds=2, sets=sets, scheduler=cluster.scheduler_address, out=tmp_path / "dask",
                             progress=False)
    assert [r["status"] for r in rows] == ["ok", "ok"]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "wall_time"} for r in rows]
    assert strip(rows_of(local)) == strip(rows_of(remote))
