"""What a spec will cost, estimated from the spec alone, and the limits a command checks before any work.

A typo can make a spec enormous (a width of 10⁶, a duration of 10¹², dt = 1e-300);
without a check that shows up as a MemoryError traceback or an ngspice run
that eats the machine. :func:`estimate` counts neurons, synapses, steps and
time points; :func:`check_budget` refuses (LimitError, exit 2) a spec that
exceeds :data:`LIMITS` for the stages a command runs, naming the key to
change. ``--allow-large`` (``allow=True``) skips the check.
"""

from __future__ import annotations

from dataclasses import dataclass

from analogvle.errors import LimitError
from analogvle.model.spec import Spec

BYTES = 8  # a float64
NETLIST_BYTES_PER_ELEMENT = 60  # one line of ngspice text, typical
NGSPICE_BYTES_PER_POINT = 3 * BYTES  # per probed node and time point: ngspice's vector, our copy, the resampling


def available_memory() -> int:
    """Bytes of memory available to this process (MemAvailable; 8 GiB where it cannot be read)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30


@dataclass(frozen=True)
class Limits:
    memory: int  # bytes any one stage may allocate
    netlist: int  # bytes of netlist text
    circuit_points: float  # ngspice time points of one transient
    steps: float  # reference steps


def default_limits() -> Limits:
    return Limits(memory=available_memory() // 2, netlist=2 * 2**30, circuit_points=5e7, steps=1e10)


@dataclass(frozen=True)
class Budget:
    """Sizes of one spec's run: counts, and bytes of each stage's largest allocation."""

    neurons: int
    synapses: int  # forward synapses of network and teacher
    steps: float  # reference steps (duration / dt)
    saved_points: float  # points of the save grid
    circuit_points: float  # ngspice time points (duration / max_step)
    reference_bytes: float
    netlist_bytes: float
    circuit_bytes: float


def estimate(spec: Spec) -> Budget:
    """The sizes of ``spec``'s run (all from the spec; nothing is allocated)."""
    nets = [spec.network] + ([spec.teacher] if spec.teacher is not None else [])
    neurons = sum(sum(net.sizes) for net in nets)
    synapses = sum(layer.size * layer.fan_in for net in nets for layer in net.layers)
    plastic = sum(layer.size * layer.fan_in for layer in spec.network.layers if layer.plastic)
    steps = spec.time.duration / spec.time.dt
    saved = spec.time.duration / spec.time.save_dt + 1
    circuit_points = max(spec.time.duration / spec.max_step, saved)
    per_point = 6 * neurons + plastic + spec.network.inputs  # u, ŭ, r, v, e, b per neuron; W; x
    elements = 15 * neurons + synapses * (2 if spec.network.errors != "none" else 1) + 3 * plastic
    return Budget(neurons=neurons, synapses=synapses, steps=steps, saved_points=saved, circuit_points=circuit_points,
                  reference_bytes=BYTES * (2 * saved * per_point + 2 * synapses),
                  netlist_bytes=NETLIST_BYTES_PER_ELEMENT * elements,
                  circuit_bytes=NGSPICE_BYTES_PER_POINT * circuit_points * per_point)


def check_budget(spec: Spec, stages: tuple[str, ...], *, allow: bool = False, limits: Limits | None = None) -> Budget:
    """LimitError (exit 2) if ``spec`` exceeds the limits in any of ``stages`` ('reference', 'netlist', 'circuit').

    The message names the quantity, its estimate, the limit and the spec key that drives it.
    """
    budget = estimate(spec)
    if allow:
        return budget
    lim = limits or default_limits()
    widest = max(range(len(spec.network.layers)), key=lambda i: spec.network.layers[i].size)
    width_key = f"network.layer.{widest + 1}.size"
    time_key = "time.dt" if spec.time.dt < 1e-6 else "time.duration"  # which one made the count absurd
    checks = {
        "reference": [(budget.steps, lim.steps, time_key, f"{budget.steps:.3g} reference steps (duration / dt)",
                       "steps"),
                      (budget.reference_bytes, lim.memory, width_key, _bytes(budget.reference_bytes) +
                       " of reference trajectories", "of memory")],
        "netlist": [(budget.netlist_bytes, lim.netlist, width_key, f"{budget.synapses:.3g} synapses, about " +
                     _bytes(budget.netlist_bytes) + " of netlist", "of netlist")],
        "circuit": [(budget.circuit_points, lim.circuit_points, time_key,
                     f"{budget.circuit_points:.3g} ngspice time points (duration / max_step)", "points"),
                    (budget.circuit_bytes, lim.memory, "time.duration", _bytes(budget.circuit_bytes) +
                     " of circuit vectors", "of memory")],
    }
    for stage in stages:
        for value, limit, key, what, unit in checks[stage]:
            if value > limit:
                shown = _bytes(limit) if unit in ("of memory", "of netlist") else f"{limit:.3g}"
                raise LimitError(f"the run would need {what}, above the limit of {shown} {unit}; reduce it, or "
                                 "pass --allow-large to try anyway", key=key, source=spec.source)
    return budget


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"
