"""The spec: one TOML file describing one experiment, loaded into typed objects.

Every later stage (reference integrator, netlist, simulation, comparison)
derives from the :class:`Spec` returned by :func:`load_spec`; none re-reads the
TOML. Units: times in model time units, potentials in model units; the
``[circuit]`` table holds the scales to seconds, volts, siemens and farads.

Validation is strict: unknown keys, wrong shapes and impossible values raise
:class:`~analogvle.errors.SpecError` with one line naming the file, the key and
what was expected (the command line turns it into exit code 2); the checks
live in :mod:`analogvle.spec_reader`.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analogvle.errors import SpecError

ERROR_MODES = ("prospective", "instantaneous", "none")
INPUT_KINDS = ("sines", "square", "file")
REALIZATIONS = ("ideal", "passive")
BACKENDS = ("shared", "subprocess")
TRAN_METHODS = ("trap", "gear")
FIXED_STEP_METHODS = ("rk4", "gle-euler")


# ----------------------------------------------------------------------------
# The typed objects
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeSpec:
    """Time grid in model units."""

    dt: float
    duration: float
    save_dt: float
    learn_after: float = 0.0

    @property
    def n_steps(self) -> int:
        """Number of reference steps of size ``dt`` covering ``duration``."""
        return round(self.duration / self.dt)

    @property
    def save_every(self) -> int:
        """Reference steps per saved point."""
        return round(self.save_dt / self.dt)

    @property
    def save_times(self) -> np.ndarray:
        """The output grid 0, save_dt, ..., duration (model time units)."""
        n = round(self.duration / self.save_dt)
        return np.arange(n + 1) * self.save_dt


@dataclass(frozen=True)
class InputSpec:
    """The signal driving layer 0; see :mod:`analogvle.inputs` for its values."""

    kind: str
    channels: int
    omegas: tuple[tuple[float, ...], ...] = ()  # per channel, rad per time unit
    amplitudes: tuple[tuple[float, ...], ...] = ()  # per channel, per omega
    phases: tuple[tuple[float, ...], ...] = ()  # per channel, per omega, rad
    period: float = 0.0  # square wave period, model time units
    amplitude: float = 1.0  # square wave amplitude
    smooth_sigma: float = 0.0  # Gaussian smoothing of the square wave
    path: Path | None = None
    data: np.ndarray | None = field(default=None, repr=False)  # (T, channels) sampled at dt


@dataclass(frozen=True)
class LayerSpec:
    """One layer of neurons: per-neuron time constants, weights size × fan-in."""

    size: int
    tau_m: np.ndarray  # (size,) model time units
    tau_r: np.ndarray  # (size,)
    phi: str
    gamma: float
    weights: np.ndarray  # (size, fan_in)
    bias: np.ndarray  # (size,)
    plastic: bool = False
    eta: float = 0.0  # learning rate per model time unit

    @property
    def fan_in(self) -> int:
        return int(self.weights.shape[1])


@dataclass(frozen=True)
class NetworkSpec:
    inputs: int
    layers: tuple[LayerSpec, ...]
    errors: str = "prospective"
    beta: float = 1.0

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(layer.size for layer in self.layers)

    @property
    def has_gamma(self) -> bool:
        return any(layer.gamma != 0.0 for layer in self.layers)


@dataclass(frozen=True)
class TargetSpec:
    """A sampled target signal (T, n_L) at dt, from ``[target] kind = "file"``."""

    path: Path
    data: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class CircuitSpec:
    time_scale: float = 1e-3  # seconds of circuit time per model time unit
    v_scale: float = 1.0  # volts per model unit of potential
    g_unit: float = 1e-6  # siemens for a weight of 1
    c_unit: float = 1e-9  # farads of a membrane capacitor
    realization: str = "ideal"
    mismatch: float = 0.0  # relative sigma of R, C and transconductances
    seed: int = 0  # seeds the mismatch and the noise
    # non-idealities (realizations/nonideal.py), each off by default; model units
    leak_tau: float | None = None  # weight/bias capacitor leak time constant, model time units
    g_out_ratio: float = 0.0  # transconductor output conductance / g_unit
    synapse_linear_range: float | None = None  # V_L of tanh-limited synapses
    multiplier_offset: float = 0.0  # offset of the learning multiplier e*r
    weight_rail: float | None = None  # weights and biases clip at +-weight_rail
    noise: float = 0.0  # RMS noise at every summing node
    noise_dt: float | None = None  # time between noise samples (default save_dt)


@dataclass(frozen=True)
class SimulatorSpec:
    backend: str = "shared"
    reltol: float = 1e-4
    abstol: float = 1e-12
    vntol: float = 1e-7
    max_step: float | None = None  # model time units; None means dt
    method: str = "trap"


@dataclass(frozen=True)
class CompareSpec:
    tolerance: float = 1e-3
    signals: tuple[str, ...] = ("layer*/r", "layer*/e", "layer*/W")


@dataclass(frozen=True)
class Spec:
    """One experiment: the single source of truth for every stage."""

    name: str
    time: TimeSpec
    input: InputSpec
    network: NetworkSpec
    teacher: NetworkSpec | None
    target: TargetSpec | None
    circuit: CircuitSpec
    simulator: SimulatorSpec
    compare: CompareSpec
    source: str = "<dict>"
    raw: dict = field(default_factory=dict, repr=False)  # the parsed TOML, for meta

    @property
    def has_target(self) -> bool:
        return self.teacher is not None or self.target is not None

    @property
    def max_step(self) -> float:
        """Simulator maximum step in model time units."""
        return self.simulator.max_step if self.simulator.max_step is not None else self.time.dt


# ----------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------


def load_spec(path: str | Path, overrides: dict[str, Any] | None = None) -> Spec:
    """Read and validate a spec file; ``overrides`` maps dotted keys to values."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: spec file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not a text file ({exc.reason})") from exc
    return spec_from_dict(raw, source=str(path), base_dir=path.parent, overrides=overrides)


def spec_from_dict(
    raw: dict,
    *,
    source: str = "<dict>",
    base_dir: str | Path = ".",
    overrides: dict[str, Any] | None = None,
) -> Spec:
    """Validate an already-parsed spec (a TOML-shaped dict)."""
    raw = copy.deepcopy(raw)
    for key, value in (overrides or {}).items():
        set_dotted(raw, key, value, source=source)
    from analogvle.spec_reader import SpecReader

    return SpecReader(source, Path(base_dir)).spec(raw)


def set_dotted(raw: dict, key: str, value: Any, *, source: str = "<dict>") -> None:
    """Set ``a.b.c`` (``network.layer.1.eta`` indexes arrays, from 1) in a raw spec."""
    parts = key.split(".")
    node: Any = raw
    for depth, part in enumerate(parts[:-1]):
        nxt = parts[depth + 1]
        if isinstance(node, list):
            node = node[_list_index(node, part, key, source)]
        else:
            if part not in node:
                node[part] = [] if nxt.isdigit() else {}
            node = node[part]
        if not isinstance(node, (dict, list)):
            where = ".".join(parts[: depth + 1])
            raise SpecError(f"{source}: {key}: {where} is a {type(node).__name__} value, not a table or array")
    last = parts[-1]
    if isinstance(node, list):
        node[_list_index(node, last, key, source)] = value
    else:
        node[last] = value


def _list_index(node: list, part: str, key: str, source: str) -> int:
    if not part.isdigit() or not 1 <= int(part) <= len(node):
        raise SpecError(f"{source}: {key}: index {part!r} must be 1..{len(node)}")
    return int(part) - 1


def check_fixed_step(spec: Spec, method: str) -> None:
    """Fixed-step methods need every time constant >= dt (else they are unstable)."""
    if method not in FIXED_STEP_METHODS:
        return
    dt = spec.time.dt
    for label, net in (("network", spec.network), ("teacher", spec.teacher)):
        if net is None:
            continue
        for i, layer in enumerate(net.layers, 1):
            for name, taus in (("tau_m", layer.tau_m), ("tau_r", layer.tau_r)):
                bad = np.flatnonzero(taus < dt)
                if bad.size:
                    raise SpecError(
                        f"{spec.source}: {label}.layer.{i}.{name}: expected >= dt = {dt} for method "
                        f"{method!r} (neuron {bad[0]} has {taus[bad[0]]}); reduce dt or use --method adaptive"
                    )
