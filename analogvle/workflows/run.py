"""The main job: reference, netlist, simulation and comparison of one spec, in one call.

``analogvle run SPEC [--out DIR]`` writes into DIR (default ``sims/out/<name>/``):

- ``reference.npz``: the adaptive NumPy reference;
- ``<name>.cir`` (and its data files): the netlist that was simulated;
- ``circuit.npz``: the circuit's trajectory, in model units;
- ``metrics.json``, ``report.md``, ``summary.png``, ``layer*.png``: the comparison;
- ``learning.png``: circuit and ideal learning on one plot (plastic specs);
- ``bode.png``: a neuron's AC response against the analytic filters.

It exits 0 when every compared signal is within the spec's tolerance, 1 when
one is not.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analogvle.circuit.cells import get_cells
from analogvle.circuit.passes import format_summary
from analogvle.compare.attribution import cell_errors
from analogvle.compare.metrics import Comparison, compare
from analogvle.errors import NetlistError, SimulationError
from analogvle.files import staged_folder
from analogvle.integrate.solve import integrate
from analogvle.model.spec import Spec
from analogvle.model.trajectory import save_trajectory
from analogvle.netlist.netlist import build_netlist
from analogvle.registry import REALIZATIONS
from analogvle.report.bode import plot_bode
from analogvle.report.learning_plot import plot_learning, teacher_weights
from analogvle.report.write import write_report_files
from analogvle.simulate.run import simulate, trimmed_netlist

DEMO_SPEC = Path(__file__).resolve().parent.parent.parent / "sims" / "lagnet.toml"


@dataclass
class RunResult:
    out: Path
    comparison: Comparison
    files: dict[str, Path]
    timings: dict[str, float]  # s per stage


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(
    spec: Spec,
    out: str | Path | None = None,
    *,
    realization: str | None = None,
    backend: str | None = None,
    progress: bool = True,
) -> RunResult:
    """Run every stage for ``spec`` and write the results into ``out`` (default ``sims/out/<name>/``).

    Everything is written into a temporary folder beside ``out`` and installed
    in one step when the run completes: an interrupted or failed run leaves
    ``out`` as it was.
    """
    out = Path(out) if out is not None else Path("sims") / "out" / spec.name
    realization = realization or spec.circuit.realization
    timings: dict[str, float] = {}
    say = _say if progress else (lambda message: None)
    if REALIZATIONS.has(realization, "transistor"):  # what it cannot build is bad input: say so before the reference
        get_cells(realization).check(spec)
    with staged_folder(out) as stage:
        start = time.perf_counter()
        say(f"[1/4] reference: adaptive integration of {spec.name} over {spec.time.duration:g} time units")
        ref = integrate(spec, "adaptive", progress=progress)
        save_trajectory(stage / "reference.npz", ref)
        timings["reference"] = time.perf_counter() - start

        start = time.perf_counter()
        say(f"[2/4] netlist: {realization} realization")
        netlist = trimmed_netlist(spec, realization, backend or spec.simulator.backend)
        netlist.write(stage / f"{spec.name}.cir")
        for line in format_summary(netlist.summary):
            say(f"      {line}")
        timings["netlist"] = time.perf_counter() - start

        start = time.perf_counter()
        say(f"[3/4] simulate: ngspice transient ({backend or spec.simulator.backend} backend)")
        circ = simulate(spec, backend=backend, realization=realization, netlist=netlist, progress=progress)
        save_trajectory(stage / "circuit.npz", circ)
        timings["simulate"] = time.perf_counter() - start

        start = time.perf_counter()
        say("[4/4] compare: circuit against reference")
        result = compare(ref, circ, signals=spec.compare.signals, tolerance=spec.compare.tolerance,
                         coverage=spec.compare.coverage)
        write_report_files(result, stage, reference_path=out / "reference.npz", circuit_path=out / "circuit.npz")
        hardware = hardware_section(spec, netlist.summary, ref, circ, stage)
        extras = []
        if spec.network.plastic:
            plot_learning([(circ, f"circuit ({realization})"), (ref, "reference (adaptive)")], stage / "learning.png",
                          teacher_weights=teacher_weights(spec),
                          title=f"{spec.name}: learning in the circuit and in the ideal model")
            extras.append(("Learning", "learning.png",
                           "Circuit (solid) and ideal (dashed) learning; teacher weights dotted."))
        if _bode(spec, realization, stage / "bode.png", say):
            extras.append(("Frequency response", "bode.png",
                           ("ngspice `.ac` of one neuron's cells against (1 + sτr)/(1 + sτm), its inverse and the "
                           "exact adjoint filter.")))
        sections = "".join(f"\n## {title}\n\n{caption}\n\n![{title}]({image})\n" for title, image, caption in extras)
        report = stage / "report.md"
        report.write_text(report.read_text(encoding="utf-8") + sections + hardware
                          + circuit_section(spec, realization, netlist.summary), encoding="utf-8")
        timings["compare"] = time.perf_counter() - start
        written = sorted(p.name for p in stage.iterdir())
    files = {"reference": out / "reference.npz", "netlist": out / f"{spec.name}.cir", "circuit": out / "circuit.npz",
             "report": out / "report.md"}
    files.update({name.removesuffix(".png"): out / name for name in written if name in ("learning.png", "bode.png")})
    return RunResult(out=out, comparison=result, files=files, timings=timings)


def hardware_section(spec: Spec, summary: dict, ref, circ, stage: Path) -> str:
    """A transistor realization's mapping and error by cell: into metrics.json ("hardware") and report.md."""
    hardware = summary.get("hardware")
    if hardware is None:
        return ""
    errors = cell_errors(spec, ref, circ)
    hardware = {**hardware, **supply_power(hardware, circ), "cell_errors": errors,
                "largest_error_cell": next(iter(errors), None),
                "ngspice_wall_time_s": circ.meta.get("producer", {}).get("ngspice_wall_time")}
    path = stage / "metrics.json"
    metrics = json.loads(path.read_text(encoding="utf-8"))
    metrics["hardware"] = hardware
    path.write_text(json.dumps(metrics, indent=2, allow_nan=False, default=float) + "\n", encoding="utf-8")
    lines = ["", "## Error by cell", "",
             ("Each stage against its ideal form fed with the circuit's own input (RMS / peak-to-peak of the "
             "reference signal): the largest names the cell that contributes most of the error."), "",
             "| stage | local nrmse |", "|---|---|"]
    lines += [f"| {name} | {value:.3g} |" for name, value in errors.items()]
    if errors:
        lines += ["", f"Largest: **{next(iter(errors))}**."]
    if "power_W" in hardware:
        lines += ["", (f"Mean supply power {1e6 * hardware['power_W']:.3g} µW at {hardware['vdd_V']:g} V (measured: "
                      f"the transient's VDD current); per neuron {1e9 * hardware['power_per_neuron_W']:.3g} nW, per "
                      f"synapse {1e9 * hardware['power_per_synapse_W']:.3g} nW (split by the cells' design bias "
                      f"currents); energy per synapse per model time unit "
                      f"{1e12 * hardware['energy_per_synapse_per_time_unit_J']:.3g} pJ"
                      + (f"; learning {1e12 * hardware['energy_per_synaptic_update_per_time_unit_J']:.3g} pJ per "
                         "synaptic update per model time unit" if "energy_per_synaptic_update_per_time_unit_J" in hardware
                         else "") + ". Area "
                      f"{1e-6 * hardware['area_total_um2']:.3g} mm² ({hardware['area_per_neuron_um2']:.0f} µm² per "
                      f"neuron, {hardware['area_per_synapse_um2']:.0f} µm² per synapse); {hardware['area_assumption']}.")]
    m = hardware["mapping"]
    lines += ["", (f"Mapping (measured by `analogvle characterize`): VU = {1e3 * m['VU']:.2f} mV per unit, "
                  f"I0 = {1e9 * m['I0']:.3f} nA, 1 time unit = {1e6 * m['T_unit_s']:.0f} µs; "
                  f"devices: {hardware['devices']}.")]
    return "\n".join(lines) + "\n"


def supply_power(hardware: dict, circ) -> dict:
    """Mean supply power from the transient's VDD current, split by the cells' design bias currents."""
    if "hardware/supply_uA" not in circ.signals:
        return {}
    vdd = 1.8
    power = vdd * 1e-6 * float(np.mean(circ["hardware/supply_uA"]))
    design = hardware["design_current_A"]
    chip = sum(v for k, v in design.items() if k != "probes")
    total = sum(design.values())
    share = {k: power * v / total for k, v in design.items()}
    per_synapse = share["synapses"] / max(hardware["synapses"], 1)
    learning = {}
    if hardware.get("plastic_synapses"):  # the learning multiplier and gate of one plastic synapse
        per_update = share.get("learning", 0.0) / hardware["plastic_synapses"]
        learning = {"power_per_plastic_synapse_learning_W": per_update,
                    "energy_per_synaptic_update_per_time_unit_J": per_update * hardware["mapping"]["T_unit_s"]}
    return {**learning, "vdd_V": vdd, "power_W": power, "power_chip_W": power * chip / total, "power_by_part_W": share,
            "power_per_neuron_W": share["neurons"] / max(hardware["neurons"], 1), "power_per_synapse_W": per_synapse,
            "energy_per_synapse_per_time_unit_J": per_synapse * hardware["mapping"]["T_unit_s"],
            "power_note": "measured mean VDD current x 1.8 V (r-probes included in power_W, excluded from "
                          "power_chip_W); split between parts by their design bias currents"}


def _bode(spec: Spec, realization: str, path: Path, say) -> bool:
    """The Bode plot of the first neuron with τr ≠ τm; False (and a line on stderr) if ngspice fails on it."""
    if REALIZATIONS.has(realization, "transistor"):
        say("      no Bode plot: the transistor cells' AC responses are in `analogvle characterize`")
        return False
    try:
        plot_bode(spec, realization, path)
    except SimulationError as exc:  # the Bode plot is supplementary: say so, keep the comparison
        say(f"      no Bode plot: {exc}")
        return False
    return True


def circuit_section(spec: Spec, realization: str, summary: dict) -> str:
    """Markdown: the simulated circuit's element counts and value ranges beside the other realization's."""
    other = next(name for name in REALIZATIONS.names() if name != realization)
    try:
        other_summary = build_netlist(spec, other).summary
    except NetlistError as exc:
        return f"\n## Circuit\n\nThe {other} realization cannot build this spec: {exc}\n"
    cols = (realization, other)
    sums = (summary, other_summary)
    lines = ["", "## Circuit", "",
             f"How the simulated {realization} realization differs from the {other} one (same spec, same scales).",
             "", f"| | {cols[0]} (simulated) | {cols[1]} |", "|---|---|---|"]
    for kind in ("R", "C", "G", "E", "B"):
        lines.append(f"| {kind} elements | {sums[0]['counts'][kind]} | {sums[1]['counts'][kind]} |")
    lines.append(f"| all elements (nodes) | {sums[0]['elements']} ({sums[0]['nodes']}) | "
                 f"{sums[1]['elements']} ({sums[1]['nodes']}) |")
    units = {"R": "Ohm", "C": "F", "G": "S", "E": "gain"}
    for kind, unit in units.items():
        cells = [f"{r[kind][0]:.3g} .. {r[kind][1]:.3g}" if kind in r else "–" for r in (x["ranges"] for x in sums)]
        lines.append(f"| {kind} range [{unit}] | {cells[0]} | {cells[1]} |")
    notes = summary.get("non_idealities") or []
    if notes:
        lines += ["", "Non-idealities in the simulated circuit:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"
