"""Reader for the raw files ngspice writes (``ngspice -b -r out.raw net.cir``).

The format is SPICE3's: a header of ``Keyword: value`` lines (``Title``,
``Date``, ``Plotname``, ``Flags``, ``No. Variables``, ``No. Points``, maybe
``Dimensions``, ``Command``, ``Option``), a ``Variables:`` table, then either
``Binary:`` (native little-endian float64, one record per point, two doubles
per value when the plot is complex) or ``Values:`` (ASCII). One file may hold
several plots back to back (e.g. an operating point, then a transient).

Why not a PyPI reader: spicelib (maintained, LTspice-first) reads these
files too, but it is a large dependency with its own process runner for one
80-line job; this module is that job alone, tested on files ngspice writes.

Vector names are normalised to lower case: ``time`` / ``frequency`` for the
scale, ``v(node)`` for node voltages and ``i(device)`` for branch currents
(ngspice's ``device#branch``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analogvle.errors import RawFileError

_HEADER_KEYS = ("title", "date", "plotname", "flags", "no. variables", "no. points", "dimensions", "command", "option")


@dataclass
class RawPlot:
    """One plot of a raw file: its header and its vectors (name → array of length ``points``)."""

    title: str
    plotname: str
    flags: tuple[str, ...]
    points: int
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)  # name → "time" | "voltage" | "current" | ...

    @property
    def is_complex(self) -> bool:
        return "complex" in self.flags


def read_raw(path: str | Path, plot: int | str = -1) -> dict[str, np.ndarray]:
    """Vectors of one plot of a raw file (default the last): ``{"time": ..., "v(out)": ..., "i(v1)": ...}``.

    ``plot`` is an index into the file's plots or a plot name (e.g.
    ``"Transient Analysis"``). Real plots give float64 arrays, complex (AC)
    plots complex128 arrays, except the scale (``frequency``), which is real.
    """
    plots = read_raw_plots(path)
    if not plots:
        raise RawFileError(f"{path}: raw file holds no plot")
    if isinstance(plot, str):
        named = [p for p in plots if p.plotname.lower() == plot.lower()]
        if not named:
            names = ", ".join(repr(p.plotname) for p in plots)
            raise RawFileError(f"{path}: no plot named {plot!r} (has {names})")
        return named[-1].vectors
    return plots[plot].vectors


def read_raw_plots(path: str | Path) -> list[RawPlot]:
    """Every plot of a binary or ASCII raw file, in file order."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RawFileError(f"{path}: cannot read raw file ({exc.strerror})") from exc
    plots = []
    pos = 0
    while pos < len(data):
        if not data[pos:].strip():
            break
        plot, pos = _read_plot(data, pos, path)
        plots.append(plot)
    return plots


def _read_plot(data: bytes, pos: int, path: Path) -> tuple[RawPlot, int]:
    header: dict[str, str] = {}
    names: list[str] = []
    types: list[str] = []
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            raise RawFileError(f"{path}: truncated raw file header (no Binary: or Values: section)")
        line = data[pos:end].decode("latin-1").rstrip("\r")
        pos = end + 1
        key, sep, value = line.partition(":")
        key_l = key.strip().lower()
        if key_l in ("binary", "values") and not value.strip():
            section = key_l
            break
        if key_l == "variables" and sep:
            nvars = _int_header(header, "no. variables", path)
            for _ in range(nvars):
                end = data.find(b"\n", pos)
                if end < 0:
                    raise RawFileError(f"{path}: truncated variable table")
                fields = data[pos:end].decode("latin-1").split()
                pos = end + 1
                if len(fields) < 3:
                    raise RawFileError(f"{path}: bad variable line {' '.join(fields)!r}")
                names.append(fields[1])
                types.append(fields[2].lower())
            continue
        if sep and key_l in _HEADER_KEYS:
            header[key_l] = value.strip()
        elif line.strip():
            raise RawFileError(f"{path}: not a SPICE raw file (unexpected header line {line[:60]!r})")
    nvars = _int_header(header, "no. variables", path)
    npoints = _int_header(header, "no. points", path)
    if len(names) != nvars:
        raise RawFileError(f"{path}: header says {nvars} variables, table lists {len(names)}")
    flags = tuple(header.get("flags", "real").lower().split())
    is_complex = "complex" in flags
    if section == "binary":
        width = 2 if is_complex else 1
        count = npoints * nvars * width
        nbytes = 8 * count
        if len(data) - pos < nbytes:
            raise RawFileError(
                f"{path}: truncated binary data: {npoints} points × {nvars} variables need {nbytes} bytes, "
                f"file has {len(data) - pos}"
            )
        table = np.frombuffer(data, dtype="<f8", count=count, offset=pos).reshape(npoints, nvars, width)
        pos += nbytes
        columns = table[..., 0] + 1j * table[..., 1] if is_complex else table[..., 0]
    else:
        columns, pos = _read_ascii(data, pos, npoints, nvars, is_complex, path)
    vectors = {}
    for j, (name, vtype) in enumerate(zip(names, types, strict=True)):
        column = np.array(columns[:, j])
        if j == 0 and is_complex:
            column = column.real.copy()  # the scale (frequency) is real
        vectors[_normalise(name, vtype, j)] = column
    plot = RawPlot(
        title=header.get("title", ""),
        plotname=header.get("plotname", ""),
        flags=flags,
        points=npoints,
        vectors=vectors,
        types={_normalise(n, t, j): t for j, (n, t) in enumerate(zip(names, types, strict=True))},
    )
    return plot, pos


def _read_ascii(data: bytes, pos: int, npoints: int, nvars: int, is_complex: bool, path: Path):
    """The ``Values:`` section: per point an index, then one value per line (``re,im`` when complex)."""
    tokens = []
    needed = npoints * (nvars + 1)
    while len(tokens) < needed:
        end = data.find(b"\n", pos)
        if end < 0:
            end = len(data)
        line = data[pos:end].decode("latin-1").split()
        if pos >= len(data):
            raise RawFileError(f"{path}: truncated ASCII data: expected {npoints} points of {nvars} values")
        pos = end + 1
        tokens.extend(line)
    dtype = complex if is_complex else float
    out = np.empty((npoints, nvars), dtype=dtype)
    try:
        for i in range(npoints):
            row = tokens[i * (nvars + 1) + 1 : (i + 1) * (nvars + 1)]
            if is_complex:
                out[i] = [complex(*map(float, tok.split(","))) for tok in row]
            else:
                out[i] = [float(tok) for tok in row]
    except (ValueError, TypeError) as exc:
        raise RawFileError(f"{path}: bad ASCII value in point {i}: {exc}") from exc
    return out, pos


def _int_header(header: dict[str, str], key: str, path: Path) -> int:
    try:
        return int(header[key].split()[0])
    except (KeyError, ValueError, IndexError):
        raise RawFileError(f"{path}: raw file header lacks a valid '{key.title()}:' line") from None


def _normalise(name: str, vtype: str, index: int) -> str:
    """``time``, ``frequency``, ``v(node)``, ``i(device)``; everything lower case."""
    name = name.lower()
    if index == 0 and vtype in ("time", "frequency"):
        return vtype
    if name.endswith("#branch"):
        return f"i({name[: -len('#branch')]})"
    if "(" in name:
        return name
    if vtype == "voltage":
        return f"v({name})"
    if vtype == "current":
        return f"i({name})"
    return name
