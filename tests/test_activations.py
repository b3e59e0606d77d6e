"""Every activation's forms held together: NumPy, compiled (numba), expression and ngspice; and φ′ = dφ/dx."""

from __future__ import annotations

import numpy as np
import pytest

from analogvle.circuit.ir import Circuit, Dc, DcSweep, bvoltage, vsource
from analogvle.model.activations import ACTIVATIONS, STEP_WIDTH, compiled_activation
from analogvle.model.expr import Node, evaluate, substitute
from analogvle.netlist.ngspice import NgspiceWriter
from analogvle.simulate.batch import run_analysis

GRID = np.concatenate([np.linspace(-40.0, 40.0, 4001), [-3.0, -1.0, -1e-9, 0.0, 1e-9, 1.0, 3.0, 700.0, -700.0]])
KINKS = np.array([-1.0, 0.0, 1.0])  # where relu, hard_tanh and hard_sigmoid have kinks


def away_from_kinks(x: np.ndarray, width: float) -> np.ndarray:
    return np.min(np.abs(x[:, None] - KINKS[None, :]), axis=1) > width


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_compiled_activation_equals_numpy(name):
    act = ACTIVATIONS[name]
    phi, dphi = compiled_activation(name, GRID)
    np.testing.assert_allclose(phi, act.phi(GRID), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dphi, act.dphi(GRID), rtol=1e-14, atol=1e-15)


def test_codes_index_the_table_and_the_generated_dispatch_covers_it():
    assert [a.code for a in ACTIVATIONS.values()] == list(range(len(ACTIVATIONS)))
    with pytest.raises(ValueError, match="unknown activation code"):
        from analogvle.model.activations import activate

        activate(len(ACTIVATIONS), np.zeros(1), np.zeros(1), np.zeros(1), 1)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_numpy_derivative_is_the_finite_difference_of_phi(name):
    act = ACTIVATIONS[name]
    x = np.linspace(-4.0, 4.0, 8001)
    h = 1e-6
    numeric = (act.phi(x + h) - act.phi(x - h)) / (2 * h)
    keep = away_from_kinks(x, 10 * h)
    np.testing.assert_allclose(act.dphi(x)[keep], numeric[keep], rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_expression_forms_equal_numpy_away_from_kinks(name):
    act = ACTIVATIONS[name]
    x = np.linspace(-6.0, 6.0, 1201)
    keep = away_from_kinks(x, 20 * STEP_WIDTH)
    np.testing.assert_allclose(evaluate(act.expr_phi, {"x": x}) * np.ones_like(x), act.phi(x), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose((evaluate(act.expr_dphi, {"x": x}) * np.ones_like(x))[keep], act.dphi(x)[keep],
                               rtol=1e-12, atol=1e-12)


def test_spice_forms_in_ngspice_equal_numpy_and_their_derivative_is_dphi(tmp_path):
    """Each φ and φ′ as ngspice B sources in a DC sweep: φ against NumPy, and the finite difference of
    ngspice's φ over the sweep against ngspice's φ′."""
    circuit = Circuit(title="activation table")
    circuit.add(vsource("Vx", "x", "0", Dc(0.0)))
    for name, act in ACTIVATIONS.items():
        circuit.add(bvoltage(f"Bphi_{name}", f"phi_{name}", substitute(act.expr_phi, {"x": Node("x")})))
        circuit.add(bvoltage(f"Bdphi_{name}", f"dphi_{name}", substitute(act.expr_dphi, {"x": Node("x")})))
    h = 1e-3
    circuit.options = {"reltol": 1e-12, "vntol": 1e-15}  # converge each point fully
    circuit.analyses = [DcSweep("Vx", -5.0, 5.0, h)]
    path = tmp_path / "act.cir"
    path.write_text(NgspiceWriter().format_circuit(circuit))
    raw = run_analysis(path)
    x = np.real(raw["v(x)"])
    keep = away_from_kinks(x, 20 * STEP_WIDTH)
    inner = keep[1:-1] & away_from_kinks(x[1:-1], 2 * h)
    assert inner.sum() > 9000
    for name, act in ACTIVATIONS.items():
        phi, dphi = np.real(raw[f"v(phi_{name})"]), np.real(raw[f"v(dphi_{name})"])
        np.testing.assert_allclose(phi, act.phi(x), rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(dphi[keep], act.dphi(x[keep]), rtol=1e-12, atol=1e-12, err_msg=name)
        numeric = (phi[2:] - phi[:-2]) / (x[2:] - x[:-2])
        np.testing.assert_allclose(dphi[1:-1][inner], numeric[inner], rtol=0, atol=1e-6, err_msg=name)
