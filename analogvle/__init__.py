"""analogvle: analog circuits and SPICE co-simulation of learning neuronal networks.

The spec (``analogvle.spec``) is the one source of truth; the NumPy reference
(``analogvle.reference``), the netlist generator (``analogvle.netlist``) and the
comparison (``analogvle.compare``) all derive from it.
"""

from analogvle.errors import AnalogvleError, SimulationError, SpecError
from analogvle.spec import Spec, load_spec, spec_from_dict

__all__ = ["AnalogvleError", "SimulationError", "Spec", "SpecError", "load_spec", "spec_from_dict"]
__version__ = "0.1.0"
