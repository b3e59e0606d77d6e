"""analogvle: analog circuits and SPICE co-simulation of learning neuronal networks (GLE/VLE).

The public API. A typed :class:`Spec` is the one source of truth; every
stage derives from it::

    spec = analogvle.load_spec("sims/lagnet.toml")        # or analogvle.Spec(...) in Python
    ref = analogvle.integrate(spec, method="adaptive")    # -> Trajectory
    net = analogvle.build_netlist(spec, realization="ideal")
    circ = analogvle.simulate(spec, backend="shared")     # -> Trajectory
    cmp = analogvle.compare(ref, circ, signals=["layer*/r"], tolerance=1e-3)
    cmp.passed, cmp.signals["layer1/r"].nrmse

The package is laid out by stage, each importing only earlier ones:
``model`` → ``integrate`` → ``circuit`` → ``netlist`` → ``simulate`` →
``compare`` → ``report`` → ``workflows`` → ``cli``.
"""

from analogvle.compare.metrics import Comparison, compare
from analogvle.errors import (
    AnalogvleError,
    CompareError,
    IntegrationError,
    NetlistError,
    SimulationError,
    SpecError,
    SweepError,
    TrajectoryError,
)
from analogvle.integrate.adjoint import compute_gradients
from analogvle.integrate.solve import integrate
from analogvle.model.network import LayerSpec, NetworkSpec
from analogvle.model.settings import CircuitSpec, CompareSpec, SimulatorSpec
from analogvle.model.spec import Spec, TimeSpec
from analogvle.model.stimulus import InputSpec, TargetSpec
from analogvle.model.toml import dump_spec, dumps_spec, initial_weights, load_spec, spec_from_dict, with_overrides
from analogvle.model.trajectory import Trajectory, load_trajectory, save_trajectory
from analogvle.netlist.netlist import Netlist, build_netlist
from analogvle.simulate.run import simulate
from analogvle.version import __version__
from analogvle.workflows.run import RunResult, run
from analogvle.workflows.sweep import sweep

__all__ = [
    "AnalogvleError", "CircuitSpec", "CompareError", "CompareSpec", "Comparison", "InputSpec", "IntegrationError",
    "LayerSpec", "Netlist", "NetlistError", "NetworkSpec", "RunResult", "SimulationError", "SimulatorSpec", "Spec",
    "SpecError", "SweepError", "TargetSpec", "TimeSpec", "Trajectory", "TrajectoryError", "__version__",
    "build_netlist", "compare", "compute_gradients", "dump_spec", "dumps_spec", "initial_weights", "integrate",
    "load_spec", "load_trajectory", "run", "save_trajectory", "simulate", "spec_from_dict", "sweep", "with_overrides",
]
