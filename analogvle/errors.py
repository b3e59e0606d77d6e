"""Every exception of the package, one per stage, each with its exit code.

The command line turns an :class:`AnalogvleError` into one line on stderr and
its ``exit_code``: 2 bad input (spec, file, option), 3 a simulator or
integrator failure. Anything else that escapes is a bug: exit 4, with the
traceback in a crash log (:mod:`analogvle.cli`). 1 means "outside tolerance"
and is a result, not an exception; 130 follows Ctrl-C.
"""

from __future__ import annotations

EXIT_OUTSIDE_TOLERANCE = 1
EXIT_BAD_INPUT = 2
EXIT_SIMULATOR = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


class AnalogvleError(Exception):
    """Base class: a user-facing failure with a one-line message."""

    exit_code = EXIT_BAD_INPUT


class SpecError(AnalogvleError):
    """The spec is malformed or asks for something impossible.

    ``key`` is the dotted key (``network.layer.2.tau_m``), ``source`` the file
    (or ``<python>``); the message reads ``source: key: what was expected``.
    """

    def __init__(self, message: str, *, key: str = "", source: str = ""):
        self.message, self.key, self.source = message, key, source
        super().__init__(message)

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.key, self.message) if part)

    def __reduce__(self):  # picklable across worker processes despite keyword-only fields
        return (_rebuild_spec_error, (self.message, self.key, self.source))

    def within(self, prefix: str) -> SpecError:
        """The same error with ``prefix`` put before its key (``network`` + ``layer.1.tau_m``)."""
        key = f"{prefix}.{self.key}" if self.key and not self.key.startswith("[") else prefix + self.key
        return SpecError(self.message, key=key, source=self.source)

    def at(self, source: str) -> SpecError:
        """The same error attributed to ``source`` (a file name)."""
        return SpecError(self.message, key=self.key, source=source)


def _rebuild_spec_error(message: str, key: str, source: str) -> SpecError:
    return SpecError(message, key=key, source=source)


class LimitError(SpecError):
    """A run would exceed a size limit (memory, netlist size, time points); an option raises the limit."""


class TrajectoryError(AnalogvleError):
    """A trajectory file is missing, unreadable or not a trajectory file."""


class TrainedFileError(AnalogvleError):
    """A trained-weights file is missing, unreadable, or does not fit the spec's network."""


class NetlistError(AnalogvleError):
    """The requested realization cannot build this network."""


class CompareError(AnalogvleError):
    """Two trajectory files cannot be compared."""


class OutputError(AnalogvleError):
    """An output path cannot be written, or an output folder is in use."""


class ConfigurationError(AnalogvleError):
    """The environment asks for something that cannot work (e.g. ANALOGVLE_NGSPICE_LIBRARY names no library)."""


class SweepError(AnalogvleError):
    """Bad sweep input (a --set key or value, seeds, workers, scheduler), detected before any run."""


class SimulationError(AnalogvleError):
    """ngspice failed (convergence, time step too small, not installed...)."""

    exit_code = EXIT_SIMULATOR


class RawFileError(SimulationError):
    """A raw file is missing, truncated or not a SPICE3 raw file."""


class IntegrationError(AnalogvleError):
    """The reference integrator failed (e.g. the γ loop has no solution)."""

    exit_code = EXIT_SIMULATOR
