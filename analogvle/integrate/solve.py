"""Integrate a spec with a method chosen by name (the registry's ``METHODS``)."""

from __future__ import annotations

from analogvle.errors import SpecError
from analogvle.model.spec import Spec, check_fixed_step
from analogvle.model.trajectory import Trajectory
from analogvle.registry import METHODS


def integrate(spec: Spec, method: str = "adaptive", *, progress: bool = False) -> Trajectory:
    """The spec's ideal model by ``method`` ('adaptive', 'rk4', 'gle-euler'); a trajectory on the save grid."""
    if method not in METHODS:
        raise SpecError(f"unknown method {method!r} (expected one of: {', '.join(METHODS.names())})", key="method")
    if spec.input is None:
        raise SpecError("a [task] spec has no input signal to integrate: train it (analogvle train) and evaluate the "
                        "trained network (analogvle evaluate)", key="task", source=spec.source)
    check_fixed_step(spec, method)
    return METHODS.load(method)(spec, progress=progress)
