"""Non-idealities of the physical circuit (CIRCUITS.md, "Non-idealities worth modelling").

Each is a switch in the spec's ``[circuit]`` table, off by default; when every
switch is off nothing here adds or changes an element, so the default netlists
are unchanged. All amplitudes are in model units (× v_scale volts), times in
model time units (× time_scale seconds). Component mismatch, the seventh
non-ideality, perturbs values after elaboration (:func:`analogvle.circuit.passes.apply_mismatch`).

- ``leak_tau``: a plastic weight's or bias's capacitor leaks through
  R = leak_tau·time_scale / c_unit, so a stored value decays as exp(−t/leak_tau).
- ``g_out_ratio``: every transconductor feeding a neuron has the output
  conductance g_out_ratio·g_unit; one resistor per node lumps them in parallel
  on the node they feed (ŭ in the ideal realization, where it also shifts the
  cell's time constants a little; the summing node s in the passive one). The
  DC gain is 1/(1 + n·g_out_ratio) in both.
- ``synapse_linear_range`` V_L: a synaptic transconductor is a differential
  pair, I = g·V_L·tanh(V/V_L) instead of g·V.
- ``multiplier_offset``: the learning multiplier computes e·r + offset, so a
  weight drifts by eta·offset per time unit with no error.
- ``weight_rail``: weight and bias capacitors are clamped to ±weight_rail.
- ``noise``, ``noise_dt``: a noise current into every neuron's input node
  (ŭ or s: the same current either way) of the network (not the teacher) whose RMS is noise·v_scale·g_unit (noise model
  units of V(s) across the summing resistor): white Gaussian samples every
  noise_dt, linear in between (bandwidth about 1/(2·noise_dt)), as ngspice's
  ``trnoise`` makes them, but drawn by NumPy from the circuit seed into a data
  file read by an XSPICE filesource. ngspice 39's ``trnoise`` cannot be seeded
  reproducibly (its Gaussian generator is initialised from the clock at startup;
  ``.options seed``, ``set rndseed``, ``setseed`` and ``-D rndseed`` were tried).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analogvle.circuit.ir import bcurrent, bvoltage, resistor, vccs
from analogvle.formatting import format_number
from analogvle.model.expr import Expr, Node, Scaled, call

#: the rail clamp's time constant C/g_clip, as a fraction of the step dt (its overshoot is eta·e·r·dt·this)
RAIL_STIFFNESS = 1e-3


@dataclass(frozen=True)
class NonIdeal:
    """The switches, in model units; the defaults are the ideal circuit."""

    leak_tau: float | None = None  # model time units; None: the default 1e8 leak (a DC path only)
    g_out_ratio: float = 0.0  # output conductance of each transconductor / g_unit
    synapse_linear_range: float | None = None  # V_L, model units
    multiplier_offset: float = 0.0  # model units of the product e·r
    weight_rail: float | None = None  # model units
    noise: float = 0.0  # RMS, model units of V(s)
    noise_dt: float = 0.0  # model time units between noise samples
    dt: float = 0.01  # the spec's step, model time units (sets the rail clamp's stiffness)

    @classmethod
    def from_spec(cls, spec) -> NonIdeal:
        """The switches of ``spec.circuit`` (noise sampled every save_dt unless noise_dt is set)."""
        c = spec.circuit
        return cls(
            leak_tau=c.leak_tau,
            g_out_ratio=c.g_out_ratio,
            synapse_linear_range=c.synapse_linear_range,
            multiplier_offset=c.multiplier_offset,
            weight_rail=c.weight_rail,
            noise=c.noise,
            noise_dt=c.noise_dt if c.noise_dt is not None else spec.time.save_dt,
            dt=spec.time.dt,
        )

    def describe(self) -> list[str]:
        """One line per active switch (for the netlist header and the report)."""
        f = format_number
        lines = []
        if self.g_out_ratio:
            lines.append(f"finite transconductor output resistance: g_out = {f(self.g_out_ratio)}*g_unit each")
        if self.synapse_linear_range is not None:
            lines.append(f"tanh-limited synapses: I = g*V_L*tanh(V/V_L), V_L = {f(self.synapse_linear_range)}")
        if self.multiplier_offset:
            lines.append(f"learning multiplier offset: e*r + {f(self.multiplier_offset)}")
        if self.weight_rail is not None:
            lines.append(f"weight rails: weights and biases clipped at +-{f(self.weight_rail)}")
        if self.noise:
            lines.append(f"transient noise: {f(self.noise)} RMS into every summing node, sampled every "
                         f"{f(self.noise_dt)} time units")
        return lines


def limited_node(b, src: str, *, owner: str) -> str:
    """The node holding V_L·tanh(V(src)/V_L), built once per driving node ``src`` (a behavioural source).

    Every static synapse driven by ``src`` sees the same V(src) and the same
    V_L, so its current g·V_L·tanh(V(src)/V_L) is g times this node's voltage:
    the tanh is evaluated once per driving neuron instead of once per synapse
    (the same currents; ngspice then spends per synapse what a linear VCCS
    costs). Each synapse keeps its own g, which mismatch perturbs.
    """
    if src not in b.shared:
        vl = b.nonideal.synapse_linear_range * b.scales.v_scale
        out = b.shared[src] = f"tl_{src}"
        b.add(bvoltage(f"Btl_{src}", out, vl * call("tanh", Node(src) / vl), owner=owner,
                       role=f"V_L*tanh(V({src})/V_L): the limited input of every synapse {src} drives (non-ideality)"))
    return b.shared[src]


def tanh_input(b, src: str) -> Expr:
    """V(src), or V_L·tanh(V(src)/V_L) through a differential pair's limited range (a factor of a product)."""
    vl = b.nonideal.synapse_linear_range
    if vl is None:
        return Node(src)
    v_l = vl * b.scales.v_scale
    return v_l * call("tanh", Node(src) / v_l)


def output_resistance(b, name: str, node: str, count: int, *, owner: str) -> None:
    """The output conductances of the ``count`` transconductors feeding ``node``, lumped (parallel)."""
    ratio = b.nonideal.g_out_ratio
    if ratio and count:
        b.add(resistor(name, node, "0", 1.0 / (count * ratio * b.scales.g_unit), owner=owner,
                       role=f"output resistance of {count} transconductor(s) (non-ideality)"))


def offset_term(b) -> float:
    """The multiplier offset in V² (added to the learning product V(e)·V(r)); 0 when off."""
    return b.nonideal.multiplier_offset * b.scales.v_scale**2


def weight_rail(b, name: str, node: str, *, owner: str) -> None:
    """Clamp a weight/bias capacitor voltage to ±rail: a stiff conductance beyond the rail."""
    rail = b.nonideal.weight_rail
    if rail is None:
        return
    sc = b.scales
    g = sc.c_unit / (RAIL_STIFFNESS * b.nonideal.dt * sc.time_scale)
    v_r = rail * sc.v_scale
    v = Node(node)
    clamp = call("max", v - v_r, 0) + call("min", v + v_r, 0)
    b.add(bcurrent(name, node, Scaled(-g, clamp), owner=owner,
                   role=f"supply rail clamp at +-{format_number(v_r)} V (non-ideality)"))


def noise_node(tag: str) -> str:
    """The node holding the noise voltage (v_scale V per model unit) of summing node ``s_{tag}``."""
    return f"nz_{tag}"


def noise_source(b, name: str, node: str, tag: str, *, owner: str) -> None:
    """A noise current g_unit·V(nz_tag) into summing node ``node`` (RMS noise·v_scale·g_unit A)."""
    if b.nonideal.noise:
        b.add(vccs(name, node, noise_node(tag), "0", b.scales.g_unit, owner=owner,
                   role="transient noise current g_unit*V(nz) (non-ideality)"))


def noise_samples(ni: NonIdeal, seed: int, channels: int, duration: float) -> np.ndarray:
    """Gaussian samples (rows every noise_dt up to duration + 1 step, one column per summing node), model units."""
    rows = int(np.ceil(duration / ni.noise_dt)) + 2
    return ni.noise * np.random.default_rng([seed, 0x6E6F6973]).standard_normal((rows, channels))
