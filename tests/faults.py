"""A catalogue of bad inputs and faults, each with the outcome the command line must give.

Used by ``tests/test_faults.py`` (in-process, against this checkout) and, as a
script, to tabulate how any checkout of analogvle answers them:

    python tests/faults.py [--pythonpath OTHER_CHECKOUT] [--markdown]

Outcomes: the exit code, whether stderr is one line, whether a Python
traceback appears, the seconds taken.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# without learn_bias (a key older versions do not know), so any checkout reads the same specs
LAGNET = (ROOT / "sims" / "lagnet.toml").read_text().replace("learn_bias = false\n", "")


@dataclass(frozen=True)
class Case:
    name: str
    argv: Callable[[Path], list[str]]
    expect: int  # exit code
    setup: Callable[[Path], None] = lambda tmp: None
    env: dict = field(default_factory=dict)
    check: Callable[[Path, str], bool] = lambda tmp, err: True  # an extra condition on the outcome


def spec_file(tmp: Path, text: str, name: str = "s.toml") -> Path:
    (tmp / name).write_text(text)
    return tmp / name


def lagnet(tmp: Path, old: str = "", new: str = "", extra: str = "") -> str:
    return str(spec_file(tmp, LAGNET.replace(old, new, 1) + extra if old else LAGNET + extra))


def short(tmp: Path, old: str = "", new: str = "", extra: str = "") -> str:
    text = LAGNET.replace("duration = 1000.0", "duration = 2.0").replace("learn_after = 80.0", "learn_after = 1.0")
    return str(spec_file(tmp, (text.replace(old, new, 1) if old else text) + extra))


def ref(tmp: Path, *rest: str) -> list[str]:
    return ["reference", *rest, "-o", str(tmp / "o.npz")]


def traj(tmp: Path, name: str, **arrays) -> str:
    path = tmp / name
    np.savez(path, **arrays)
    return str(path)


T = np.linspace(0, 5, 51)
R = np.sin(T)[:, None]
GOOD = {"t": T, "layer1/r": R}

CASES: list[Case] = [
    # -- the spec file ---------------------------------------------------------
    Case("missing spec file", lambda d: ref(d, str(d / "none.toml")), 2),
    Case("spec is a directory", lambda d: ref(d, str(d)), 2),
    Case("spec is not TOML", lambda d: ref(d, str(spec_file(d, "name = \n"))), 2),
    Case("spec is binary", lambda d: (spec_file(d, ""), (d / "s.toml").write_bytes(b"\xff\xfe\x00\x01"),
                                      ref(d, str(d / "s.toml")))[-1], 2),
    Case("unknown top-level key", lambda d: ref(d, lagnet(d, extra="\n[timee]\n")), 2),
    Case("typo in a layer key", lambda d: ref(d, lagnet(d, "weights = [[0.5], [-0.5]]", "wieghts = [[0.5], [-0.5]]")), 2),
    Case("weights of the wrong shape", lambda d: ref(d, lagnet(d, "weights = [[0.5], [-0.5]]", "weights = [[0.5, 1], [-0.5, 1]]")), 2),
    Case("negative tau_m", lambda d: ref(d, lagnet(d, "tau_m = 1.0\nphi", "tau_m = -1.0\nphi")), 2),
    Case("zero tau_m", lambda d: ref(d, lagnet(d, "tau_m = 1.0\nphi", "tau_m = 0.0\nphi")), 2),
    Case("nan tau_r", lambda d: ref(d, lagnet(d, "tau_r = [1.0, 0.1]", "tau_r = [1.0, nan]")), 2),
    Case("inf tau_m", lambda d: ref(d, lagnet(d, "tau_m = 1.0\nphi", "tau_m = inf\nphi")), 2),
    Case("tau_r list of the wrong length", lambda d: ref(d, lagnet(d, "tau_r = [1.0, 0.1]", "tau_r = [1.0]")), 2),
    Case("unknown activation", lambda d: ref(d, lagnet(d, 'phi = "linear"', 'phi = "lineer"')), 2),
    Case("unknown error mode", lambda d: ref(d, lagnet(d, 'errors = "prospective"', 'errors = "sometimes"')), 2),
    Case("unknown input kind", lambda d: ref(d, lagnet(d, 'kind = "sines"', 'kind = "noise"')), 2),
    Case("missing input file", lambda d: ref(d, lagnet(d, 'kind = "sines"\nomegas = [0.49, 1.07, 1.98]',
                                                       'kind = "file"\npath = "x.npy"')), 2),
    Case("input file is not .npy", lambda d: ((d / "x.npy").write_text("1 2 3"),
                                              ref(d, lagnet(d, 'kind = "sines"\nomegas = [0.49, 1.07, 1.98]',
                                                            'kind = "file"\npath = "x.npy"')))[-1], 2),
    Case("input file too short", lambda d: (np.save(d / "x.npy", np.zeros(10)),
                                            ref(d, lagnet(d, 'kind = "sines"\nomegas = [0.49, 1.07, 1.98]',
                                                          'kind = "file"\npath = "x.npy"')))[-1], 2),
    Case("input file holds nan", lambda d: (np.save(d / "x.npy", np.full(200001, np.nan)),
                                            ref(d, lagnet(d, 'kind = "sines"\nomegas = [0.49, 1.07, 1.98]',
                                                          'kind = "file"\npath = "x.npy"')))[-1], 2),
    Case("dt given as a string", lambda d: ref(d, lagnet(d, "dt = 0.01", 'dt = "0.01"')), 2),
    Case("save_dt not a multiple of dt", lambda d: ref(d, lagnet(d, "save_dt = 0.1", "save_dt = 0.015")), 2),
    Case("duration not a multiple of dt", lambda d: ref(d, lagnet(d, "duration = 1000.0", "duration = 1000.005")), 2),
    Case("layer of size 0", lambda d: ref(d, lagnet(d, "size = 2", "size = 0")), 2),
    Case("teacher output size differs", lambda d: ref(d, lagnet(d, "[[teacher.layer]]\nsize = 1", "")), 2),
    Case("errors without a teacher", lambda d: ref(d, str(spec_file(d, LAGNET.split("[teacher]")[0]))), 2),
    Case("plastic layer without eta", lambda d: ref(d, lagnet(d, "eta = 0.02\n", "")), 2),
    Case("plastic layer without errors", lambda d: ref(d, lagnet(d, 'errors = "prospective"', 'errors = "none"')), 2),
    Case("g_unit = 0", lambda d: ref(d, lagnet(d, "g_unit = 1e-6", "g_unit = 0")), 2),
    Case("unknown backend", lambda d: ref(d, lagnet(d, extra='\n[simulator]\nbackend = "xyce"\n')), 2),
    Case("unknown realization", lambda d: ref(d, lagnet(d, "c_unit = 1e-9", 'c_unit = 1e-9\nrealization = "sky131"')), 2),
    Case("name with a slash", lambda d: ref(d, lagnet(d, 'name = "lagnet"', 'name = "lag/net"')), 2),
    Case("name '..' (would write outside sims/out)", lambda d: ["run", lagnet(d, 'name = "lagnet"', 'name = ".."')],
         2),
    Case("negative learn_after", lambda d: ref(d, lagnet(d, "learn_after = 80.0", "learn_after = -1.0")), 2),
    Case("teacher and target both", lambda d: ref(d, lagnet(d, extra='\n[target]\nkind = "file"\npath = "y.npy"\n')),
         2),
    Case("a layer of width 10^6", lambda d: ["netlist", lagnet(d, "size = 2\ntau_m = [1.0, 1.0]\ntau_r = [1.0, 0.1]"
                                                                 '\nphi = "tanh"\ngamma = 1e-3\nweights = [[0.5, 0.0], '
                                                                 "[0.0, 1.0]]", 'size = 1000000\ntau_m = 1.0\nphi = '
                                                                 '"tanh"\ninit = "normal"'), "-o", str(d / "n.cir")], 2),
    Case("duration 1e12", lambda d: ["simulate", lagnet(d, "duration = 1000.0", "duration = 1e12"), "-o",
                                     str(d / "c.npz")], 2),
    Case("dt = 1e-300", lambda d: ref(d, lagnet(d, "dt = 0.01", "dt = 1e-300")), 2),
    Case("tau below dt for rk4", lambda d: ref(d, lagnet(d, "tau_r = [1.0, 0.1]", "tau_r = [1.0, 0.001]"),
                                               "--method", "rk4"), 2),
    Case("learn_after beyond the run (a warning)", lambda d: ref(d, short(d, "learn_after = 1.0", "learn_after = 5.0")),
         0, check=lambda d, err: "warning" in err and "never learn" in err),
    # -- sweeps ------------------------------------------------------------------
    Case("sweep: unknown --set key", lambda d: ["sweep", short(d), "--set", "circuit.mismatchh=0.1", "--out",
                                                str(d / "sw")], 2),
    Case("sweep: --set value not a TOML literal", lambda d: ["sweep", short(d), "--set", "circuit.mismatch=big",
                                                             "--out", str(d / "sw")], 2),
    Case("sweep: --seeds 0", lambda d: ["sweep", short(d), "--seeds", "0", "--out", str(d / "sw")], 2),
    Case("sweep: --seeds 1000000", lambda d: ["sweep", short(d), "--seeds", "1000000", "--out", str(d / "sw")], 2),
    Case("sweep: unreachable scheduler", lambda d: ["sweep", short(d), "--scheduler", "tcp://127.0.0.1:9", "--out",
                                                    str(d / "sw")], 2),
    Case("sweep: --out holds a foreign runs.csv", lambda d: ((d / "sw").mkdir(), (d / "sw/runs.csv").write_text(
        "a,b\n1,2\n"), ["sweep", short(d), "--out", str(d / "sw")])[-1], 2),
    # -- trajectory files and compare ----------------------------------------------
    Case("compare: missing file", lambda d: ["compare", str(d / "none.npz"), str(d / "none.npz"), "--report",
                                             str(d / "r")], 2),
    Case("compare: not an .npz", lambda d: ((d / "a.npz").write_text("hello"),
                                            ["compare", str(d / "a.npz"), str(d / "a.npz"), "--report", str(d / "r")])[-1],
         2),
    Case("compare: no time array", lambda d: ["compare", traj(d, "a.npz", x=R), traj(d, "b.npz", x=R), "--report",
                                              str(d / "r")], 2),
    Case("compare: time decreasing", lambda d: ["compare", traj(d, "a.npz", t=T[::-1], x=R), traj(d, "b.npz", **GOOD),
                                                "--report", str(d / "r")], 2),
    Case("compare: time holds nan", lambda d: ["compare", traj(d, "a.npz", t=np.where(T > 2, np.nan, T), x=R),
                                               traj(d, "b.npz", **GOOD), "--report", str(d / "r")], 2),
    Case("compare: meta is a JSON list", lambda d: ["compare", traj(d, "a.npz", meta=np.array("[1, 2]"), **GOOD),
                                                    traj(d, "b.npz", **GOOD), "--report", str(d / "r")], 2),
    Case("compare: meta is not JSON", lambda d: ["compare", traj(d, "a.npz", meta=np.array("{oops"), **GOOD),
                                                 traj(d, "b.npz", **GOOD), "--report", str(d / "r")], 2),
    Case("compare: signal of the wrong length", lambda d: ["compare", traj(d, "a.npz", t=T, x=R[:10]),
                                                           traj(d, "b.npz", **GOOD), "--report", str(d / "r")], 2),
    Case("compare: no common signal", lambda d: ["compare", traj(d, "a.npz", t=T, x=R), traj(d, "b.npz", **GOOD),
                                                 "--report", str(d / "r")], 2),
    Case("compare: --tolerance abc", lambda d: ["compare", traj(d, "a.npz", **GOOD), traj(d, "b.npz", **GOOD),
                                                "--tolerance", "abc", "--report", str(d / "r")], 2),
    Case("compare: --tolerance -1", lambda d: ["compare", traj(d, "a.npz", **GOOD), traj(d, "b.npz", **GOOD),
                                               "--tolerance", "-1", "--report", str(d / "r")], 2),
    Case("compare: --report is a file", lambda d: ((d / "r").write_text("x"),
                                                   ["compare", traj(d, "a.npz", **GOOD), traj(d, "b.npz", **GOOD),
                                                    "--report", str(d / "r")])[-1], 2),
    Case("compare: circuit covers 4 % of the run", lambda d: ["compare", traj(d, "a.npz", **GOOD),
                                                              traj(d, "b.npz", t=T[:3], **{"layer1/r": R[:3]}),
                                                              "--report", str(d / "r")], 1),
    Case("compare: circuit holds 1 of 2 requested signals", lambda d: [
        "compare", traj(d, "a.npz", **GOOD, **{"layer1/e": R}), traj(d, "b.npz", **GOOD), "--report", str(d / "r")], 1),
    Case("compare: reference holds inf", lambda d: ["compare", traj(d, "a.npz", t=T, **{"layer1/r": R + np.inf}),
                                                    traj(d, "b.npz", **GOOD), "--report", str(d / "r")], 2),
    Case("compare: circuit diverged to 1e308", lambda d: ["compare", traj(d, "a.npz", **GOOD),
                                                          traj(d, "b.npz", t=T, **{"layer1/r": R * 1e308}),
                                                          "--report", str(d / "r")], 1),
    # -- outputs, circuits, gradients, environment ---------------------------------
    Case("netlist: output is a directory", lambda d: ["netlist", short(d), "-o", str(d)], 2),
    Case("netlist: output under a file", lambda d: ((d / "f").write_text("x"),
                                                    ["netlist", short(d), "-o", str(d / "f" / "n.cir")])[-1], 2),
    Case("netlist: resistor above 1e15 Ohm", lambda d: ["netlist", short(d, "c_unit = 1e-9", "c_unit = 1e-19"), "-o",
                                                        str(d / "n.cir")], 2),
    Case("gradients without a teacher", lambda d: ["gradients", str(spec_file(d, LAGNET.split("[teacher]")[0].replace(
        'errors = "prospective"', 'errors = "none"').replace("plastic = true\neta = 0.02\n", ""))),
        "-o", str(d / "g.json")], 2),
    Case("gradients with beta = 0 (no NaN in JSON)", lambda d: ["gradients", short(d, "beta = 1.0", "beta = 0.0"),
                                                                "-o", str(d / "g.json")], 0,
         check=lambda d, err: "NaN" not in (d / "g.json").read_text()
         and json.loads((d / "g.json").read_text())["layers"]["layer1"]["cosine"] is None),
    Case("a bad ANALOGVLE_NGSPICE_LIBRARY", lambda d: ["simulate", short(d), "-o", str(d / "c.npz")], 2,
         env={"ANALOGVLE_NGSPICE_LIBRARY": "/nonexistent/libngspice.so"}),
]


def run_case(case: Case, tmp: Path, pythonpath: str | None = None) -> dict:
    """Run one case as a subprocess; its outcome."""
    argv = case.argv(tmp)
    env = {**os.environ, **case.env}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "analogvle", *argv], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=int(os.environ.get("FAULT_TIMEOUT", "600")), check=False)
    err = proc.stderr.strip()
    return {"case": case.name, "exit": proc.returncode, "expect": case.expect, "one_line": err.count("\n") == 0,
            "traceback": "Traceback" in proc.stderr, "seconds": time.perf_counter() - start, "stderr": err}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pythonpath", help="run another checkout's analogvle (its folder)")
    parser.add_argument("--json", help="write the outcomes here")
    args = parser.parse_args()
    rows = []
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            row = run_case(case, Path(tmp), args.pythonpath)
        rows.append(row)
        print(f"{row['exit']:>3} (want {row['expect']}) {'1 line' if row['one_line'] else 'lines '} "
              f"{'TRACEBACK' if row['traceback'] else '         '} {row['seconds']:6.1f} s  {case.name}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
