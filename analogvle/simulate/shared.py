"""ngspice as a shared library, in-process, through PySpice's ``NgSpiceShared``.

What this module adds to PySpice 1.5:

- Library name: PySpice 1.5 dlopens ``libngspice.so``, which only Debian's
  ``libngspice0-dev`` provides; we load what ``libngspice0`` ships
  (``libngspice.so.0``, found through the loader cache), or the path in
  ``$ANALOGVLE_NGSPICE_LIBRARY`` / ``$NGSPICE_LIBRARY_PATH``.
- Output handling: PySpice treats every stderr line that is not a
  ``Warning:`` as an error, which breaks on newer ngspice's informational
  lines ("Using SPARSE 1.3 ..."). We collect every line and decide ourselves,
  after the run, whether it failed (see :func:`failure_message`). The
  "Unsupported Ngspice version 39" log line is dropped: 39 works.
- Memory: after each run the plots are destroyed (``destroy all``) and the
  circuit removed (``remcirc``), so thousands of runs in one process do not
  grow (benchmarks/bench_memory.py measures it).

- Ctrl-C: the analysis runs in ngspice's background thread (``bg_run``) while
  this thread waits in short sleeps, so a KeyboardInterrupt arrives here (in a
  cffi callback it would be swallowed); the run is then halted (``bg_halt``),
  the circuit removed, and the library stays usable.

One libngspice holds global state: one instance per process and one run at a
time. Parallel sweeps use the subprocess backend.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from analogvle.errors import ConfigurationError, SimulationError

INSTALL_HINT = "install it with: apt-get install ngspice libngspice0"
POLL = 0.02  # s between checks whether the background run has finished
HALT_TIMEOUT = 2.0  # s to wait for ngspice to halt after Ctrl-C

_FAIL_PATTERNS = re.compile(
    r"timestep too small|singular matrix|simulation\(s\) aborted|circuit not parsed|error|"
    r"could not|can't find|cannot|no such file|interrupted|failed|unknown",
    re.IGNORECASE,
)
_FATAL_PATTERNS = re.compile(
    r"timestep too small|simulation\(s\) aborted|circuit not parsed|simulation interrupted|"
    r"^error|cannot recover|no such file|there aren't any circuits",
    re.IGNORECASE,
)
_NOISE = re.compile(r"^(reference value|trying gmin|note: |warning: further gmin)", re.IGNORECASE)
_PROGRESS = re.compile(r"tran:\s*([0-9.]+)%")


def failure_message(lines: list[str], limit: int = 400) -> str:
    """ngspice's own diagnosis as one line: the distinct error-like lines joined by '; '."""
    seen: list[str] = []
    for line in lines:
        text = " ".join(line.split())
        if text and not _NOISE.match(text) and _FAIL_PATTERNS.search(text) and text not in seen:
            seen.append(text)
    message = "; ".join(seen) or "no diagnostic from ngspice"
    return message if len(message) <= limit else message[: limit - 3] + "..."


def is_fatal(lines: list[str]) -> bool:
    """True when ngspice's output says the analysis did not complete."""
    return any(_FATAL_PATTERNS.search(" ".join(line.split())) for line in lines)


def library_candidates() -> list[str]:
    """Names/paths to try for libngspice, most specific first."""
    names = [os.environ.get("ANALOGVLE_NGSPICE_LIBRARY"), os.environ.get("NGSPICE_LIBRARY_PATH")]
    names.append(ctypes.util.find_library("ngspice"))  # e.g. libngspice.so.0 from the loader cache
    names += ["libngspice.so.0", "libngspice.so"]
    out: list[str] = []
    for name in names:
        if name and name not in out:
            out.append(name)
    return out


def find_library() -> str:
    """The first libngspice that loads; SimulationError with the install command if none does.

    A library named by ``$ANALOGVLE_NGSPICE_LIBRARY`` must load: ConfigurationError (exit 2) otherwise.
    """
    chosen = os.environ.get("ANALOGVLE_NGSPICE_LIBRARY")
    if chosen:
        try:
            ctypes.CDLL(chosen)
        except OSError as exc:
            raise ConfigurationError(f"ANALOGVLE_NGSPICE_LIBRARY={chosen}: cannot load it ({exc}); point it at a "
                                     "libngspice.so, or unset it to use the system's") from exc
        return chosen
    errors = []
    for name in library_candidates():
        try:
            ctypes.CDLL(name)
        except OSError as exc:
            errors.append(str(exc))
            continue
        return name
    raise SimulationError(f"the ngspice shared library was not found ({errors[-1]}); {INSTALL_HINT}")


class _VersionFilter(logging.Filter):
    """Drop PySpice's 'Unsupported Ngspice version N' warning (N = 39 and newer work)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unsupported Ngspice version")


def _make_class():
    from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi

    class _Shared(NgSpiceShared):
        """NgSpiceShared that records output lines instead of judging them."""

        lines: list[str] = []  # noqa: RUF012 - class-level only during start-up; each run sets its own
        on_progress: Callable[[float], None] | None = None
        exited: bool = False
        bg_finished: bool = True

        @staticmethod
        def _send_char(message_c, ngspice_id, user_data):
            self = ffi.from_handle(user_data)
            message = ffi.string(message_c).decode("utf-8", "replace")
            prefix, _, content = message.partition(" ")
            content = content.rstrip("\r\n")
            (self._stderr if prefix == "stderr" else self._stdout).append(content)
            self.lines.append(content)
            return 0

        @staticmethod
        def _send_stat(message_c, ngspice_id, user_data):
            self = ffi.from_handle(user_data)
            match = _PROGRESS.search(ffi.string(message_c).decode("utf-8", "replace"))
            if match and self.on_progress is not None:
                self.on_progress(float(match.group(1)) / 100.0)
            return 0

        @staticmethod
        def _background_thread_running(no_bg_running, ngspice_id, user_data):
            """ngspice calls this when its background thread starts (false) and ends (true)."""
            self = ffi.from_handle(user_data)
            self.bg_finished = bool(no_bg_running)
            return 0

        @staticmethod
        def _exit(exit_status, immediate_unloding, quit_exit, ngspice_id, user_data):
            self = ffi.from_handle(user_data)
            self.exited = True
            return exit_status

    return _Shared, ffi


class SharedNgspice:
    """The process's one libngspice. Get it with :func:`get_shared`."""

    def __init__(self) -> None:
        try:
            cls, self._ffi = _make_class()
        except ImportError as exc:  # pragma: no cover - PySpice is a dependency
            raise SimulationError(f"PySpice is not importable ({exc}); pip install PySpice") from exc
        logger = cls._logger
        if not any(isinstance(f, _VersionFilter) for f in logger.filters):
            logger.addFilter(_VersionFilter())
        cls.LIBRARY_PATH = find_library()
        self._ng = cls(ngspice_id=0)
        self.library = cls.LIBRARY_PATH
        self.version = self._ng.ngspice_version
        self.runs = 0

    def _command(self, command: str) -> int:
        return int(self._ng._ngspice_shared.ngSpice_Command(command.encode("utf-8")))

    def run(
        self,
        netlist_path: str | Path,
        vectors: list[str],
        *,
        on_progress: Callable[[float], None] | None = None,
        init: dict[str, str | None] | None = None,
    ) -> tuple[dict[str, np.ndarray], list[str]]:
        """Source ``netlist_path`` (its folder is the working directory), run its transient, read vectors.

        ``vectors`` are names like ``"v(node)"``; ``init`` the settings to ``set`` before the netlist
        is read (unset again afterwards). Returns ``({"time": ..., "v(node)": ...}, output lines)``
        in seconds and volts. Raises SimulationError with ngspice's message when the run fails.
        """
        path = Path(netlist_path).resolve()
        ng = self._ng
        ng.lines = lines = []
        ng.exited = False
        ng.on_progress = on_progress
        init = init or {}
        try:
            for key, value in init.items():
                self._command(f"set {key}" + ("" if value is None else f"={value}"))
            with contextlib.chdir(path.parent):
                rc = self._command(f"source {path.name}")
                if rc or ng.exited or is_fatal(lines):
                    raise SimulationError(f"ngspice could not load {path.name}: {failure_message(lines)}")
                if self._run_in_background() or ng.exited or is_fatal(lines):
                    raise SimulationError(f"ngspice: {failure_message(lines)}")
                plot = self._current_plot()
                if plot is None or not plot.startswith("tran"):
                    raise SimulationError(f"ngspice ran no transient analysis: {failure_message(lines)}")
                return self._read(plot, ["time", *vectors]), list(lines)
        finally:
            ng.on_progress = None
            for key in init:
                self._command(f"unset {key}")
            self._command("destroy all")
            self._command("remcirc")
            self.runs += 1
            if self.runs % 500 == 0:
                ng._ngspice_shared.ngSpice_Command(self._ffi.NULL)  # free the command history

    def _run_in_background(self) -> int:
        """``bg_run`` and wait for its thread in POLL-second sleeps; on Ctrl-C halt it (``bg_halt``) and re-raise."""
        ng = self._ng
        ng.bg_finished = False
        try:  # bg_run inside: a Ctrl-C that lands as bg_run returns must still halt the thread it started
            rc = self._command("bg_run")
            while not (ng.bg_finished or ng.exited):
                time.sleep(POLL)
        except BaseException:
            self._command("bg_halt")
            deadline = time.monotonic() + HALT_TIMEOUT
            while not ng.bg_finished and time.monotonic() < deadline:
                time.sleep(POLL)
            raise
        return rc

    def _current_plot(self) -> str | None:
        cur = self._ng._ngspice_shared.ngSpice_CurPlot()
        if cur == self._ffi.NULL:
            return None
        return self._ffi.string(cur).decode("utf-8")

    def _read(self, plot: str, names: list[str]) -> dict[str, np.ndarray]:
        ffi = self._ffi
        out = {}
        for name in names:
            vec = name[2:-1] if name.startswith("v(") and name.endswith(")") else name
            if name.startswith("i(") and name.endswith(")"):  # a voltage source's branch current
                vec = f"{name[2:-1]}#branch"
            info = self._ng._ngspice_shared.ngGet_Vec_Info(f"{plot}.{vec}".encode())
            if info == ffi.NULL or info.v_length <= 0:
                raise SimulationError(f"ngspice output has no vector {name!r} in plot {plot}")
            n = info.v_length
            if info.v_realdata != ffi.NULL:
                out[name] = np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()
            else:
                raw = np.frombuffer(ffi.buffer(info.v_compdata, n * 16), dtype=np.float64)
                out[name] = raw[0::2] + 1j * raw[1::2]
        return out


_INSTANCE: SharedNgspice | None = None


def get_shared() -> SharedNgspice:
    """The process's libngspice, loaded on first use (SimulationError if it is not installed).

    ``$ANALOGVLE_NGSPICE_LIBRARY`` is checked on every call: a library that does not load, or
    another one than this process already loaded, is a ConfigurationError (exit 2).
    """
    global _INSTANCE
    chosen = os.environ.get("ANALOGVLE_NGSPICE_LIBRARY")
    if _INSTANCE is not None and chosen and chosen != _INSTANCE.library:
        find_library()  # a library that does not load says so
        raise ConfigurationError(f"ANALOGVLE_NGSPICE_LIBRARY={chosen}: this process already loaded "
                                 f"{_INSTANCE.library}; one libngspice per process")
    if _INSTANCE is None:
        _INSTANCE = SharedNgspice()
    return _INSTANCE


def run_shared(netlist_path: Path, vectors: list[str], *, stop: float | None = None,
               on_progress: Callable[[float], None] | None = None,
               init: dict[str, str | None] | None = None) -> tuple[dict[str, np.ndarray], list[str], int | None]:
    """The ``shared`` backend: (vectors in s and V, ngspice's output lines, its version)."""
    ng = get_shared()
    data, lines = ng.run(netlist_path, vectors, on_progress=on_progress, init=init)
    return data, lines, ng.version
