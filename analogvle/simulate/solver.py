"""The matrix solver: ``[simulator] solver = "auto" | "sparse" | "klu"`` against the loaded ngspice.

KLU is a compile-time feature of ngspice (``configure --enable-klu``, version
42 and later): only such a build knows the options ``klu`` and ``sparse``.
Older builds, such as Debian's ngspice 39, accept ``.options klu`` without a
word and run Sparse 1.3 anyway, so a deck cannot tell from its output which
solver ran: the capability is read from the binary or library instead (its
version, and KLU's own symbols or option text inside it).

``auto`` becomes ``klu`` when the backend's ngspice has it, else Sparse 1.3
(nothing written, the old default). An explicit ``klu`` on an ngspice without
it is refused (exit 2): ngspice would silently run Sparse. An explicit
``sparse`` is written as ``.options sparse`` (a no-op on builds without KLU).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import shutil
from pathlib import Path

from analogvle.errors import ConfigurationError
from analogvle.netlist.netlist import Netlist, write_circuit
from analogvle.simulate.batch import ngspice_executable, ngspice_version
from analogvle.simulate.shared import get_shared

#: the first ngspice release that can be built with KLU
KLU_VERSION = 42
#: byte strings only a KLU build contains: KLU's symbols (linked in or a NEEDED libklu) or the option's help text
KLU_MARKERS = (b"klu_factor", b"klu_analyze", b"klu_refactor", b"libklu.so", b"Direct Linear Solver")


def choose_solver(requested: str, version: int | None, has_klu: bool) -> str:
    """The solver that will run: "klu" or "sparse"; ConfigurationError (exit 2) for "klu" without KLU."""
    capable = has_klu and (version or 0) >= KLU_VERSION
    if requested == "klu" and not capable:
        why = "is not built with KLU" if (version or 0) >= KLU_VERSION else f"is older than {KLU_VERSION}"
        raise ConfigurationError(f"simulator.solver = 'klu' but the loaded ngspice ({version}) {why} and would "
                                 "silently use Sparse 1.3; set solver = 'auto' or 'sparse'")
    if requested == "auto":
        return "klu" if capable else "sparse"
    return requested


@functools.lru_cache(maxsize=8)
def file_has_klu(path: str) -> bool:
    """Whether the executable or library at ``path`` carries KLU."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return False
    return any(marker in data for marker in KLU_MARKERS)


def _loaded_library_path(name: str) -> str:
    """The file the process mapped for the shared library ``name`` (a soname or a path)."""
    base = Path(name).name.split(".so")[0]
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return name
    for line in maps.splitlines():
        match = re.search(r"(/\S*" + re.escape(base) + r"\S*)$", line)
        if match:
            return match.group(1)
    return name


def capability(backend: str) -> tuple[int | None, bool]:
    """(major version, KLU compiled in) of the ngspice ``backend`` runs."""
    if backend == "shared":
        ng = get_shared()
        return ng.version, (ng.version or 0) >= KLU_VERSION and file_has_klu(_loaded_library_path(ng.library))
    return _batch_capability(str(Path(shutil.which(ngspice_executable()) or ngspice_executable()).resolve()))


@functools.lru_cache(maxsize=8)
def _batch_capability(exe: str) -> tuple[int | None, bool]:
    version = ngspice_version()
    return version, (version or 0) >= KLU_VERSION and file_has_klu(exe)


def resolve_solver(netlist: Netlist, backend: str) -> tuple[Netlist, str]:
    """``netlist`` with its solver settled for ``backend`` (rewritten only when "auto" becomes "klu"), and the solver."""
    requested = netlist.circuit.solver
    chosen = choose_solver(requested, *capability(backend))
    if requested != "auto" or chosen == "sparse":
        return netlist, chosen
    circuit = dataclasses.replace(netlist.circuit, solver=chosen)
    return write_circuit(netlist.name, circuit, netlist.probes, netlist.time_scale, netlist.summary), chosen
