"""The settings part of the spec: circuit scales and non-idealities, simulator options, comparison."""

from __future__ import annotations

from dataclasses import dataclass

from analogvle.model import checks as c
from analogvle.model.checks import Value
from analogvle.registry import BACKENDS, REALIZATIONS

TRAN_METHODS = ("trap", "gear")
#: the matrix solver: "auto" (KLU when the loaded ngspice has it, else Sparse 1.3), or either one explicitly
SOLVERS = ("auto", "sparse", "klu")
TRIMS = ("full", "nodes", "none")  # a transistor realization's start-up calibration


@dataclass(frozen=True, eq=False)
class CircuitSpec(Value):
    """Scales from model units to the circuit's, the realization, and the non-idealities (each off by default)."""

    time_scale: float = 1e-3  # seconds of circuit time per model time unit
    v_scale: float = 1.0  # volts per model unit of potential
    g_unit: float = 1e-6  # siemens for a weight of 1
    c_unit: float = 1e-9  # farads of a membrane capacitor
    realization: str = "ideal"
    mismatch: float = 0.0  # relative sigma of R, C and transconductances
    seed: int = 0  # seeds the mismatch and the noise
    leak_tau: float | None = None  # weight/bias capacitor leak time constant, model time units
    g_out_ratio: float = 0.0  # transconductor output conductance / g_unit
    synapse_linear_range: float | None = None  # V_L of tanh-limited synapses, model units
    multiplier_offset: float = 0.0  # offset of the learning multiplier e*r, model units
    weight_rail: float | None = None  # weights and biases clip at +-weight_rail, model units
    noise: float = 0.0  # RMS noise at every summing node, model units
    noise_dt: float | None = None  # time between noise samples (default save_dt), model time units
    pdk_mismatch: bool = False  # sky130: a die drawn from the PDK's Vth mismatch by seed
    bias_scale: float = 1.0  # sky130: every bias and input current times this (time unit / this)
    trim: str = "full"  # sky130 start-up calibration: "full", "nodes" (no multiplier trims) or "none"

    def __post_init__(self) -> None:
        for name in ("time_scale", "v_scale", "g_unit", "c_unit"):
            self._set(name, c.number(getattr(self, name), name, positive=True))
        self._set("realization", c.choice(self.realization, "realization", REALIZATIONS.names()))
        for name in ("mismatch", "g_out_ratio", "noise"):
            self._set(name, c.number(getattr(self, name), name, nonneg=True))
        self._set("seed", c.integer(self.seed, "seed"))
        self._set("pdk_mismatch", c.boolean(self.pdk_mismatch, "pdk_mismatch"))
        self._set("bias_scale", c.number(self.bias_scale, "bias_scale", positive=True))
        self._set("trim", c.choice(self.trim, "trim", TRIMS))
        self._set("multiplier_offset", c.number(self.multiplier_offset, "multiplier_offset"))
        for name in ("leak_tau", "synapse_linear_range", "weight_rail", "noise_dt"):
            self._set(name, c.optional_number(getattr(self, name), name, positive=True))


@dataclass(frozen=True, eq=False)
class SimulatorSpec(Value):
    """ngspice settings: backend, tolerances, the transient's maximum step (model time units; None: dt), the
    integration method and the matrix solver (``klu`` needs an ngspice ≥ 42 built with KLU)."""

    backend: str = "shared"
    reltol: float = 1e-4
    abstol: float = 1e-12
    vntol: float = 1e-7
    max_step: float | None = None
    method: str = "trap"
    solver: str = "auto"

    def __post_init__(self) -> None:
        self._set("backend", c.choice(self.backend, "backend", BACKENDS.names()))
        for name in ("reltol", "abstol", "vntol"):
            self._set(name, c.number(getattr(self, name), name, positive=True))
        self._set("max_step", c.optional_number(self.max_step, "max_step", positive=True))
        self._set("method", c.choice(self.method, "method", TRAN_METHODS))
        self._set("solver", c.choice(self.solver, "solver", SOLVERS))


@dataclass(frozen=True, eq=False)
class CompareSpec(Value):
    """What the comparison checks: glob patterns over signal names, the largest nrmse allowed, and the
    smallest fraction of the reference's time span the circuit must cover."""

    tolerance: float = 1e-3
    signals: tuple[str, ...] = ("layer*/r", "layer*/e", "layer*/W")
    coverage: float = 0.99

    def __post_init__(self) -> None:
        self._set("tolerance", c.number(self.tolerance, "tolerance", positive=True))
        self._set("coverage", c.number(self.coverage, "coverage", positive=True))
        if self.coverage > 1.0:
            raise c.fail("coverage", f"expected a fraction in (0, 1], got {self.coverage}")
        if isinstance(self.signals, str) or not isinstance(self.signals, (list, tuple)) or not self.signals:
            raise c.fail("signals", f"expected a non-empty list of glob patterns, got {c.describe(self.signals)}")
        self._set("signals", tuple(c.string(s, f"signals[{i}]") for i, s in enumerate(self.signals)))
