"""A small process pool for sweeps: a worker that dies fails only its own task, and Ctrl-C stops everything.

``concurrent.futures`` breaks the whole pool when one worker is killed
(BrokenProcessPool: every pending task fails, nothing finishes). Here each
worker has its own pipe; the parent knows which task each one holds, so a
dead worker (SIGKILL, out of memory) fails that task, is replaced, and the
others go on. Workers run in their own process group (so a terminal's Ctrl-C
reaches only the parent, which then kills each worker's whole group — its
ngspice children included — within a second or two).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

STOP_TIMEOUT = 1.0  # s between SIGTERM and SIGKILL when stopping workers


@dataclass(frozen=True)
class WorkerDied:
    """The result of a task whose worker process died while running it."""

    exitcode: int | None

    def __str__(self) -> str:
        if self.exitcode is not None and self.exitcode < 0:
            return f"the worker process was killed by signal {-self.exitcode} ({signal.Signals(-self.exitcode).name})"
        return f"the worker process exited with code {self.exitcode}"


def _worker(conn, function: Callable) -> None:
    os.setpgrp()  # its own process group: the parent can stop it with everything it started
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        task = conn.recv()
        if task is None:
            return
        key, args = task
        conn.send((key, function(*args)))


class _Slot:
    def __init__(self, context, function: Callable):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, function), daemon=True)
        self.process.start()
        child.close()
        self.key: Any = None

    def stop(self) -> None:
        """Terminate the worker and its process group (SIGTERM, then SIGKILL)."""
        pid = self.process.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
            self.process.join(STOP_TIMEOUT if sig == signal.SIGTERM else None)
            if not self.process.is_alive():
                break
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # whatever the worker left running in its group
        self.conn.close()


def run_pool(function: Callable, tasks: Iterable[tuple[Any, tuple]], workers: int,
             context: str = "forkserver") -> Iterator[tuple[Any, Any]]:
    """Yield ``(key, function(*args))`` for every ``(key, args)`` task as it finishes, or ``(key, WorkerDied)``.

    ``function`` must be importable by name (it runs in another process). On
    any exception in the caller (Ctrl-C included) every worker is stopped.
    """
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context(context if context in methods else "spawn")
    pending = list(tasks)[::-1]
    slots: list[_Slot] = []
    try:
        while pending or any(s.key is not None for s in slots):
            idle = [s for s in slots if s.key is None]
            while pending and (idle or len(slots) < workers):
                slot = idle.pop() if idle else _Slot(ctx, function)
                if slot not in slots:
                    slots.append(slot)
                slot.key, args = pending.pop()
                slot.conn.send((slot.key, args))
            busy = [s for s in slots if s.key is not None]
            ready = wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout=0.5)
            for slot in busy:
                if slot.conn in ready:
                    try:
                        key, result = slot.conn.recv()
                    except (EOFError, OSError):
                        pass  # the pipe closed: the worker died (handled below)
                    else:
                        slot.key = None
                        yield key, result
                        continue
                if slot.conn in ready or slot.process.sentinel in ready or not slot.process.is_alive():
                    key = slot.key
                    slot.process.join()
                    died = WorkerDied(slot.process.exitcode)
                    slot.stop()
                    slots.remove(slot)
                    yield key, died
    finally:
        for slot in slots:
            with contextlib.suppress(OSError, ValueError, BrokenPipeError):
                if slot.key is None and slot.process.is_alive():
                    slot.conn.send(None)
        deadline = time.monotonic() + STOP_TIMEOUT
        for slot in slots:
            if slot.key is None:
                slot.process.join(max(0.0, deadline - time.monotonic()))
            slot.stop()
