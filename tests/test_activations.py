"""The compiled φ/φ′ (numba, shared by the kernels) against the NumPy table."""

from __future__ import annotations

import numpy as np
import pytest

from analogvle.activations import ACTIVATIONS, compiled_activation

GRID = np.concatenate([np.linspace(-40.0, 40.0, 4001), [-3.0, -1.0, -1e-9, 0.0, 1e-9, 1.0, 3.0, 700.0, -700.0]])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_compiled_activation_equals_table(name):
    act = ACTIVATIONS[name]
    phi, dphi = compiled_activation(name, GRID)
    np.testing.assert_allclose(phi, act.phi(GRID), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dphi, act.dphi(GRID), rtol=1e-14, atol=1e-15)


def test_codes_are_distinct():
    codes = [a.code for a in ACTIVATIONS.values()]
    assert sorted(codes) == list(range(len(codes)))


def test_spice_expressions_equal_the_table_in_ngspice(tmp_path):
    """Each activation's φ and φ′ as ngspice B sources, in a DC sweep, against the NumPy table."""
    import subprocess

    from analogvle.activations import STEP_WIDTH
    from analogvle.rawfile import read_raw

    lines = ["activation table", "Vx x 0 0"]
    for name, act in ACTIVATIONS.items():
        lines.append(f"Bphi_{name} phi_{name} 0 V={act.spice_phi.format(x='v(x)')}")
        lines.append(f"Bdphi_{name} dphi_{name} 0 V={act.spice_dphi.format(x='v(x)')}")
    lines += [".options reltol=1e-12 vntol=1e-15", ".dc Vx -5 5 0.0137", ".end", ""]  # converge each point fully
    (tmp_path / "act.cir").write_text("\n".join(lines))
    proc = subprocess.run(["ngspice", "-b", "-r", "act.raw", "act.cir"], cwd=tmp_path, capture_output=True, check=False,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    raw = read_raw(tmp_path / "act.raw")
    x = np.real(raw["v(x)"])
    kinks = np.array([-1.0, 0.0, 1.0])
    away = np.min(np.abs(x[:, None] - kinks[None, :]), axis=1) > 20 * STEP_WIDTH
    assert away.sum() > 700
    for name, act in ACTIVATIONS.items():
        np.testing.assert_allclose(np.real(raw[f"v(phi_{name})"]), act.phi(x), rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(np.real(raw[f"v(dphi_{name})"])[away], act.dphi(x[away]), rtol=1e-12, atol=1e-12,
                                   err_msg=name)
