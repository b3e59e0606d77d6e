"""A sweep's folder: its results table (runs.csv) and the lock that keeps a second sweep out."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analogvle.errors import SweepError
from analogvle.files import write_text_atomic

LOCK = ".sweep.lock"


def read_rows(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    """(columns, rows by run id) of an existing runs.csv (none if absent); SweepError if it is not a sweep's."""
    if not path.is_file():
        return [], {}
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames and "run_id" not in reader.fieldnames:
                raise SweepError(f"{path} is not a sweep's runs.csv (no run_id column); use another --out or remove it")
            rows = {row["run_id"]: row for row in reader}
            return list(reader.fieldnames or []), rows
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
        return literal(value)
    return str(value)


def literal(value: Any) -> str:
    """A value as the TOML literal a --set would accept."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ",".join(literal(v) for v in value) + "]"
    return repr(value)


@contextlib.contextmanager
def sweep_lock(out: Path) -> Iterator[None]:
    """Hold ``out``/.sweep.lock for the sweep; SweepError naming the holder if another live sweep has it."""
    out.mkdir(parents=True, exist_ok=True)
    lock = out / LOCK
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
          "command": " ".join(sys.argv)}
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder is not None:
                raise SweepError(f"{out} is in use by another sweep (pid {holder.get('pid')} on {holder.get('host')}, "
                                 f"started {holder.get('started')}: {holder.get('command')}); wait for it or use "
                                 "another --out") from None
            lock.unlink(missing_ok=True)  # a stale lock: its sweep is gone
            continue
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
        break
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _lock_holder(lock: Path) -> dict | None:
    """The lock's holder if that process is alive (on this host), else None."""
    try:
        holder = json.loads(lock.read_text(encoding="utf-8"))
        pid = int(holder["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return {"pid": "?", "host": "?", "started": "?", "command": "unreadable lock file"}
    if holder.get("host") != socket.gethostname():
        return holder
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return holder
