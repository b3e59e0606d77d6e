"""Ctrl-C in every stage: exit 130 within 2 s, one line on stderr, no output written, nothing left running."""

from __future__ import annotations

import _thread
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from processes import alive, descendants

from analogvle.model.toml import load_spec
from analogvle.model.trajectory import Trajectory, save_trajectory
from analogvle.simulate.run import simulate

ROOT = Path(__file__).resolve().parents[1]
LAGNET = ROOT / "sims/lagnet.toml"
EXIT_WITHIN = 2.0  # s from SIGINT to exit


class Running:
    """A CLI command in a subprocess whose stderr is collected while it runs."""

    def __init__(self, *argv: str, cwd: Path = ROOT):
        self.proc = subprocess.Popen([sys.executable, "-m", "analogvle", *argv], cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.err = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for chunk in iter(lambda: self.proc.stderr.read(1), ""):
            self.err += chunk

    def wait_for(self, marker: str, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while marker not in self.err:
            assert self.proc.poll() is None, f"ended before {marker!r}: {self.err}"
            assert time.monotonic() < end, f"no {marker!r} in: {self.err}"
            time.sleep(0.05)

    def interrupt(self) -> float:
        """SIGINT; the seconds until the process exited (asserts exit 130 and that nothing it started lives on)."""
        self.children = descendants(self.proc.pid)
        start = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        finally:
            self.proc.kill()
        elapsed = time.monotonic() - start
        self._reader.join(2)
        assert self.proc.returncode == 130, self.err
        assert "Traceback" not in self.err and self.err.rstrip().endswith("interrupted"), self.err
        time.sleep(0.2)
        assert not [pid for pid in self.children if alive(pid)], "a child process outlived the command"
        return elapsed


@pytest.mark.parametrize("method,marker", [("adaptive", "adaptive:"), ("rk4", "rk4:"), ("gle-euler", "gle-euler:")])
def test_ctrl_c_stops_the_reference(method, marker, tmp_path):
    spec = tmp_path / "long.toml"
    spec.write_text(LAGNET.read_text().replace("duration = 1000.0", "duration = 200000.0"))
    out = tmp_path / "ref.npz"
    running = Running("reference", str(spec), "-o", str(out), "--method", method)
    running.wait_for(marker)  # the progress bar appears after 2 s of work
    assert running.interrupt() < EXIT_WITHIN
    assert not out.exists() and not list(tmp_path.glob(".*"))


@pytest.mark.parametrize("backend", ["shared", "subprocess"])
def test_ctrl_c_stops_ngspice(backend, tmp_path):
    spec = tmp_path / "long.toml"
    spec.write_text(LAGNET.read_text().replace("duration = 1000.0", "duration = 50000.0"))
    out = tmp_path / "circ.npz"
    running = Running("simulate", str(spec), "-o", str(out), "--backend", backend)
    running.wait_for("ngspice lagnet")
    assert running.interrupt() < EXIT_WITHIN
    assert not out.exists() and not list(tmp_path.glob(".*"))
    if backend == "subprocess":
        assert running.children, "ngspice ran as a child process"


def test_ctrl_c_during_a_run_leaves_the_previous_results_as_they_were(tmp_path):
    spec = tmp_path / "lagnet.toml"
    spec.write_text(LAGNET.read_text().replace("duration = 1000.0", "duration = 5.0"))
    out = tmp_path / "out"
    assert subprocess.run([sys.executable, "-m", "analogvle", "run", str(spec), "--out", str(out)], cwd=ROOT, check=False,
                          capture_output=True, timeout=300).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # a quick reference, a long circuit: 2 million ngspice time points
    spec.write_text(spec.read_text().replace("duration = 5.0", "duration = 20.0") + "\n[simulator]\nmax_step = 1e-5\n")
    running = Running("run", str(spec), "--out", str(out))
    running.wait_for("[3/4] simulate", timeout=600)  # the new reference is computed, ngspice is running
    assert running.interrupt() < EXIT_WITHIN
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # not a file changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lagnet.toml", "out"]  # and no staged leftovers


def test_ctrl_c_stops_a_long_comparison(tmp_path):
    t = np.arange(2_000_000) * 1e-3
    signals = {f"layer{l}/r": np.sin(t * (1 + 0.1 * l))[:, None] * np.ones((1, 8)) for l in range(1, 6)}
    save_trajectory(tmp_path / "ref.npz", Trajectory(t, signals))
    save_trajectory(tmp_path / "circ.npz", Trajectory(t, {k: v + 1e-3 for k, v in signals.items()}))
    running = Running("compare", str(tmp_path / "ref.npz"), str(tmp_path / "circ.npz"), "--report",
                      str(tmp_path / "rep"))
    time.sleep(4.0)  # loading done, comparing
    assert running.proc.poll() is None, running.err
    assert running.interrupt() < EXIT_WITHIN
    assert not (tmp_path / "rep").exists() and not list(tmp_path.glob(".*"))


def test_the_shared_library_is_usable_after_an_interrupted_run():
    spec = load_spec(LAGNET, overrides={"time.duration": 5000.0})
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        simulate(spec, backend="shared", progress=False)
    assert time.monotonic() - start < 1.5 + EXIT_WITHIN
    short = simulate(load_spec(LAGNET, overrides={"time.duration": 5.0}), backend="shared", progress=False)
    assert short["layer1/r"].shape == (51, 2) and np.all(np.isfinite(short["layer1/r"]))
