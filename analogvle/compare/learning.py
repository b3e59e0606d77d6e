"""The loss and the learning curve: how learning is compared between circuit and reference.

The loss is a derived signal (:func:`output_loss`), the same for both files:
``loss`` = ½ β ‖target − r_L‖² at every save point, model units
(:func:`analogvle.model.terms.output_loss`), with β from each trajectory's own
typed spec (1 when a file carries none). When ``loss`` is compared the result also
holds its *learning curve* (:class:`LearningCurve`): the loss smoothed by a
causal moving average over one period of the slowest input component, and the
largest pointwise relative deviation of the circuit's curve from the
reference's at the save points from ``learn_after`` on.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from analogvle.model.spec import Spec
from analogvle.model.terms import output_loss as loss_of
from analogvle.model.trajectory import Trajectory

LOSS = "loss"  # the derived signal ½ β ‖target − r_L‖²
LOSS_RATIO_SPAN = 100.0  # model time units averaged at each end for the loss ratio (at most a quarter of the run)


@dataclass
class LearningCurve:
    """Circuit and reference learning curves: the loss, smoothed, compared point by point.

    ``smoothed(t)`` is the mean of the loss over the save points in (t − window, t]
    (causal; from the first full window on). ``max_rel_dev`` is the largest
    |circuit − reference| / reference of the smoothed losses at save points
    t ≥ ``start`` (learn_after), found at ``t_worst``. ``loss_ratio_*`` is the
    mean loss over [start, start + span) over the mean loss over the last ``span``
    (span = LOSS_RATIO_SPAN, at most a quarter of the run after ``start``).
    """

    window: float  # model time units
    window_basis: str  # what the window is one period of
    start: float  # model time units
    max_rel_dev: float
    t_worst: float  # model time units
    loss_ratio_reference: float
    loss_ratio_circuit: float
    span: float  # model time units
    t: np.ndarray = field(repr=False)  # times of the smoothed curves, model time units
    reference: np.ndarray = field(repr=False)  # smoothed reference loss, model units
    circuit: np.ndarray = field(repr=False)  # smoothed circuit loss, model units


def loss_beta(spec: Spec | None) -> float:
    """β of a trajectory's spec (1 without a spec)."""
    return spec.network.beta if spec is not None else 1.0


def output_loss(traj: Trajectory) -> np.ndarray | None:
    """½ β ‖target − r_L‖² at every save point (model units), or None without target or rates.

    r_L is the top layer's ``layer{L}/r``; β comes from the trajectory's own spec.
    """
    tops = [int(m.group(1)) for n in traj.signals if (m := re.fullmatch(r"layer(\d+)/r", n))]
    if "target" not in traj.signals or not tops:
        return None
    return loss_of(components(traj.signals["target"]), components(traj.signals[f"layer{max(tops)}/r"]),
                   loss_beta(traj.spec))


def with_loss(traj: Trajectory) -> Trajectory:
    """``traj`` with the derived ``loss`` signal added (the same object when there is no loss)."""
    loss = output_loss(traj)
    return traj if loss is None else traj.with_signals({LOSS: loss})


def learning_window(spec: Spec | None, t: np.ndarray) -> tuple[float, str]:
    """(window, basis): one period of the slowest input component, model time units.

    Sines: 2π / (the smallest nonzero ω of any channel); square wave: its period;
    otherwise (sampled input, no spec) 1 % of the span of ``t``.
    """
    if spec is not None and spec.input.kind == "sines":
        omegas = np.abs([w for row in spec.input.omegas for w in row])
        if np.any(omegas > 0):
            slowest = float(np.min(omegas[omegas > 0]))
            return 2 * math.pi / slowest, f"the slowest input sine (omega = {slowest:g})"
    if spec is not None and spec.input.kind == "square":
        return float(spec.input.period), "the input square wave"
    return 0.01 * float(t[-1] - t[0]), "1 % of the run (no periodic input in the spec)"


def smooth_loss(loss: np.ndarray, n: int) -> np.ndarray:
    """Causal moving average over ``n`` samples: out[k] = mean(loss[k − n + 1 .. k]), for k ≥ n − 1."""
    c = np.concatenate([[0.0], np.cumsum(loss)])
    return (c[n:] - c[:-n]) / n


def learning_curve(t: np.ndarray, ref_loss: np.ndarray, circ_loss: np.ndarray, spec: Spec | None) -> LearningCurve:
    """Compare the smoothed losses (see :class:`LearningCurve`) on the common grid ``t``; ``spec``: the reference's."""
    step = float(np.median(np.diff(t)))
    window, basis = learning_window(spec, t)
    n = int(min(len(t), max(1, round(window / step))))
    start = spec.time.learn_after if spec is not None else 0.0
    ts, sr, sc = t[n - 1 :], smooth_loss(ref_loss, n), smooth_loss(circ_loss, n)
    sel = ts >= start - 1e-9 * step
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(sc - sr) / sr
    max_rel, t_worst = math.nan, math.nan
    if sel.any():
        worst = int(np.argmax(np.where(np.isnan(rel[sel]), np.inf, rel[sel])))
        max_rel, t_worst = float(rel[sel][worst]), float(ts[sel][worst])
    span = min(LOSS_RATIO_SPAN, 0.25 * float(t[-1] - max(start, t[0])))
    first = (t >= start) & (t < start + span)
    last = t > t[-1] - span

    def ratio(loss: np.ndarray) -> float:
        if not first.any() or not last.any():
            return math.nan
        end = float(np.mean(loss[last]))
        return float(np.mean(loss[first])) / end if end > 0 else math.inf

    return LearningCurve(
        window=n * step,
        window_basis=basis,
        start=start,
        max_rel_dev=max_rel,
        t_worst=t_worst,
        loss_ratio_reference=ratio(ref_loss),
        loss_ratio_circuit=ratio(circ_loss),
        span=span,
        t=ts,
        reference=sr,
        circuit=sc,
    )


def learning_line(curve: LearningCurve) -> str:
    """One line: the learning curves' largest relative deviation and the loss ratios."""
    return (
        f"learning curve (loss averaged over {curve.window:.3g} time units): circuit within "
        f"{100 * curve.max_rel_dev:.3g} % of the reference from t = {curve.start:g} on (worst at t = "
        f"{curve.t_worst:.4g}); loss fell {curve.loss_ratio_circuit:.3g}x in the circuit, "
        f"{curve.loss_ratio_reference:.3g}x in the reference (first vs last {curve.span:g} time units)"
    )


def components(values: np.ndarray) -> np.ndarray:
    """(T, ...) → (T, K) floats: one column per component of a signal."""
    values = np.asarray(values, dtype=float)
    return values.reshape(len(values), -1)
