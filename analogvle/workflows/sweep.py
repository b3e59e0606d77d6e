"""Monte Carlo and parameter sweeps: one spec over seeds × parameter values, each run a full pipeline.

``analogvle sweep SPEC --seeds N [--set KEY=V1,V2 ...] [--workers K] [--scheduler ADDRESS] [--out DIR]``
runs :func:`analogvle.pipeline.run` (subprocess ngspice backend) for every
combination of ``circuit.seed = 0..N-1`` and the ``--set`` value lists, in a
local process pool (spawn/forkserver workers; no libngspice state is shared,
ngspice itself runs as a child process per run) or, with ``--scheduler``, on a
Dask distributed cluster. DIR (default ``sims/out/<name>-sweep/``) receives:

- ``runs.csv``: one row per run (run id, seed, each swept key, status "ok" or
  the error, worst nrmse, final loss ½ β ‖target − r_L‖² averaged over the
  last 10 % of the run, wall time in s), rewritten atomically
  after every finished run; rerunning the same command skips the ok rows;
- ``<run id>/``: that run's report (``analogvle run`` output);
- ``sweep.md`` and ``sweep_*.png``: final loss and worst nrmse against each
  swept parameter (see :mod:`analogvle.sweep_report`).

Bad input (a key the spec does not know, a value of the wrong type, an
unreachable scheduler) exits 2 before any run starts. The exit code is 0 when
every run is ok, 1 when a run failed (its row holds the error).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import multiprocessing
import re
import sys
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analogvle.compare.learning import output_loss
from analogvle.errors import SweepError
from analogvle.files import write_text_atomic
from analogvle.model.spec import Spec
from analogvle.model.toml import load_spec, spec_from_dict, spec_to_dict, with_overrides
from analogvle.model.trajectory import Trajectory, load_trajectory
from analogvle.report.sweep import write_sweep_report
from analogvle.workflows.run import run as run_pipeline

FIXED_COLUMNS = ("run_id", "seed")
METRIC_COLUMNS = ("status", "worst_nrmse", "final_loss", "wall_time")
FINAL_FRACTION = 0.1  # the final loss averages the last 10 % of the saved points
SCHEDULER_TIMEOUT = 5.0  # s to connect to a Dask scheduler


@dataclass(frozen=True)
class Run:
    """One point of the sweep: its id, seed and the overrides (dotted key → value) it applies."""

    run_id: str
    seed: int
    params: dict[str, Any]

    @property
    def overrides(self) -> dict[str, Any]:
        return {**self.params, "circuit.seed": self.seed}


# ----------------------------------------------------------------------------
# Planning
# ----------------------------------------------------------------------------


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``key=v1,v2,...`` → (key, [values]); each value a TOML literal (``0.01``, ``"passive"``, ``true``)."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise SweepError(f"--set {text!r}: expected KEY=VALUE[,VALUE...]")
    if not re.fullmatch(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*", key):
        raise SweepError(f"--set {text!r}: expected a dotted key like circuit.mismatch, got {key!r}")
    try:
        parsed = tomllib.loads(f"v = [{values}]")["v"]
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"--set {key}: values {values!r} are not TOML literals (strings need quotes): {exc}") from exc
    if key == "circuit.seed":
        raise SweepError("--set circuit.seed: the seed is swept by --seeds N (seeds 0..N-1)")
    return key, parsed


def plan(seeds: int, sets: list[tuple[str, list[Any]]]) -> list[Run]:
    """The product of seeds 0..seeds-1 and every --set value list, in a stable order."""
    keys = [k for k, _ in sets]
    if len(set(keys)) != len(keys):
        raise SweepError(f"--set: key {next(k for k in keys if keys.count(k) > 1)} given twice")
    runs = []
    for values in itertools.product(*(v for _, v in sets)):
        params = dict(zip(keys, values))
        for seed in range(seeds):
            runs.append(Run(run_id(seed, params), seed, params))
    return runs


def run_id(seed: int, params: dict[str, Any]) -> str:
    """A file-name safe id: ``s003`` then ``_key=value`` per swept key (last key component)."""
    parts = [f"s{seed:03d}"] + [f"{key.rsplit('.', 1)[-1]}={_literal(v)}" for key, v in params.items()]
    return re.sub(r"[^A-Za-z0-9_.=+-]", "-", "_".join(parts))


def validate(spec: Spec, runs: list[Run]) -> dict[str, dict]:
    """Every run's overridden spec as a TOML dict (an unknown key or a wrong type raises SpecError)."""
    return {r.run_id: spec_to_dict(with_overrides(spec, r.overrides)) for r in runs}


# ----------------------------------------------------------------------------
# One run (executes in a worker process)
# ----------------------------------------------------------------------------


def execute(spec_dict: dict, source: str, out: str) -> dict[str, Any]:
    """Run the pipeline for one point (a spec as its TOML dict); never raises: a failure becomes the row's status."""
    start = time.perf_counter()
    row: dict[str, Any] = {"status": "ok", "worst_nrmse": math.nan, "final_loss": math.nan}
    try:
        spec = spec_from_dict(spec_dict, source=source)
        res = run_pipeline(spec, out, backend="subprocess", progress=False)
        row["worst_nrmse"] = float(res.comparison.worst)
        row["final_loss"] = final_loss(load_trajectory(res.files["circuit"]))
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded, never dropped
        message = " ".join(str(exc).split()) or type(exc).__name__
        row["status"] = f"error: {type(exc).__name__}: {message}"
    row["wall_time"] = time.perf_counter() - start
    return row


def final_loss(traj: Trajectory) -> float:
    """Mean of the loss ½ β ‖target − r_L‖² over the last 10 % of the saved points (model units); nan without a target.

    The loss is :func:`analogvle.compare.learning.output_loss`, the one the run's report compares.
    """
    loss = output_loss(traj)
    if loss is None:
        return math.nan
    n = len(loss)
    return float(np.mean(loss[n - max(1, round(FINAL_FRACTION * n)):]))


# ----------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    """Rows of an existing runs.csv by run id (empty if there is none); SweepError if it is not a sweep's table."""
    if not path.is_file():
        return {}
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames and "run_id" not in reader.fieldnames:
                raise SweepError(f"{path} is not a sweep's runs.csv (no run_id column); use another --out or remove it")
            return {row["run_id"]: row for row in reader}
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SweepError(f"{path} is not a sweep's runs.csv ({exc}); use another --out or remove it") from exc


def write_rows(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Write runs.csv atomically (a reader or an interrupted sweep never sees half a table)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k, "")) for k in columns})
    write_text_atomic(path, buf.getvalue())


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict, bool)):
        return _literal(value)
    return str(value)


def _literal(value: Any) -> str:
    """A value as the TOML literal --set would accept."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ",".join(_literal(v) for v in value) + "]"
    return repr(value)


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
) -> tuple[Path, list[dict[str, Any]]]:
    """Run the sweep of ``spec`` (a Spec or a spec file); returns (DIR, rows in plan order).

    Raises SweepError/SpecError before any run on bad input.
    """
    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    if seeds < 1:
        raise SweepError(f"--seeds: expected an integer >= 1, got {seeds}")
    if workers < 1:
        raise SweepError(f"--workers: expected an integer >= 1, got {workers}")
    parsed = [parse_set(s) for s in sets or []]
    runs = plan(seeds, parsed)
    specs = validate(spec, runs)
    name = spec.name
    out = Path(out) if out is not None else Path("sims") / "out" / f"{name}-sweep"
    client = _connect(scheduler) if scheduler else None

    columns = list(FIXED_COLUMNS) + [k for k, _ in parsed] + list(METRIC_COLUMNS)
    table = out / "runs.csv"
    previous = read_rows(table)
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        old = previous.get(run.run_id)
        rows[run.run_id] = old if old and old.get("status") == "ok" else {
            "run_id": run.run_id, "seed": run.seed, **run.params, "status": "pending"}
    todo = [r for r in runs if rows[r.run_id]["status"] != "ok"]
    def ordered() -> list[dict[str, Any]]:
        return [rows[r.run_id] for r in runs]

    write_rows(table, columns, ordered())

    bar = _bar(len(runs), len(runs) - len(todo), progress)
    try:
        for run, row in _results(todo, specs, spec.source, out, workers, client):
            rows[run.run_id] = {"run_id": run.run_id, "seed": run.seed, **run.params, **row}
            write_rows(table, columns, ordered())
            bar.update(1)
            if row["status"] != "ok":
                bar.write(f"{run.run_id}: {row['status']}")
    finally:
        bar.close()
        if client is not None:
            client.close()
    write_sweep_report(out, ordered(), [k for k, _ in parsed], spec_name=name)
    return out, ordered()


def _results(todo: list[Run], specs: dict[str, dict], source: str, out: Path, workers: int,
             client) -> Iterator[tuple[Run, dict]]:
    """(run, row) as runs finish, from the Dask client or a local process pool."""
    if not todo:
        return
    args = [(specs[run.run_id], source, str((out / run.run_id).resolve())) for run in todo]
    if client is not None:
        from dask.distributed import as_completed as dask_completed

        futures = {client.submit(execute, *a, pure=False, key=f"analogvle-{r.run_id}-{time.time_ns()}"): r
                   for r, a in zip(todo, args)}
        for future in dask_completed(futures):
            yield futures[future], future.result()
        return
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
        pending: dict[Future, Run] = {pool.submit(execute, *a): r for r, a in zip(todo, args)}
        try:
            for future in as_completed(pending):
                yield pending[future], future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def _connect(address: str):
    """A dask.distributed Client for ``address``, or SweepError (exit 2) when it cannot be reached quickly."""
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise SweepError("--scheduler needs dask.distributed: pip install 'analogvle[dask]'") from exc
    try:
        return Client(address, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SweepError(f"--scheduler {address}: cannot connect within {SCHEDULER_TIMEOUT:g} s ({reason})") from exc


class _NoBar:
    def update(self, n: int) -> None: ...
    def write(self, text: str) -> None:
        print(text, file=sys.stderr)
    def close(self) -> None: ...


def _bar(total: int, done: int, progress: bool):
    if not progress:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, initial=done, desc="sweep", unit="run", file=sys.stderr, dynamic_ncols=True)
