"""The spec: one experiment as frozen, typed objects, validated on construction.

Every stage (reference, circuit, comparison, reports, sweeps) derives from a
:class:`Spec`; nothing downstream reads TOML. A Spec is built in Python
(``Spec(name=..., time=TimeSpec(...), ...)``) or from TOML by
:func:`analogvle.model.toml.load_spec`; both routes run the same checks, and an
impossible value raises :class:`~analogvle.errors.SpecError` naming the key.
Arrays (time constants, weights, biases, sampled data) are read-only float
arrays; equality compares them by value, so ``load_spec(dump_spec(s)) == s``.
``dataclasses.replace`` makes a modified, re-validated copy.

Units: times in model time units, potentials, rates, errors and weights in
model units; the ``[circuit]`` table maps them to seconds, volts, siemens and
farads (CIRCUITS.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analogvle.errors import SpecError
from analogvle.model import checks as c
from analogvle.model.checks import Value
from analogvle.model.network import ERROR_MODES, LayerSpec, NetworkSpec
from analogvle.model.settings import TRAN_METHODS, CircuitSpec, CompareSpec, SimulatorSpec
from analogvle.model.stimulus import INPUT_KINDS, InputSpec, TargetSpec
from analogvle.model.task import TaskSpec, TrainSpec
from analogvle.registry import METHODS

__all__ = [
    "ERROR_MODES", "INPUT_KINDS", "TRAN_METHODS", "CircuitSpec", "CompareSpec", "InputSpec", "LayerSpec",
    "NetworkSpec", "SimulatorSpec", "Spec", "TargetSpec", "TaskSpec", "TimeSpec", "TrainSpec", "check_fixed_step",
]


@dataclass(frozen=True, eq=False)
class TimeSpec(Value):
    """Time grid in model time units; ``save_dt`` defaults to ``dt``."""

    dt: float
    duration: float
    save_dt: float | None = None
    learn_after: float = 0.0  # plasticity off before this time

    def __post_init__(self) -> None:
        self._set("dt", c.number(self.dt, "dt", positive=True))
        self._set("duration", c.number(self.duration, "duration", positive=True))
        self._set("save_dt", c.number(self.dt if self.save_dt is None else self.save_dt, "save_dt", positive=True))
        self._set("learn_after", c.number(self.learn_after, "learn_after", nonneg=True))
        if not c.is_multiple(self.duration, self.dt):
            raise c.fail("duration", f"expected a whole number of steps dt = {self.dt}, got {self.duration}")
        if not c.is_multiple(self.save_dt, self.dt):
            raise c.fail("save_dt", f"expected a whole multiple of dt = {self.dt}, got {self.save_dt}")
        if not c.is_multiple(self.duration, self.save_dt):
            raise c.fail("save_dt", f"expected duration {self.duration} to be a whole multiple of save_dt, "
                                    f"got {self.save_dt}")

    @property
    def n_steps(self) -> int:
        """Number of reference steps of size ``dt`` covering ``duration``."""
        return round(self.duration / self.dt)

    @property
    def save_every(self) -> int:
        """Reference steps per saved point."""
        return round(self.save_dt / self.dt)

    @property
    def n_saved(self) -> int:
        """Points of the output grid (both ends included)."""
        return round(self.duration / self.save_dt) + 1

    @property
    def save_times(self) -> np.ndarray:
        """The output grid 0, save_dt, ..., duration (model time units)."""
        return np.arange(self.n_saved) * self.save_dt


@dataclass(frozen=True, eq=False)
class Spec(Value):
    """One experiment: the single source of truth for every stage.

    ``source`` names where it came from (a file, or ``<python>``) for messages;
    it does not take part in equality. With a ``task`` (a dataset to classify)
    the dataset drives the input: ``input`` is None and there is no teacher or
    target.
    """

    name: str
    time: TimeSpec
    input: InputSpec | None
    network: NetworkSpec
    teacher: NetworkSpec | None = None
    target: TargetSpec | None = None
    circuit: CircuitSpec = field(default_factory=CircuitSpec)
    simulator: SimulatorSpec = field(default_factory=SimulatorSpec)
    compare: CompareSpec = field(default_factory=CompareSpec)
    task: TaskSpec | None = None
    source: str = field(default="<python>", compare=False)

    def __post_init__(self) -> None:
        try:
            self._validate()
        except SpecError as exc:
            raise exc.at(self.source) if not exc.source and self.source != "<python>" else exc from None

    def _validate(self) -> None:
        name = c.string(self.name, "name")
        if (not all(ch.isalnum() or ch in "-_." for ch in name) or name.startswith(".")
                or not any(ch.isalnum() for ch in name)):
            raise c.fail("name", "expected a file-name safe name (letters, digits, - _ ., not starting with '.'), "
                                 f"got {name!r}")
        for key, kind in (("time", TimeSpec), ("network", NetworkSpec), ("circuit", CircuitSpec),
                          ("simulator", SimulatorSpec), ("compare", CompareSpec)):
            if not isinstance(getattr(self, key), kind):
                raise c.fail(key, f"expected a {kind.__name__}, got {c.describe(getattr(self, key))}")
        net = self.network
        if self.task is not None:
            self._check_task(self.task)
            return
        if not isinstance(self.input, InputSpec):
            raise c.fail("input", f"expected an InputSpec, got {c.describe(self.input)}")
        if self.input.channels != net.inputs:
            raise c.fail("input", f"expected {net.inputs} channel(s) (network.inputs), got {self.input.channels}")
        if self.input.kind == "file":
            self._check_sampled(self.input.data, "input.path", self.input.path, net.inputs)
        if self.teacher is not None and self.target is not None:
            raise c.fail("target", "give either [teacher] or [target], not both")
        if self.teacher is not None:
            self._check_teacher(self.teacher)
        if self.target is not None:
            if not isinstance(self.target, TargetSpec):
                raise c.fail("target", f"expected a TargetSpec, got {c.describe(self.target)}")
            self._check_sampled(self.target.data, "target.path", self.target.path, net.sizes[-1])
        if net.errors != "none" and not self.has_target:
            raise c.fail("network.errors", f"errors = {net.errors!r} needs a [teacher] or a [target]; "
                                           "use errors = 'none' for a forward network")

    def _check_task(self, task: TaskSpec) -> None:
        if not isinstance(task, TaskSpec):
            raise c.fail("task", f"expected a TaskSpec, got {c.describe(task)}")
        net = self.network
        if self.input is not None:
            raise c.fail("input", "a [task] feeds its dataset into the network: leave out [input]")
        if self.teacher is not None or self.target is not None:
            raise c.fail("task", "give either [task] or [teacher]/[target], not both")
        if net.inputs != 1:
            raise c.fail("network.inputs", f"expected 1 ({task.dataset} has one input channel), got {net.inputs}")
        if net.sizes[-1] != task.classes:
            raise c.fail(f"network.layer.{len(net.layers)}.size",
                         f"expected {task.classes} output neurons (one per class of {task.dataset}), "
                         f"got {net.sizes[-1]}")
        if net.errors == "none":
            raise c.fail("network.errors", "a [task] trains with errors: expected 'prospective' or 'instantaneous'")
        if not c.is_multiple(task.sample_length, self.time.dt):
            raise c.fail("task.sample_length", f"expected a whole number of steps dt = {self.time.dt}, "
                                               f"got {task.sample_length}")

    def _check_teacher(self, teacher: NetworkSpec) -> None:
        if not isinstance(teacher, NetworkSpec):
            raise c.fail("teacher", f"expected a NetworkSpec, got {c.describe(teacher)}")
        if teacher.inputs != self.network.inputs:
            raise c.fail("teacher.inputs", f"expected the network's {self.network.inputs} input(s), "
                                           f"got {teacher.inputs}")
        if teacher.errors != "none":
            raise c.fail("teacher.errors", "a teacher has no errors: expected 'none'")
        for i, layer in enumerate(teacher.layers, 1):
            if layer.plastic:
                raise c.fail(f"teacher.layer.{i}.plastic", "a teacher does not learn")
        if teacher.sizes[-1] != self.network.sizes[-1]:
            raise c.fail(f"teacher.layer.{len(teacher.layers)}.size",
                         f"expected the network's output size {self.network.sizes[-1]}, got {teacher.sizes[-1]}")

    def _check_sampled(self, data: np.ndarray, key: str, path, channels: int) -> None:
        if data.shape[1] != channels:
            raise c.fail(key, f"expected {channels} channel(s) in {path}, got {data.shape[1]}")
        if len(data) < self.time.n_steps + 1:
            raise c.fail(key, f"expected at least {self.time.n_steps + 1} samples (duration/dt + 1) in {path}, "
                              f"got {len(data)}")

    @property
    def warnings(self) -> list[str]:
        """Things that are valid but probably not what was meant (printed, not refused)."""
        out = []
        if self.network.plastic and self.time.learn_after >= self.time.duration:
            out.append(f"time.learn_after = {self.time.learn_after:g} is not before the end of the run "
                       f"(duration {self.time.duration:g}): the plastic layers never learn")
        return out

    @property
    def has_target(self) -> bool:
        return self.teacher is not None or self.target is not None or self.task is not None

    @property
    def max_step(self) -> float:
        """Simulator maximum step in model time units."""
        return self.simulator.max_step if self.simulator.max_step is not None else self.time.dt


def check_fixed_step(spec: Spec, method: str) -> None:
    """Fixed-step methods need every time constant >= dt (else they are unstable)."""
    if method not in METHODS or not METHODS.has(method, "fixed_step"):
        return
    dt = spec.time.dt
    for label, net in (("network", spec.network), ("teacher", spec.teacher)):
        if net is None:
            continue
        for i, layer in enumerate(net.layers, 1):
            for name, taus in (("tau_m", layer.tau_m), ("tau_r", layer.tau_r)):
                bad = np.flatnonzero(taus < dt)
                if bad.size:
                    raise SpecError(f"expected >= dt = {dt} for method {method!r} (neuron {bad[0]} has "
                                    f"{taus[bad[0]]}); reduce dt or use --method adaptive",
                                    key=f"{label}.layer.{i}.{name}", source=spec.source)
