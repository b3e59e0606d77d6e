"""ngspice CPU time per synapse and time point: the package's netlists against a plain yardstick.

Static three-layer networks 1 → w → w → w (tanh, τm = 1, τr = 0.5, no errors,
no plasticity): w + 2w² synapses, 2,000 save points (duration 20, dt =
save_dt = max_step = 0.01). For each width the script writes

* ``lean``: the package's netlist (ideal realization, this tree);
* ``before``: the same spec built by the package at ``--baseline`` (a git
  ref, default the commit before the Norton cell), the previous ideal cell;
* ``yardstick``: not the GLE equations, a cost floor: G synapses into an
  R‖C membrane (R = 1/g_unit, C = g_unit·time_scale·τm), r = tanh(u) by a
  B voltage source, 3 unknowns per neuron, at the same options;

and runs each as ``ngspice -b -r out.raw`` in its own process, reading the
child's user + system CPU time from ``os.wait4``. The transient's CPU is the
full run minus a run of the same netlist stopped after 5 points (parse and
set-up); ``.options acct`` gives the Newton iterations, accepted points and
circuit equations. Variants are interleaved within each repeat; the best
repeat counts. Prints a Markdown table, writes benchmarks/out/simulate.json.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_simulate.py [--widths 10 30 100 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

from analogvle.circuit.ir import Circuit, Sin, Tran, bvoltage, capacitor, resistor, vccs, vsource
from analogvle.formatting import format_number
from analogvle.model.expr import Node, call
from analogvle.model.toml import spec_from_dict
from analogvle.netlist.netlist import build_netlist
from analogvle.netlist.ngspice import NgspiceWriter
from analogvle.simulate.batch import ngspice_executable

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "out" / "simulate.json"
BASELINE = "ffc7ef2"  # the last commit with the summing-node + VCVS ideal cell
SETUP_POINTS = 5
ACCT = {"Transient iterations": "iterations", "Accepted timepoints": "accepted", "Circuit Equations": "equations"}


def network_spec(width: int, points: int = 2000, dt: float = 0.01) -> dict:
    layer = {"size": width, "tau_m": 1.0, "tau_r": 0.5, "phi": "tanh", "init": "normal", "scale": 1.0}
    return {
        "name": f"static{width}",
        "time": {"dt": dt, "duration": points * dt, "save_dt": dt},
        "input": {"kind": "sines", "omegas": [0.49, 1.07, 1.98]},
        "network": {"inputs": 1, "errors": "none", "layer": [{**layer, "seed": i} for i in range(3)]},
    }


def yardstick_text(spec, options: dict, tran: Tran) -> str:
    """G synapses into R‖C (R = 1/g, C = g·ts·τm), r = φ(u) by a B voltage source: u, r, a branch per neuron."""
    sc = spec.circuit
    g, ts, vs = sc.g_unit, sc.time_scale, sc.v_scale
    c = Circuit(title=f"yardstick: {spec.name}")
    inp = spec.input
    for k, (omega, amp, phase) in enumerate(zip(inp.omegas[0], inp.amplitudes[0], inp.phases[0])):
        upper = "x_n0" if k == 0 else f"x_n0_w{k}"
        lower = "0" if k == len(inp.omegas[0]) - 1 else f"x_n0_w{k + 1}"
        wave = Sin(0.0, amp * vs, omega / (2 * np.pi * ts), 0.0, 0.0, float(np.degrees(phase)))
        c.add(vsource(f"Vx_n0_w{k}", upper, lower, wave))
    pre, saves = ["x_n0"], []
    for l, layer in enumerate(spec.network.layers, 1):
        rates = []
        for i in range(layer.size):
            u, r = f"u_l{l}_n{i}", f"r_l{l}_n{i}"
            for j, src in enumerate(pre):
                c.add(vccs(f"Gw_l{l}_n{i}_j{j}", u, src, "0", float(layer.weights[i, j]) * g))
            c.add(resistor(f"Rm_l{l}_n{i}", u, "0", 1.0 / g))
            c.add(capacitor(f"Cm_l{l}_n{i}", u, "0", g * ts * float(layer.tau_m[i])))
            c.add(bvoltage(f"Br_l{l}_n{i}", r, vs * call("tanh", Node(u) / vs) if vs != 1.0 else call("tanh", Node(u))))
            rates.append(r)
            saves += [u, r]
        pre = rates
    c.options, c.saves, c.analyses = dict(options), saves, [tran]
    return NgspiceWriter().format_circuit(c)


def baseline_texts(ref: str, widths: list[int]) -> dict[int, str]:
    """The netlists the package at git ``ref`` writes for each width (built in a child Python)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "analogvle"], capture_output=True, check=True)
    folder = Path(tempfile.mkdtemp(prefix="bench_baseline_"))
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    code = ("import json, sys\nfrom analogvle.model.toml import spec_from_dict\n"
            "from analogvle.netlist.netlist import build_netlist\n"
            "specs = json.loads(sys.stdin.read())\n"
            "print(json.dumps({w: build_netlist(spec_from_dict(s)).text for w, s in specs.items()}))\n")
    specs = json.dumps({w: network_spec(w) for w in widths})
    env = {**os.environ, "PYTHONPATH": str(folder)}  # cwd too: '' on sys.path must not find this tree
    out = subprocess.run([sys.executable, "-c", code], input=specs, capture_output=True, text=True, env=env, cwd=folder,
                         check=True).stdout
    shutil.rmtree(folder, ignore_errors=True)
    return {int(w): text for w, text in json.loads(out).items()}


def with_stop(text: str, stop: float) -> str:
    """The netlist with its transient stopped at ``stop`` seconds and ``acct`` on."""
    def tran(m: re.Match) -> str:
        parts = m.group(0).split()
        parts[2] = format_number(stop)
        return " ".join(parts)

    text = re.sub(r"^\.tran .*$", tran, text, count=1, flags=re.MULTILINE)
    return re.sub(r"^\.options ", ".options acct ", text, count=1, flags=re.MULTILINE)


def run(path: Path) -> dict:
    """CPU seconds (user + system, from wait4) and the acct counts of ``ngspice -b`` on ``path``."""
    with open(path.with_suffix(".log"), "wb") as log:
        proc = subprocess.Popen([ngspice_executable(), "-b", "-r", path.with_suffix(".raw").name, path.name],
                                cwd=path.parent, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    text = path.with_suffix(".log").read_text(errors="replace")
    if status != 0:
        raise RuntimeError(f"ngspice failed on {path}: {text[-500:]}")
    acct = {}
    for label, key in ACCT.items():
        m = re.search(rf"^{label}\s*=\s*(\d+)", text, flags=re.MULTILINE)
        acct[key] = int(m.group(1)) if m else None
    return {"cpu": usage.ru_utime + usage.ru_stime, **acct}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[10, 30, 100, 200])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE, help="git ref of the 'before' netlists ('none': skip)")
    parser.add_argument("--vntol", type=float, default=None, help="override the spec's vntol (V) in every variant")
    args = parser.parse_args()

    before = baseline_texts(args.baseline, args.widths) if args.baseline != "none" else {}
    folder = Path(tempfile.mkdtemp(prefix="bench_simulate_"))
    rows = []
    for width in args.widths:
        spec = spec_from_dict(network_spec(width))
        net = build_netlist(spec)
        tran = net.circuit.tran
        ts = spec.circuit.time_scale
        texts = {"yardstick": yardstick_text(spec, net.circuit.options, tran), "lean": net.text}
        if width in before:
            texts["before"] = before[width]
        if args.vntol is not None:
            texts = {k: re.sub(r"vntol=\S+", f"vntol={format_number(args.vntol)}", t) for k, t in texts.items()}
        paths = {}
        for name, text in texts.items():
            for part, stop in (("full", tran.stop), ("setup", SETUP_POINTS * spec.time.save_dt * ts)):
                p = folder / f"w{width}_{name}_{part}.cir"
                p.write_text(with_stop(text, stop))
                paths[name, part] = p
        results: dict = {key: [] for key in paths}
        for _ in range(args.repeat):
            for key, p in paths.items():  # interleaved: every variant once per repeat
                results[key].append(run(p))
        synapses = int(sum(layer.weights.size for layer in spec.network.layers))
        neurons = int(sum(spec.network.sizes))
        row = {"width": width, "synapses": synapses, "neurons": neurons}
        for name in texts:
            full, setup = results[name, "full"], results[name, "setup"]
            cpu = min(r["cpu"] for r in full) - min(r["cpu"] for r in setup)
            points = full[0]["accepted"] - setup[0]["accepted"]
            row[name] = {
                "cpu_full_s": [r["cpu"] for r in full], "cpu_setup_s": [r["cpu"] for r in setup],
                "transient_cpu_s": cpu, "points": points,
                "ns_per_synapse_point": 1e9 * cpu / (synapses * points),
                "newton_per_point": full[0]["iterations"] / full[0]["accepted"],
                # ngspice counts ground as an equation; the input is 3 SIN sources in series: 3 nodes + 3 branches
                "unknowns_per_neuron": (full[0]["equations"] - 1 - 6) / neurons,
            }
        for name in texts:
            row[name]["x_yardstick"] = row[name]["ns_per_synapse_point"] / row["yardstick"]["ns_per_synapse_point"]
        rows.append(row)
        print(f"width {width}: " + ", ".join(f"{n} {row[n]['ns_per_synapse_point']:.1f} ns ({row[n]['x_yardstick']:.2f}×)"
                                             for n in texts), flush=True)

    names = [n for n in ("before", "lean", "yardstick") if n in rows[0]]
    print()
    print("| width | synapses | netlist | unknowns/neuron | Newton it./point | ns/(synapse·point) | × yardstick |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for r in rows:
        for n in names:
            v = r[n]
            print(f"| {r['width']} | {r['synapses']:,} | {n} | {v['unknowns_per_neuron']:.0f} | "
                  f"{v['newton_per_point']:.2f} | {v['ns_per_synapse_point']:.1f} | {v['x_yardstick']:.2f} |")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "rows": rows, "repeat": args.repeat, "baseline": args.baseline, "vntol": args.vntol,
        "date": time.strftime("%Y-%m-%d %H:%M"), "load_average": os.getloadavg(),
        "ngspice": subprocess.run([ngspice_executable(), "-v"], capture_output=True, text=True,
                                  check=False).stdout.split("\n")[1],
        "machine": {"python": platform.python_version(), "processor": platform.processor(),
                    "cpus": len(os.sched_getaffinity(0))},
    }, indent=2))
    print(f"wrote {OUT}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
