"""Learning in the circuit: on-circuit plasticity against the continuous-time reference.

Every circuit run here is a real ngspice transient (shared-library backend,
ideal realization) of the full 1,000 model time units of the example spec;
the reference is the adaptive integrator (solve_ivp, rtol 1e-10) of the same
continuous-time rule dW/dt = η e rᵀ, db/dt = η e. The adaptive method is used
because it is the most accurate reference the package has and takes seconds
(4–20 s per task), so rk4's speed is not needed.

Definitions (shared with the report, see :mod:`analogvle.compare`):

- loss(t) = ½ β ‖target − r_L‖², model units, at every save point.
- loss ratio = mean loss over [learn_after, learn_after + 100) divided by the
  mean loss over the last 100 model time units (the first window starts when
  learning does: before it, nothing can fall).
- learning curve = the loss smoothed by a causal moving average over one
  period of the slowest input component (sines: 2π/min ω = 12.8 time units for
  the hidden task). Two curves agree within 5 % when, at every save point
  t ≥ learn_after, |L̄_circuit − L̄_reference| ≤ 0.05 · L̄_reference. The raw
  instantaneous loss touches zero whenever the output crosses the target, so a
  pointwise relative bound on it is meaningless there (the test asserts such
  near-zeros exist), which is why the smoothed curve is compared.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from analogvle.compare.learning import LOSS, learning_curve, learning_window, output_loss, smooth_loss
from analogvle.compare.metrics import compare
from analogvle.integrate.solve import integrate
from analogvle.model.network import LayerSpec, NetworkSpec
from analogvle.model.spec import Spec, TimeSpec
from analogvle.model.stimulus import InputSpec
from analogvle.model.toml import load_spec
from analogvle.model.trajectory import Trajectory
from analogvle.report.write import write_report
from analogvle.simulate.run import simulate

ROOT = Path(__file__).resolve().parents[1]
WEIGHT_RTOL = 0.01  # final circuit weights within 1 % of the reference-trained ones
LOSS_FALL = 10.0  # the loss falls at least 10× over the run
CURVE_RTOL = 0.05  # learning curves within 5 % at every save point after learning starts

_RUNS: dict[str, tuple[Trajectory, Trajectory]] = {}


def trained(name: str) -> tuple[Trajectory, Trajectory]:
    """(reference, circuit) of sims/<name>.toml over its full duration, computed once per session."""
    if name not in _RUNS:
        spec = load_spec(ROOT / "sims" / f"{name}.toml")
        circuit = simulate(spec, backend="shared", realization="ideal", progress=False)
        _RUNS[name] = (integrate(spec, "adaptive"), circuit)
    return _RUNS[name]


def learned_parameters(traj: Trajectory) -> dict[str, np.ndarray]:
    return {n: v for n, v in traj.signals.items() if n.endswith(("/W", "/b"))}


def small_spec(*, beta: float = 1.0, learn_after: float = 0.0, duration: float = 100.0,
               inp: InputSpec | None = None, outputs: int = 1) -> Spec:
    """A spec for hand-made trajectories: only β, learn_after and the input matter to the loss and its curve."""
    inp = inp or InputSpec(kind="sines", omegas=[1.0])
    layers = (LayerSpec(size=outputs, tau_m=1.0, weights=[[1.0] * inp.channels] * outputs),)
    return Spec(name="small", time=TimeSpec(dt=0.1, duration=duration, learn_after=learn_after), input=inp,
                network=NetworkSpec(inputs=inp.channels, layers=layers, errors="none", beta=beta))


def traj(t: np.ndarray, target: np.ndarray, out: np.ndarray, spec: Spec) -> Trajectory:
    return Trajectory(t=t, signals={"target": target[:, None], "layer2/r": out[:, None]}, spec=spec)


# ----------------------------------------------------------------------------
# The loss and the learning curve (fast)
# ----------------------------------------------------------------------------


def test_loss_is_half_beta_squared_error_of_the_top_layer():
    t = np.linspace(0.0, 1.0, 5)
    target = np.array([[1.0, 0.0]] * 5)
    tr = Trajectory(t=t, signals={"target": target, "layer1/r": np.zeros((5, 3)), "layer2/r": np.ones((5, 2))},
                    spec=small_spec(beta=0.01, outputs=2))
    assert np.allclose(output_loss(tr), 0.5 * 0.01 * (0.0 + 1.0))
    assert output_loss(Trajectory(t=t, signals={"layer2/r": np.ones((5, 2))})) is None  # no target, no loss


def test_loss_is_compared_and_reported_with_its_learning_curve(tmp_path):
    t = np.arange(0.0, 100.0, 0.1)
    spec = small_spec(learn_after=10.0, inp=InputSpec(kind="square", period=4.0))
    target = np.sin(t)
    ref = traj(t, target, 0.9 * target, spec)
    circ = traj(t, target, 0.9 * target + 1e-5, spec)
    result = compare(ref, circ, signals=["layer*/r", LOSS])
    assert LOSS in result.signals and result.learning is not None
    assert result.learning.window == pytest.approx(4.0) and result.learning.start == 10.0
    assert 0 < result.learning.max_rel_dev < 0.01
    write_report(result, tmp_path / "rep")
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert metrics["signals"][LOSS]["pass"] and metrics["learning_curve"]["max_rel_dev"] == result.learning.max_rel_dev
    assert "## Learning curve" in (tmp_path / "rep" / "report.md").read_text()


def test_learning_curve_deviation_is_relative_to_the_reference_from_learn_after_on():
    t = np.arange(0.0, 50.0, 0.1)
    spec = small_spec(learn_after=20.0, inp=InputSpec(kind="sines", channels=2, omegas=[[1.0, 2.0], [0.5]]))
    assert learning_window(spec, t)[0] == pytest.approx(4 * math.pi)
    ref = np.exp(-t / 10) + 0.1
    circ = ref * np.where(t < 20.0 - 4 * math.pi, 2.0, 1.03)  # 100 % off only where no window reaches t ≥ 20
    curve = learning_curve(t, ref, circ, spec)
    assert curve.max_rel_dev == pytest.approx(0.03, rel=1e-9)
    assert curve.t[0] == pytest.approx(t[len(t) - len(curve.t)]) and np.all(np.diff(curve.t) > 0)
    n = round(4 * math.pi / 0.1)
    assert np.allclose(smooth_loss(ref, n)[-1], ref[-n:].mean())


# ----------------------------------------------------------------------------
# Circuit learning against the reference (real ngspice, full runs)
# ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lagnet", "lagline"])
def test_circuit_trained_weights_are_within_1_percent_of_the_reference(name):
    ref, circ = trained(name)
    spec = load_spec(ROOT / "sims" / f"{name}.toml")
    expected = [f"layer{l}/{k}" for l, layer in enumerate(spec.network.layers, 1) for k, learns in
                (("W", layer.plastic), ("b", layer.learns_bias)) if learns]
    params = learned_parameters(ref)
    assert sorted(params) == sorted(expected)
    for key, values in params.items():
        final_ref, final_circ = values[-1], circ.signals[key][-1]
        moved = np.abs(final_ref - values[0])
        assert np.all(np.abs(final_circ - final_ref) <= WEIGHT_RTOL * np.abs(final_ref)), (key, final_circ, final_ref)
        if key.endswith("/W"):  # the 1 % is a small part of what was learned
            assert moved.max() > 10 * WEIGHT_RTOL * np.abs(final_ref).max(), (key, values[0], final_ref)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lagnet", "lagline"])
def test_loss_falls_at_least_tenfold_in_the_circuit(name):
    ref, circ = trained(name)
    result = compare(ref, circ, signals=["layer*/W", LOSS])
    curve = result.learning
    assert curve.span == 100.0
    assert curve.loss_ratio_circuit >= LOSS_FALL, curve
    assert curve.loss_ratio_reference >= LOSS_FALL, curve


@pytest.mark.slow
def test_hidden_task_every_layer_learns_and_learning_curves_agree_within_5_percent():
    ref, circ = trained("hidden")
    spec = load_spec(ROOT / "sims" / "hidden.toml")
    assert spec.network.sizes[0] >= 5 and all(layer.plastic for layer in spec.network.layers)
    for key, values in learned_parameters(circ).items():
        assert np.abs(values[-1] - values[0]).max() > 0.05, key  # every layer's weights and biases moved
    result = compare(ref, circ, signals=["layer*/W", "layer*/b", LOSS])
    curve = result.learning
    assert curve.start == spec.time.learn_after > 0
    assert curve.window == pytest.approx(2 * math.pi / 0.49, abs=spec.time.save_dt)
    assert curve.t[0] <= curve.start  # every save point from learn_after on is compared
    assert curve.max_rel_dev <= CURVE_RTOL, curve
    assert curve.loss_ratio_reference > 5  # the curve is a learning curve: the loss falls clearly
    # The instantaneous loss has near-zeros (output crossing target): relative to them, the same
    # small circuit error is unbounded, which is why the learning curve is the smoothed loss.
    raw = output_loss(ref)[ref.t >= spec.time.learn_after]
    assert raw.min() < 1e-6 * np.median(raw)
