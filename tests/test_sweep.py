"""The sweep (analogvle/workflows/sweep.py): planning, bad input before any run, results table, resume, failures,
fingerprints, the lock, killed workers, Dask."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from processes import alive, descendants

from analogvle.cli import main
from analogvle.model.toml import load_spec
from analogvle.model.trajectory import load_trajectory
from analogvle.workflows.pool import WorkerDied, run_pool
from analogvle.workflows.sweep import parse_set, plan, run_specs, sweep

ROOT = Path(__file__).resolve().parents[1]
LAGNET = str(ROOT / "sims/lagnet.toml")
SHORT = "time.duration=5.0"  # model time units: a LagNet run then takes a few seconds


def rows_of(out: Path) -> list[dict[str, str]]:
    with (out / "runs.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def one_worker_sweep(tmp_path_factory) -> Path:
    """LagNet (5 units) at mismatch 0.05, seeds 0 and 1, in one local worker: the folder both the reproducibility
    and the Dask test compare with."""
    out, rows = sweep(LAGNET, seeds=2, sets=["circuit.mismatch=0.05", SHORT], workers=1,
                      out=tmp_path_factory.mktemp("sweep") / "one", progress=False)
    assert [r["status"] for r in rows] == ["ok", "ok"]
    return out


def test_values_are_toml_literals_and_the_plan_is_the_product():
    assert parse_set("circuit.mismatch=0.0,0.01") == ("circuit.mismatch", [0.0, 0.01])
    assert parse_set('circuit.realization="ideal","passive"') == ("circuit.realization", ["ideal", "passive"])
    runs = plan(3, [("circuit.mismatch", [0.0, 0.01]), ("network.beta", [1, 2])])
    assert len(runs) == 12 and len({r.run_id for r in runs}) == 12
    assert runs[0].params == {"circuit.mismatch": 0.0, "network.beta": 1} and runs[0].seed == 0
    specs = run_specs(load_spec(LAGNET), runs)
    assert specs[runs[1].run_id].circuit.seed == 1 and specs[runs[-1].run_id].network.beta == 2


@pytest.mark.parametrize(("args", "expected"), [
    (["--set", "circuit.mismatchh=0.1"], "circuit.mismatchh: unknown key"),
    (["--set", 'circuit.mismatch="big"'], "circuit.mismatch: expected a number, got str 'big'"),
    (["--set", "circuit.mismatch=big"], "not TOML literals"),
    (["--set", "circuit.seed=1,2"], "--seeds"),
    (["--set", "time.duration.x=1"], "time.duration is a float value, not a table"),
    (["--seeds", "0"], "seeds: expected an integer >= 1"),
    (["--seeds", "1000000"], "1000000 runs, above the limit of 10000 (raise it with --max-runs)"),
    (["--set", "time.duration=1e12"], "time.duration: the run would need 1e+14 reference steps"),
    (["--scheduler", "tcp://127.0.0.1:9"], "scheduler tcp://127.0.0.1:9: cannot connect"),
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
def test_sweep_writes_one_row_per_run_reports_and_plots_and_is_reproducible(tmp_path, one_worker_sweep):
    sets = ["circuit.mismatch=0.0,0.05", SHORT]
    a, rows = sweep(LAGNET, seeds=2, sets=sets, workers=2, out=tmp_path / "a", progress=False)
    assert [r["status"] for r in rows] == ["ok"] * 4
    table = rows_of(a)
    assert list(table[0]) == ["run_id", "seed", "circuit.mismatch", "time.duration", "status", "pass", "worst_nrmse",
                              "final_loss", "wall_time", "fingerprint"]
    # completed runs outside the tolerance are not "pass": mismatch 0.05 misses 1e-3 by far
    assert [r["pass"] for r in table] == ["true", "true", "false", "false"]
    assert [(r["seed"], r["circuit.mismatch"]) for r in table] == [("0", "0.0"), ("1", "0.0"), ("0", "0.05"),
                                                                    ("1", "0.05")]
    for r in table:
        assert (a / r["run_id"] / "report.md").is_file() and float(r["wall_time"]) > 0
        assert np.isfinite(float(r["final_loss"])) and np.isfinite(float(r["worst_nrmse"]))
    assert (a / "sweep.md").is_file() and (a / "sweep_circuit.mismatch.png").stat().st_size > 10_000
    # mismatch: the seed matters; without mismatch it does not
    assert table[2]["final_loss"] != table[3]["final_loss"] and table[0]["final_loss"] == table[1]["final_loss"]
    # identical seeds give identical results, in another sweep, one worker
    b = one_worker_sweep
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
    assert "1 of 2 runs completed, 1 within the tolerance 0.001, 0 outside; 1 failed" in capsys.readouterr().out


@pytest.mark.slow
def test_dask_local_cluster_runs_the_same_sweep_with_the_same_results(tmp_path, one_worker_sweep):
    from dask import distributed  # make setup installs the [dask] extra: a missing dask fails here, never skips
    sets = ["circuit.mismatch=0.05", SHORT]
    local = one_worker_sweep
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote, rows = sweep(LAGNET, seeds=2, sets=sets, scheduler=cluster.scheduler_address, out=tmp_path / "dask",
                             progress=False)
    assert [r["status"] for r in rows] == ["ok", "ok"]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "wall_time"} for r in rows]
    assert strip(rows_of(local)) == strip(rows_of(remote))


# ----------------------------------------------------------------------------
# Trust: fingerprints, other plans' rows, the lock, Ctrl-C, killed workers
# ----------------------------------------------------------------------------


def _double_or_die(x: int) -> int:
    """A pool task: x == 2 kills its own worker with SIGKILL."""
    if x == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return 2 * x


def test_a_worker_killed_by_sigkill_fails_its_task_only_and_the_others_finish():
    results = dict(run_pool(_double_or_die, [(x, (x,)) for x in range(1, 6)], workers=2))
    assert {k: v for k, v in results.items() if k != 2} == {1: 2, 3: 6, 4: 8, 5: 10}
    assert isinstance(results[2], WorkerDied) and "signal 9 (SIGKILL)" in str(results[2])


@pytest.mark.slow
def test_an_edited_spec_reruns_and_other_plans_rows_are_kept(tmp_path):
    spec = tmp_path / "lagnet.toml"
    spec.write_text(Path(LAGNET).read_text().replace("duration = 1000.0", "duration = 5.0")
                    .replace("learn_after = 80.0", "learn_after = 1.0"))
    out = tmp_path / "sw"
    _, first = sweep(str(spec), seeds=2, out=out, progress=False)
    assert [r["status"] for r in first] == ["ok", "ok"]
    _, again = sweep(str(spec), seeds=2, out=out, progress=False)  # unchanged: nothing reruns
    assert [r["wall_time"] for r in again] == [r["wall_time"] for r in first]
    spec.write_text(spec.read_text().replace("eta = 0.02", "eta = 0.5"))
    _, edited = sweep(str(spec), seeds=2, out=out, progress=False)  # same run ids, new inputs: both rerun
    assert all(e["fingerprint"] != f["fingerprint"] and e["wall_time"] != f["wall_time"]
               for e, f in zip(edited, first))
    assert [r["final_loss"] for r in edited] != [r["final_loss"] for r in first]
    sweep(str(spec), seeds=1, sets=["circuit.mismatch=0.01"], out=out, progress=False)  # another plan, same folder
    ids = [r["run_id"] for r in rows_of(out)]
    assert ids[0] == "s000_mismatch=0.01" and set(ids) == {"s000_mismatch=0.01", "s000", "s001"}


def _wait_for(predicate, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def _pool_workers(pid: int) -> list[int]:
    """The sweep's worker processes: descendants that lead their own process group and run a child (ngspice)."""
    found = []
    for p in descendants(pid):
        with contextlib.suppress(OSError):
            if os.getpgid(p) == p and descendants(p):
                found.append(p)
    return found


@pytest.mark.slow
def test_a_second_sweep_into_the_same_folder_refuses_and_ctrl_c_stops_the_first(tmp_path, capsys):
    out = tmp_path / "sw"
    argv = ["sweep", LAGNET, "--seeds", "2", "--workers", "2", "--set", "time.duration=300.0", "--out", str(out)]
    first = subprocess.Popen([sys.executable, "-m", "analogvle", *argv], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: (out / ".sweep.lock").exists() and _pool_workers(first.pid))
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"is in use by another sweep (pid {first.pid}" in err and err.count("\n") == 1
        workers = _pool_workers(first.pid)
        start = time.monotonic()
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=10)
        assert first.returncode == 130 and time.monotonic() - start < 2.5, stderr
        assert "Traceback" not in stderr
    finally:
        first.kill()
    assert not (out / ".sweep.lock").exists()
    for pid in workers:  # the workers and their ngspice children are gone too
        _wait_for(lambda pid=pid: not alive(pid), timeout=3)
    assert [r["status"] for r in rows_of(out)] == ["pending", "pending"]
    assert not list(out.glob(".*.tmp"))


@pytest.mark.slow
def test_a_worker_killed_mid_run_marks_that_run_failed_and_the_others_finish(tmp_path):
    out = tmp_path / "sw"
    argv = ["sweep", LAGNET, "--seeds", "3", "--workers", "2", "--set", "time.duration=60.0", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "analogvle", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _pool_workers(proc.pid))
        victim = _pool_workers(proc.pid)[0]
        os.kill(victim, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 1, stderr
    statuses = [r["status"] for r in rows_of(out)]
    assert statuses.count("ok") == 2 and "killed by signal 9" in "".join(statuses)
    assert "2 of 3 runs completed" in stdout
    assert not list(out.glob(".*.tmp"))


def test_a_change_to_the_package_source_changes_the_fingerprint(tmp_path, monkeypatch):
    # a run made by other code is not reused: the fingerprint holds a digest of every *.py and *.json
    from analogvle import version
    from analogvle.workflows import sweep as sweep_module

    pkg = tmp_path / "pkg"
    (pkg / "cells").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "cells" / "calibration.json").write_text('{"VU": 0.072}\n')
    first = version.source_digest(pkg)
    (pkg / "notes.txt").write_text("not source\n")
    assert version.source_digest.__wrapped__(pkg) == first
    (pkg / "cells" / "calibration.json").write_text('{"VU": 0.073}\n')
    assert version.source_digest.__wrapped__(pkg) != first
    spec = load_spec(LAGNET)
    before = sweep_module.fingerprint(spec)
    monkeypatch.setattr(sweep_module, "source_digest", lambda: "0123456789abcdef")
    assert sweep_module.fingerprint(spec) != before
