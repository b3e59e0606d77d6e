"""``analogvle evaluate``: a trained network's forward path as an ngspice circuit, classifying test samples.

The samples are concatenated back to back into one sampled input (one value
per dt step, linearly interpolated like the circuit's source) and run through
a forward-only spec (:func:`forward_spec`: the task spec's network with the
trained weights as static weights, errors off) in one transient per chunk
(``workers`` chunks run in parallel processes). The same chunks run through
the package's reference integrator (``rk4`` at dt, the continuous equations
the circuit implements) and through ``gle-euler`` (the discrete semantics
the network was trained in). A sample's class is the argmax of the output
summed over its steps (the training read-out). The state runs on from one
sample into the next, as in training, in all three.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analogvle.circuit.build import build_circuit
from analogvle.circuit.probes import probe_nodes
from analogvle.errors import AnalogvleError, SimulationError, SpecError
from analogvle.files import staged_folder
from analogvle.integrate.batched.training import task_samples
from analogvle.integrate.solve import integrate
from analogvle.model.budget import check_budget
from analogvle.model.network import NetworkSpec
from analogvle.model.spec import Spec, TimeSpec
from analogvle.model.stimulus import InputSpec
from analogvle.netlist.netlist import write_circuit
from analogvle.report.classification import classification_metrics, write_classification_report
from analogvle.simulate.run import simulate
from analogvle.workflows.pool import WorkerDied, run_pool

REFERENCE_METHOD = "rk4"


@dataclass
class Evaluation:
    """Class decisions and summed outputs of the circuit and the references on the same samples."""

    indices: np.ndarray  # positions of the samples in the evaluation split
    labels: np.ndarray
    predicted: dict[str, np.ndarray]  # "circuit", "reference" (rk4), "gle-euler" -> (n,)
    logits: dict[str, np.ndarray]  # same keys -> (n, classes), outputs summed over each sample
    traces: dict[str, np.ndarray]  # "t", "circuit", "reference": the output of the first samples (T, classes)
    timings: dict[str, float] = field(default_factory=dict)
    ngspice_points: int = 0

    def accuracy(self, who: str) -> float:
        return float(np.mean(self.predicted[who] == self.labels))

    @property
    def agreement(self) -> float:
        return float(np.mean(self.predicted["circuit"] == self.predicted["reference"]))

    def confusion(self, who: str = "circuit", classes: int = 10) -> np.ndarray:
        out = np.zeros((classes, classes), dtype=np.int64)
        np.add.at(out, (self.labels, self.predicted[who]), 1)
        return out


def forward_spec(spec: Spec, weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, *, name: str = "") -> Spec:
    """A forward-only spec: ``spec``'s network with ``weights`` (static), errors off, the samples ``x`` (n, steps)
    back to back as a sampled input at dt (the last value held one more step)."""
    layers = tuple(dataclasses.replace(layer, weights=W, bias=b, plastic=False, eta=0.0, gamma=0.0)
                   for layer, (W, b) in zip(spec.network.layers, weights))
    for i, old in enumerate(spec.network.layers, 1):
        if old.gamma != 0.0:
            raise SpecError("evaluate runs the forward path alone; it needs gamma = 0",
                            key=f"network.layer.{i}.gamma", source=spec.source)
    data = np.concatenate([x.ravel(), x.ravel()[-1:]])[:, None]
    dt = spec.time.dt
    n_steps = x.size
    return dataclasses.replace(
        spec, name=name or f"{spec.name}-eval", task=None,
        time=TimeSpec(dt=dt, duration=n_steps * dt, save_dt=dt),
        input=InputSpec(kind="file", channels=1, path=Path(f"{spec.name}_samples.npy"), data=data),
        network=NetworkSpec(inputs=1, layers=layers, errors="none", beta=spec.network.beta))


def summed_outputs(signal: np.ndarray, n: int, steps: int) -> np.ndarray:
    """Per sample, the output summed over its steps: points k·steps+1 .. (k+1)·steps of the save grid
    (the state after each of the sample's input steps), (n, classes)."""
    return signal[1: n * steps + 1].reshape(n, steps, -1).sum(axis=1)


def evaluate_chunk(spec: Spec, weights, x: np.ndarray, realization: str | None, backend: str | None,
                   traces: int = 0) -> dict:
    """Circuit, rk4 and gle-euler on the samples ``x``: summed outputs, output traces, timings, points."""
    fspec = forward_spec(spec, weights, x)
    top = f"layer{len(fspec.network.layers)}/r"
    steps, timings = x.shape[1], {}
    t0 = time.perf_counter()
    ref = integrate(fspec, REFERENCE_METHOD, progress=False)
    timings["reference"] = time.perf_counter() - t0
    euler = integrate(fspec, "gle-euler", progress=False)
    timings["gle-euler"] = time.perf_counter() - t0 - timings["reference"]
    t0 = time.perf_counter()
    built = build_circuit(fspec, realization)
    keep = {top: built.probes[top]}  # only the output is read back: ngspice keeps only these nodes
    built.circuit.saves = sorted(probe_nodes(keep))
    netlist = write_circuit(fspec.name, built.circuit, keep, built.time_scale, built.summary)
    circ = simulate(fspec, backend=backend, netlist=netlist, progress=False)
    timings["circuit"] = time.perf_counter() - t0
    timings["ngspice"] = circ.meta["producer"]["ngspice_wall_time"]
    n = len(x)
    span = traces * steps + 1
    return {"logits": {"circuit": summed_outputs(circ[top], n, steps), "reference": summed_outputs(ref[top], n, steps),
                       "gle-euler": summed_outputs(euler[top], n, steps)},
            "traces": {"t": ref.t[:span], "circuit": circ[top][:span], "reference": ref[top][:span], "steps": steps},
            "timings": timings, "points": circ.meta["producer"]["circuit_points"]}


def _chunk_task(spec: Spec, weights, x, realization, backend, traces) -> tuple[str, object]:
    """:func:`evaluate_chunk` in a worker: ("ok", result) or ("error", the exception) (a worker must not raise)."""
    try:
        return "ok", evaluate_chunk(spec, weights, x, realization, backend, traces)
    except AnalogvleError as exc:
        return "error", exc


def evaluate(spec: Spec, weights: list[tuple[np.ndarray, np.ndarray]], *, samples: int = 200, first: int = 0,
             realization: str | None = None, backend: str | None = None, workers: int = 1,
             traces: int = 4, allow_large: bool = False) -> Evaluation:
    """Classify ``samples`` samples of the task's evaluation split (from ``first``) in the circuit and the
    references; ``workers`` > 1 splits them into that many chunks run in parallel processes.

    Each chunk's forward spec is held to the size limits (:mod:`analogvle.model.budget`) before any work;
    ``allow_large`` skips that check.
    """
    _, _, xt, yt = task_samples(spec)
    if not 1 <= samples <= len(xt) - first:
        raise SpecError(f"expected 1..{len(xt) - first} samples (the evaluation split holds {len(xt)}), "
                        f"got {samples}", key="--samples")
    idx = np.arange(first, first + samples)
    chunks = [c for c in np.array_split(idx, max(1, min(workers, samples))) if len(c)]
    for c in chunks:
        check_budget(forward_spec(spec, weights, xt[c]), ("reference", "netlist", "circuit"), allow=allow_large)
    start = time.perf_counter()
    tasks = [(k, (spec, weights, xt[c], realization, backend, traces if k == 0 else 0)) for k, c in enumerate(chunks)]
    if len(chunks) == 1:
        results = {0: ("ok", evaluate_chunk(*tasks[0][1]))}
    else:
        results = dict(run_pool(_chunk_task, tasks, len(chunks)))
    parts = []
    for k in range(len(chunks)):
        outcome = results[k]
        if isinstance(outcome, WorkerDied):
            raise SimulationError(f"evaluation chunk {k + 1} of {len(chunks)}: {outcome}")
        status, value = outcome
        if status == "error":
            raise value
        parts.append(value)
    logits = {who: np.concatenate([p["logits"][who] for p in parts]) for who in parts[0]["logits"]}
    timings = {k: float(sum(p["timings"][k] for p in parts)) for k in parts[0]["timings"]}
    timings["wall"] = time.perf_counter() - start
    return Evaluation(indices=idx, labels=yt[idx], predicted={k: np.argmax(v, axis=1) for k, v in logits.items()},
                      logits=logits, traces=parts[0]["traces"], timings=timings,
                      ngspice_points=int(sum(p["points"] for p in parts)))


def evaluate_to(out: str | Path, spec: Spec, weights: list[tuple[np.ndarray, np.ndarray]], *, samples: int = 200,
                realization: str | None = None, backend: str | None = None, workers: int = 1,
                allow_large: bool = False) -> dict:
    """:func:`evaluate` and its report installed into the folder ``out`` in one step; returns the metrics."""
    realization = realization or spec.circuit.realization
    with staged_folder(out) as stage:
        ev = evaluate(spec, weights, samples=samples, realization=realization, backend=backend, workers=workers,
                      allow_large=allow_large)
        metrics = classification_metrics(ev, realization=realization, samples_split=spec.task.train.evaluate_on)
        write_classification_report(stage, ev, metrics, title=f"{spec.name}: the trained network as a circuit")
    return metrics
