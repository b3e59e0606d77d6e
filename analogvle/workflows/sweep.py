"""Monte Carlo and parameter sweeps: one spec over seeds × parameter values, each run a full pipeline.

``sweep(spec, seeds=N, sets=["circuit.mismatch=0,0.01"], workers=K, out=DIR)``
runs :func:`analogvle.workflows.run.run` (subprocess ngspice backend) for every
combination of ``circuit.seed = 0..N-1`` and the value lists, in a local
process pool (:mod:`analogvle.workflows.pool`) or, with ``scheduler``, on a
Dask cluster. DIR (default ``sims/out/<name>-sweep/``) receives ``runs.csv``
(one row per run: run id, seed, each swept key, ``status`` — ``ok`` when the
run completed, else the error —, ``pass`` — within the spec's tolerance —,
worst nrmse, final loss, wall time, and the run's ``fingerprint``), each
run's folder, and ``sweep.md`` with plots (:mod:`analogvle.report.sweep`).

Trust: a run is skipped on a rerun only when its row is ok and its
fingerprint (the run's full spec after overrides, the package version and a
digest of the package's source files) is unchanged; rows of other sweeps in DIR are kept; a lock file makes a
second sweep into the same DIR refuse to start (naming the first); a worker
killed mid-run fails that run only; bad input — an unknown key, a value of
the wrong type, a plan above ``max_runs`` or a spec above the size limits —
is refused before any run starts.

A spec with a classification ``[task]`` sweeps the circuit's classification
instead (``weights``: a trained.npz): every run is
:func:`analogvle.workflows.evaluate.evaluate_to` on ``samples`` test samples,
and its row holds ``accuracy_circuit``, ``accuracy_reference`` and
``agreement``; ``pass`` means agreement ≥ 98 % and accuracies within 1 point.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import re
import shutil
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from analogvle.compare.learning import output_loss
from analogvle.errors import SweepError
from analogvle.files import check_output_dir
from analogvle.integrate.batched.trained_file import load_trained
from analogvle.model.budget import check_budget
from analogvle.model.spec import Spec
from analogvle.model.toml import load_spec, spec_from_dict, spec_to_dict, with_overrides
from analogvle.model.trajectory import Trajectory, load_trajectory
from analogvle.report.sweep import write_sweep_report
from analogvle.version import __version__, source_digest
from analogvle.workflows.evaluate import evaluate_to
from analogvle.workflows.pool import WorkerDied, run_pool
from analogvle.workflows.run import run as run_pipeline
from analogvle.workflows.sweep_table import literal, read_rows, sweep_lock, write_rows

FIXED_COLUMNS = ("run_id", "seed")
METRIC_COLUMNS = ("status", "pass", "worst_nrmse", "final_loss", "wall_time", "fingerprint")
TASK_COLUMNS = ("status", "pass", "accuracy_circuit", "accuracy_reference", "agreement", "wall_time", "fingerprint")
TASK_METRICS = (("accuracy_circuit", "circuit accuracy"), ("agreement", "class agreement with the reference"))
MIN_AGREEMENT, MAX_ACCURACY_GAP = 0.98, 0.01  # a task run passes within these
FINAL_FRACTION = 0.1  # the final loss averages the last 10 % of the saved points
SCHEDULER_TIMEOUT = 5.0  # s to connect to a Dask scheduler
MAX_RUNS = 10_000  # a larger plan needs max_runs=...
TABLE_EVERY = 1.0  # s between rewrites of runs.csv while runs finish (always at the end)


@dataclass(frozen=True)
class Run:
    """One point of the sweep: its id, seed and swept parameters (dotted key → value)."""

    run_id: str
    seed: int
    params: dict[str, Any]


# ----------------------------------------------------------------------------
# Planning
# ----------------------------------------------------------------------------


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``key=v1,v2,...`` → (key, [values]); each value a TOML literal (``0.01``, ``"passive"``, ``true``)."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise SweepError(f"set {text!r}: expected KEY=VALUE[,VALUE...]")
    if not re.fullmatch(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*", key):
        raise SweepError(f"set {text!r}: expected a dotted key like circuit.mismatch, got {key!r}")
    try:
        parsed = tomllib.loads(f"v = [{values}]")["v"]
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"set {key}: values {values!r} are not TOML literals (strings need quotes): {exc}") from exc
    if key == "circuit.seed":
        raise SweepError("set circuit.seed: the seed is swept by seeds=N (--seeds N: seeds 0..N-1)")
    return key, parsed


def plan(seeds: int, sets: list[tuple[str, list[Any]]], *, max_runs: int = MAX_RUNS) -> list[Run]:
    """The product of seeds 0..seeds-1 and every value list, in a stable order (at most ``max_runs`` runs)."""
    keys = [k for k, _ in sets]
    if len(set(keys)) != len(keys):
        raise SweepError(f"set: key {next(k for k in keys if keys.count(k) > 1)} given twice")
    total = seeds * math.prod(len(v) for _, v in sets)
    if total > max_runs:
        raise SweepError(f"seeds: {seeds} seeds × {total // seeds} value combination(s) = {total} runs, above the "
                         f"limit of {max_runs} (raise it with --max-runs)")
    return [Run(run_id(seed, params), seed, params)
            for params in (dict(zip(keys, values)) for values in itertools.product(*(v for _, v in sets)))
            for seed in range(seeds)]


def run_id(seed: int, params: dict[str, Any]) -> str:
    """A file-name safe id: ``s003`` then ``_key=value`` per swept key (last key component)."""
    parts = [f"s{seed:03d}"] + [f"{key.rsplit('.', 1)[-1]}={literal(v)}" for key, v in params.items()]
    return re.sub(r"[^A-Za-z0-9_.=+-]", "-", "_".join(parts))


def run_specs(spec: Spec, runs: list[Run], *, allow_large: bool = False) -> dict[str, Spec]:
    """Every run's spec: each value combination validated (and size-checked) once, the seed set per run."""
    combos: dict[str, Spec] = {}
    out = {}
    for r in runs:
        key = json.dumps(r.params, sort_keys=True, default=str)
        if key not in combos:
            combos[key] = with_overrides(spec, r.params)
            check_budget(combos[key], ("reference", "netlist", "circuit"), allow=allow_large)
        base = combos[key]
        out[r.run_id] = replace(base, circuit=replace(base.circuit, seed=r.seed))
    return out


def fingerprint(spec: Spec, extra: str = "") -> str:
    """What a run's result depends on: its full spec, the package version, the package's source
    (:func:`~analogvle.version.source_digest`) and ``extra`` (16 hex digits)."""
    text = json.dumps(spec_to_dict(spec), sort_keys=True, default=str) + __version__ + source_digest() + extra
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ----------------------------------------------------------------------------
# One run (executes in a worker process)
# ----------------------------------------------------------------------------


def execute(spec_dict: dict, source: str, out: str, task: tuple[str, int] | None = None) -> dict[str, Any]:
    """Run the pipeline for one point (its spec as a TOML dict); never raises: a failure becomes the status.

    ``task`` = (trained.npz, samples): evaluate a classification task instead.
    """
    start = time.perf_counter()
    row: dict[str, Any] = {"status": "ok", "pass": "", "worst_nrmse": math.nan, "final_loss": math.nan}
    try:
        spec = spec_from_dict(spec_dict, source=source)
        if task is not None:
            m = evaluate_to(out, spec, load_trained(task[0], spec), samples=task[1], backend="subprocess")
            row = {"status": "ok", "accuracy_circuit": m["accuracy_circuit"],
                   "accuracy_reference": m["accuracy_reference"], "agreement": m["agreement"]}
            ok = m["agreement"] >= MIN_AGREEMENT and abs(m["accuracy_circuit"] - m["accuracy_reference"]) <= \
                MAX_ACCURACY_GAP
            row["pass"] = "true" if ok else "false"
            row["wall_time"] = time.perf_counter() - start
            return row
        res = run_pipeline(spec, out, backend="subprocess", progress=False)
        row["worst_nrmse"] = float(res.comparison.worst)
        row["pass"] = "true" if res.comparison.passed else "false"
        row["final_loss"] = final_loss(load_trajectory(res.files["circuit"]))
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded, never dropped
        message = " ".join(str(exc).split()) or type(exc).__name__
        row["status"] = f"error: {type(exc).__name__}: {message}"
    row["wall_time"] = time.perf_counter() - start
    return row


def final_loss(traj: Trajectory) -> float:
    """Mean of the loss ½ β ‖target − r_L‖² over the last 10 % of the saved points (model units); nan without a target."""
    loss = output_loss(traj)
    if loss is None:
        return math.nan
    n = len(loss)
    return float(np.mean(loss[n - max(1, round(FINAL_FRACTION * n)):]))


# ----------------------------------------------------------------------------
# Executing
# ----------------------------------------------------------------------------


def sweep(
    spec: Spec | str | Path,
    *,
    seeds: int,
    sets: list[str] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    out: str | Path | None = None,
    progress: bool = True,
    max_runs: int = MAX_RUNS,
    allow_large: bool = False,
    weights: str | Path | None = None,
    samples: int = 200,
) -> tuple[Path, list[dict[str, Any]]]:
    """Run the sweep of ``spec`` (a Spec or a spec file); returns (DIR, this plan's rows of runs.csv, as text).

    With a ``[task]`` spec, ``weights`` (trained.npz) is required and each run evaluates ``samples`` samples.
    Raises SweepError/SpecError before any run on bad input.
    """
    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    task = None
    if spec.task is not None:
        if weights is None:
            raise SweepError("a classification task sweeps a trained network: give its weights (--weights)")
        load_trained(weights, spec)  # refused now, not in every run
        weights = Path(weights).resolve()
        task = (str(weights), samples)
        extra = hashlib.sha256(weights.read_bytes()).hexdigest() + f"/{samples}"
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise SweepError(f"seeds: expected an integer >= 1, got {seeds}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SweepError(f"workers: expected an integer >= 1, got {workers}")
    parsed = [parse_set(s) for s in sets or []]
    runs = plan(seeds, parsed, max_runs=max_runs)
    specs = run_specs(spec, runs, allow_large=allow_large)
    out = check_output_dir(Path(out) if out is not None else Path("sims") / "out" / f"{spec.name}-sweep")
    table = out / "runs.csv"
    old_columns, previous = read_rows(table)
    client = _connect(scheduler) if scheduler else None
    keys = [k for k, _ in parsed]
    metric_columns = TASK_COLUMNS if task else METRIC_COLUMNS
    columns = list(dict.fromkeys([*FIXED_COLUMNS, *keys, *old_columns, *metric_columns]))
    with sweep_lock(out):
        rows = {rid: row for rid, row in previous.items()}  # other plans' rows stay
        todo = []
        for r in runs:
            print_ = fingerprint(specs[r.run_id], extra if task else "")
            old = previous.get(r.run_id)
            done = (old is not None and old.get("status") == "ok" and old.get("fingerprint") == print_
                    and (out / r.run_id / "metrics.json").is_file())
            if not done:
                rows[r.run_id] = {"run_id": r.run_id, "seed": r.seed, **r.params, "status": "pending",
                                  "fingerprint": print_}
                todo.append(r)

        def ordered() -> list[dict[str, Any]]:
            mine = [rows[r.run_id] for r in runs]
            planned = {r.run_id for r in runs}
            return mine + [row for rid, row in rows.items() if rid not in planned]

        write_rows(table, columns, ordered())
        bar = tqdm(total=len(runs), initial=len(runs) - len(todo), desc="sweep", unit="run", file=sys.stderr,
                   dynamic_ncols=True, disable=not progress)
        last_write = time.monotonic()
        try:
            with contextlib.closing(_results(todo, specs, spec.source, out, workers, client, task)) as results:
                for r, row in results:
                    rows[r.run_id] = {"run_id": r.run_id, "seed": r.seed, **r.params, **row,
                                      "fingerprint": rows[r.run_id]["fingerprint"]}
                    bar.update(1)
                    if row["status"] != "ok":
                        bar.write(f"{r.run_id}: {row['status']}", file=sys.stderr)
                    if time.monotonic() - last_write > TABLE_EVERY:
                        write_rows(table, columns, ordered())
                        last_write = time.monotonic()
        finally:
            bar.close()
            for r in todo:  # a stopped worker leaves its run's staged folder behind
                if rows[r.run_id]["status"] == "pending":
                    _remove_stages(out, r.run_id)
            write_rows(table, columns, ordered())
            if client is not None:
                client.close()
        written = read_rows(table)[1]
        mine = [written[r.run_id] for r in runs]  # as the table holds them (text), old rows and new alike
        if task:
            write_sweep_report(out, mine, keys, spec_name=spec.name, tolerance=MIN_AGREEMENT, metrics=TASK_METRICS)
        else:
            write_sweep_report(out, mine, keys, spec_name=spec.name, tolerance=spec.compare.tolerance)
    return out, mine


def _results(todo: list[Run], specs: dict[str, Spec], source: str, out: Path, workers: int,
             client, task: tuple[str, int] | None = None) -> Iterator[tuple[Run, dict]]:
    """(run, row) as runs finish, from the Dask client or the local process pool."""
    if not todo:
        return
    tasks = [(r, (spec_to_dict(specs[r.run_id]), source, str((out / r.run_id).resolve()), task)) for r in todo]
    if client is not None:
        yield from _dask_results(client, tasks)
        return
    for r, result in run_pool(execute, tasks, workers):
        if isinstance(result, WorkerDied):
            _remove_stages(out, r.run_id)
            result = {"status": f"error: WorkerDied: {result}", "pass": "", "worst_nrmse": math.nan,
                      "final_loss": math.nan, "wall_time": math.nan}
        yield r, result


def _remove_stages(out: Path, run: str) -> None:
    """Remove the staged (unfinished) output folders of ``run`` a stopped or dead worker left in ``out``."""
    for stray in out.glob(f".{glob_escape(run)}.*.tmp"):
        shutil.rmtree(stray, ignore_errors=True)


def _dask_results(client, tasks: list[tuple[Run, tuple]]) -> Iterator[tuple[Run, dict]]:
    from dask.distributed import as_completed as dask_completed

    futures = {client.submit(execute, *args, pure=False, key=f"analogvle-{r.run_id}-{time.time_ns()}"): r
               for r, args in tasks}
    try:
        for future in dask_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker fails its run, not the sweep
                result = {"status": f"error: {type(exc).__name__}: {exc}", "pass": "", "worst_nrmse": math.nan,
                          "final_loss": math.nan, "wall_time": math.nan}
            yield futures[future], result
    finally:
        client.cancel(list(futures))


def _connect(address: str):
    """A dask.distributed Client for ``address``, or SweepError (exit 2) when it cannot be reached quickly."""
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise SweepError("scheduler: Dask is not installed: pip install 'analogvle[dask]'") from exc
    try:
        return Client(address, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SweepError(f"scheduler {address}: cannot connect within {SCHEDULER_TIMEOUT:g} s ({reason})") from exc


def summary(rows: list[dict[str, Any]], tolerance: float) -> tuple[str, int]:
    """One line on how the runs went, and the exit code: 0 all within tolerance, 1 otherwise."""
    completed = [r for r in rows if r["status"] == "ok"]
    passed = [r for r in completed if r.get("pass") == "true"]
    failed = len(rows) - len(completed)
    line = (f"{len(completed)} of {len(rows)} runs completed, {len(passed)} within the tolerance {tolerance:g}, "
            f"{len(completed) - len(passed)} outside; {failed} failed")
    return line, 0 if len(passed) == len(rows) else 1
