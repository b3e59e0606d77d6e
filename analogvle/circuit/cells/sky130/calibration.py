"""The model-unit mapping of the sky130 cells, as measured by ``analogvle characterize --realization sky130``.

``calibration.json`` beside this module is the ``mapping`` section of a
characterization run (``cells.json``), shipped so that a netlist can be built
without simulating first: the voltage scale VU = 2UT/κ (fitted κ of the
plain nfet pair), the synaptic current unit I0, the load conductance G =
I0/VU, the calibrated membrane and error capacitors (τ = C/G), the trim
references (measured offsets), the tail of a synapse for each |W| and the
multiplier of a transconductor for each conductance (measured tables), and
the forward Gilbert cell's weight map W(Vw) = Wmax·tanh(κw(Vw − VWCM − w0)/2UT).
``characterize`` reports how far a fresh measurement is from these values.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from analogvle.circuit.cells.sky130.pdk import UT
from analogvle.errors import ConfigurationError, NetlistError

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    """The measured mapping (``values``: the JSON's keys) with the look-ups the network needs."""

    values: dict
    source: str

    def __getattr__(self, key: str):
        try:
            return self.__dict__["values"][key]
        except KeyError:
            raise AttributeError(key) from None

    def synapse_tail(self, weight: float) -> float:
        """Tail multiplier m (× IREF) of a tanh_syn whose amplitude is |weight|·I0 (measured table, log-log)."""
        return _interp_log(abs(weight) * self.values["I0"], self.values["syn_table"]["amplitude_A"],
                           self.values["syn_table"]["m"])

    def gm_multiplier(self, conductance: float) -> float:
        """Multiplier m of a lin_gm of small-signal conductance ``conductance`` (measured table, log-log)."""
        table = self.values["gm_table"]["G_S"]
        if not min(table) * (1 - 1e-3) <= conductance <= max(table) * (1 + 1e-3):
            raise NetlistError(f"sky130: a linear transconductor of {conductance:.4g} S is outside the measured "
                               f"lin_gm table ({min(table):.4g}..{max(table):.4g} S; benches.GM_M_GRID, re-characterize)")
        return _interp_log(conductance, table, self.values["gm_table"]["m"])

    def weight_voltage(self, weight: float) -> float:
        """The weight capacitor's voltage for a forward Gilbert weight ``weight`` (inverse of the fitted map)."""
        arg = weight / self.values["Wmax"]
        if not -0.95 < arg < 0.95:
            raise ValueError(f"weight {weight} outside the Gilbert synapse's range (|W| < {0.95 * self.values['Wmax']:.3g})")
        return self.values["VWCM"] + self.values["w_offset_V"] + 2 * UT / self.values["kappa_w"] * math.atanh(arg)


def _interp_log(value: float, xs: list[float], ms: list[float]) -> float:
    """Linear interpolation in log(x) → log(m) (held at the table's ends)."""
    order = np.argsort(xs)
    return float(np.exp(np.interp(np.log(value), np.log(np.asarray(xs)[order]), np.log(np.asarray(ms)[order]))))


@lru_cache(maxsize=4)
def load_calibration(path: str | None = None) -> Calibration:
    """The shipped calibration (or the ``mapping`` of a cells.json at ``path``)."""
    file = Path(path) if path else CALIBRATION_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{file}: cannot read the sky130 calibration ({exc})") from exc
    return Calibration(data.get("mapping", data), str(file))
