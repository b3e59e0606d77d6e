"""The main job end to end, against real ngspice: reference, netlist, simulation, comparison, report."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from analogvle.circuit.cells import Scales
from analogvle.cli import main
from analogvle.files import MANIFEST
from analogvle.model.toml import load_spec
from analogvle.netlist.netlist import build_netlist
from analogvle.simulate.ac import cell_response, pick_neuron
from analogvle.workflows.run import circuit_section

SIMS = Path(__file__).resolve().parent.parent / "sims"


@pytest.fixture(scope="module")
def short_lagnet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lagnet")
    text = (SIMS / "lagnet.toml").read_text().replace("duration = 1000.0", "duration = 120.0")
    path = tmp / "lagnet.toml"
    path.write_text(text)
    return path


@pytest.mark.slow
def test_run_passes_at_the_spec_tolerance_and_writes_a_readable_report(short_lagnet, tmp_path, capsys):
    out = tmp_path / "report"
    code = main(["run", str(short_lagnet), "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    assert "PASS" in stdout and f"report: {out / 'report.md'}" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["pass"] is True and metrics["worst"] <= 1e-3
    assert {"layer1/r", "layer1/e", "layer1/W", "layer3/r"} <= set(metrics["signals"])
    for name in ("summary.png", "layer1.png", "learning.png", "bode.png"):
        image = mpimg.imread(out / name)
        assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 500
    report = (out / "report.md").read_text()
    assert "![Learning](learning.png)" in report and "![Frequency response](bode.png)" in report
    assert (out / "lagnet.cir").read_text().startswith("analogvle netlist: lagnet")
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [MANIFEST]  # and no temporaries
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_run_exits_2_on_a_bad_spec_before_writing_anything(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text((SIMS / "lagnet.toml").read_text().replace('phi = "linear"', 'phi = "lineer"'))
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "network.layer.3.phi" in err
    assert not out.exists()


@pytest.mark.parametrize("realization", ["ideal", "passive"])
def test_bode_cells_match_the_analytic_filters_and_the_adjoint_phase(realization):
    spec = load_spec(SIMS / "lagnet.toml")
    layer, neuron, tau_m, tau_r = pick_neuron(spec)
    assert (layer, neuron, tau_m, tau_r) == (1, 1, 1.0, 0.1)
    scales = Scales()
    rep = cell_response("neuron", tau_m, tau_r, realization, scales)
    err = cell_response("error", tau_m, tau_r, realization, scales)
    assert max(rep.max_error) < 1e-3 and max(err.max_error) < 1e-3
    w = err.omega
    adjoint = (1 - 1j * w * tau_r) / (1 - 1j * w * tau_m)
    # GLE's causal error: the adjoint's phase, the inverse of its amplitude
    np.testing.assert_allclose(np.angle(err.circuit), np.angle(adjoint), atol=1e-3)
    np.testing.assert_allclose(np.abs(err.circuit), 1 / np.abs(adjoint), rtol=1e-3)


def test_report_section_compares_the_simulated_realization_with_the_other():
    spec = load_spec(SIMS / "lagnet.toml")
    text = circuit_section(spec, "passive", build_netlist(spec, "passive").summary)
    assert "| | passive (simulated) | ideal |" in text
    assert "| E elements | 18 | 0 |" in text and "| R elements | 48 | 31 |" in text
    assert "| E range [gain] | 1 .. 10 | – |" in text and "| G range [S] | 1e-09 .. 1e-06 | 1e-09 .. 1.9e-06 |" in text
