"""Domain exceptions, one per stage.

The command line turns each into one line on stderr and its ``exit_code``:
2 for bad input (spec, file, option), 3 for a simulator failure.
"""

from __future__ import annotations


class AnalogvleError(Exception):
    """Base class: a user-facing failure with a one-line message."""

    exit_code = 2


class SpecError(AnalogvleError):
    """The spec (TOML) is malformed or asks for something impossible."""


class TrajectoryError(AnalogvleError):
    """A trajectory file is missing, unreadable or not a trajectory file."""


class NetlistError(AnalogvleError):
    """The requested realization cannot build this network."""


class CompareError(AnalogvleError):
    """Two trajectory files cannot be compared."""


class SimulationError(AnalogvleError):
    """ngspice failed (convergence, time step too small, not installed...)."""

    exit_code = 3
