"""The raw-file reader, on files real ngspice writes (binary and ASCII, real and complex)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from analogvle.simulate.rawfile import RawFileError, read_raw, read_raw_plots


def test_ngspice_is_installed():
    """`make test` installs ngspice: its absence is a failure, not a reason to skip the reader's tests."""
    assert shutil.which("ngspice"), "ngspice is not on PATH (make setup installs it with apt-get)"

RC_TRAN = """rc low-pass, transient
V1 in 0 SIN(0 1 1k)
R1 in out 1k
C1 out 0 1u
.options reltol=1e-6
.tran 10u 5m 0 10u
.end
"""

RC_AC = """rc low-pass, ac
V1 in 0 DC 0 AC 1
R1 in out 1k
C1 out 0 1u
.ac dec 5 10 100k
.end
"""

MULTI = """op, ac and tran in one file
V1 in 0 DC 1 AC 1
R1 in out 1k
C1 out 0 1u
.op
.ac dec 2 10 1k
.tran 10u 1m
.end
"""

UNPADDED = """unpadded, written from a control block
V1 in 0 SIN(0 1 1k)
R1 in out 1k
C1 out 0 1u
.tran 10u 1m
.control
set nopadding
run
write unpadded.raw
.endc
.end
"""


def _ngspice(tmp_path: Path, text: str, raw: str | None = "out.raw", ascii: bool = False) -> Path:
    (tmp_path / "net.cir").write_text(text)
    env = dict(os.environ)
    if ascii:
        env["SPICE_ASCIIRAWFILE"] = "1"
    cmd = ["ngspice", "-b", *(["-r", raw] if raw else []), "net.cir"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, timeout=60, check=False)
    path = tmp_path / (raw or "unpadded.raw")
    # ngspice -b exits 1 after a .control block even when it succeeds: judge by the file
    assert path.is_file(), proc.stderr.decode()
    return path


def test_binary_transient_has_time_node_voltages_and_branch_currents(tmp_path):
    data = read_raw(_ngspice(tmp_path, RC_TRAN))
    assert set(data) == {"time", "v(in)", "v(out)", "i(v1)"}
    assert all(v.dtype == np.float64 and len(v) == len(data["time"]) for v in data.values())
    assert np.all(np.diff(data["time"]) > 0) and data["time"][-1] == pytest.approx(5e-3)
    np.testing.assert_allclose(data["v(in)"], np.sin(2e3 * np.pi * data["time"]), atol=1e-9)
    # the source current is what flows through R1: (V(out) - V(in)) / 1k
    np.testing.assert_allclose(data["i(v1)"], (data["v(out)"] - data["v(in)"]) / 1e3, atol=1e-12)


def test_binary_and_ascii_files_agree(tmp_path):
    binary = read_raw(_ngspice(tmp_path, RC_TRAN))
    ascii_ = read_raw(_ngspice(tmp_path, RC_TRAN, raw="ascii.raw", ascii=True))
    assert (tmp_path / "ascii.raw").read_bytes().find(b"Values:") > 0
    for name in binary:
        np.testing.assert_allclose(ascii_[name], binary[name], rtol=1e-14, atol=1e-20)


def test_complex_ac_file_matches_the_rc_transfer_function(tmp_path):
    for ascii in (False, True):
        data = read_raw(_ngspice(tmp_path, RC_AC, raw=f"ac{int(ascii)}.raw", ascii=ascii))
        f = data["frequency"]
        assert f.dtype == np.float64 and data["v(out)"].dtype == np.complex128
        expected = 1 / (1 + 2j * np.pi * f * 1e3 * 1e-6)
        np.testing.assert_allclose(data["v(out)"], expected, rtol=1e-12)


def test_several_plots_in_one_file_are_read_in_order_and_by_name(tmp_path):
    path = _ngspice(tmp_path, MULTI)
    plots = read_raw_plots(path)
    names = [p.plotname for p in plots]
    assert sorted(names) == ["AC Analysis", "Operating Point", "Transient Analysis"]
    op = read_raw(path, "operating point")
    assert op["v(in)"][0] == pytest.approx(1.0) and op["v(out)"][0] == pytest.approx(1.0)
    assert "time" in read_raw(path, "Transient Analysis")
    with pytest.raises(RawFileError, match="no plot named"):
        read_raw(path, "Noise Analysis")


def test_unpadded_file_reads_like_a_padded_one(tmp_path):
    path = _ngspice(tmp_path, UNPADDED, raw=None)
    (plot,) = read_raw_plots(path)
    assert "unpadded" in plot.flags
    assert plot.vectors["time"][-1] == pytest.approx(1e-3)
    np.testing.assert_allclose(plot.vectors["v(in)"], np.sin(2e3 * np.pi * plot.vectors["time"]), atol=1e-9)


def test_truncated_or_foreign_files_raise_one_clear_error(tmp_path):
    path = _ngspice(tmp_path, RC_TRAN)
    data = path.read_bytes()
    (tmp_path / "cut.raw").write_bytes(data[: len(data) - 100])
    with pytest.raises(RawFileError, match="truncated binary data"):
        read_raw(tmp_path / "cut.raw")
    (tmp_path / "foreign.raw").write_text("hello world\nthis is not spice\n")
    with pytest.raises(RawFileError, match="not a SPICE raw file"):
        read_raw(tmp_path / "foreign.raw")
    with pytest.raises(RawFileError, match="cannot read"):
        read_raw(tmp_path / "missing.raw")
