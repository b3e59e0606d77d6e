"""Why the sky130 LagNet's W1 drifts from the reference's: the learning signal ⟨e·x⟩ at fixed weights.

LagNet learns W1 by dW1/dt = η·⟨e1·x⟩. This script holds W1 at the reference-trained weights of a few
moments of the 1000-unit run (sims/lagnet.toml), runs that learning circuit with its learn_after gates
kept shut (100 units, trimmed as analogvle run does, corner tt: the weights hold on their capacitors) and
the reference at those weights, and prints per layer the learning signal of the reference, of the circuit, and of the
circuit's error neurons' ideal form fed with the circuit's own ŭ and errors above
(:func:`analogvle.compare.attribution.learning_signals`), plus the output error's mean offset.
Writes benchmarks/out/sky130_signal.json.

    .venv/bin/python benchmarks/bench_sky130_signal.py [--times 80,300,1000] [--bias-scale 1] [--lags 0,0.02,0.035]

``--lags``: build the error neurons for τr minus each of these (the package's ``network.ERROR_LAG`` by default),
the scan that chose ERROR_LAG.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from analogvle.circuit.cells.sky130 import network
from analogvle.compare.attribution import error_lags, learning_signals
from analogvle.integrate.solve import integrate
from analogvle.model.toml import load_spec
from analogvle.simulate.run import simulate, trimmed_netlist

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out" / "sky130_signal.json"  # sky130_signal_x4.json at bias_scale 4
START = 20.0  # model time units: the average skips the start-up
DURATION = 100.0  # model time units at each set of weights


def at_weights(w1: np.ndarray, bias_scale: float = 1.0) -> dict:
    """Reference and circuit learning signals with layer 1's weights held at ``w1``."""
    spec = load_spec(ROOT / "sims" / "lagnet.toml")
    layers = list(spec.network.layers)
    layers[0] = dataclasses.replace(layers[0], weights=np.asarray(w1, float).reshape(-1, 1))
    spec = dataclasses.replace(spec, network=dataclasses.replace(spec.network, layers=tuple(layers)),
                               time=dataclasses.replace(spec.time, duration=DURATION, learn_after=DURATION),
                               circuit=dataclasses.replace(spec.circuit, realization="sky130", bias_scale=bias_scale))
    ref = integrate(spec, "adaptive")
    circ = simulate(spec, netlist=trimmed_netlist(spec, "sky130", "shared"), progress=False)
    x = ref["x"]
    keep = circ.t >= START
    offset = float(np.mean(circ["layer3/e"][keep] - ref["layer3/e"][keep]))
    return {"W1": np.ravel(w1).tolist(), "reference": learning_signals(spec, ref, x, START),
            "circuit": learning_signals(spec, circ, x, START), "e3_offset": offset,
            "lags_circuit": error_lags(spec, circ, START), "lags_reference": error_lags(spec, ref, START),
            "e3_rms": float(np.sqrt(np.mean(ref["layer3/e"][keep] ** 2)))}


def fmt(values) -> str:
    """``[+0.0123, -0.0456]``: a learning-signal matrix, flattened."""
    return "[" + ", ".join(f"{v:+.4f}" for v in np.ravel(values)) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", default="80,300,1000", help="moments of the reference's 1000-unit run")
    parser.add_argument("--bias-scale", type=float, default=1.0, help="[circuit] bias_scale of the circuit")
    parser.add_argument("--lags", default=str(network.ERROR_LAG), help="error-lag compensations to build (units)")
    args = parser.parse_args()
    trained = integrate(load_spec(ROOT / "sims" / "lagnet.toml"), "adaptive")
    rows = []
    print("| t | lag built | W1 (reference) | <e1 x>: reference | circuit | circuit's local ideal | "
          "<e2 r1>, n1: reference | circuit | output error offset / rms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t, lag in [(float(t), float(lag)) for t in args.times.split(",") for lag in args.lags.split(",")]:
        i = min(int(np.searchsorted(trained.t, t)), len(trained.t) - 1)
        network.ERROR_LAG = lag
        row = {"t": t, "lag": lag, "bias_scale": args.bias_scale,
               **at_weights(trained["layer1/W"][i], args.bias_scale)}
        rows.append(row)
        ref, circ = row["reference"], row["circuit"]

        print(f"| {t:g} | {lag:g} | {fmt(row['W1'])} | {fmt(ref['layer1']['actual'])} | {fmt(circ['layer1']['actual'])} | "
              f"{fmt(circ['layer1']['local'])} | {ref['layer2']['actual'][1][1]:+.4f} | "
              f"{circ['layer2']['actual'][1][1]:+.4f} | {row['e3_offset']:+.4f} / {row['e3_rms']:.3f} |", flush=True)
    for row in rows:
        print(f"t = {row['t']:g}, lag built {row['lag']:g}: error-neuron lags behind their local ideal form (model units), circuit: "
              + ", ".join(f"{k} {v:+.4f}" for k, v in row["lags_circuit"].items()) + "; reference (the form's "
              "sampling bias): " + ", ".join(f"{k} {v:+.4f}" for k, v in row["lags_reference"].items()))
    out = OUT if args.bias_scale == 1.0 else OUT.with_name(f"sky130_signal_x{args.bias_scale:g}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"start": START, "rows": rows}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
