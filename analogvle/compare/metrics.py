"""Compare a circuit trajectory with the reference: align, measure, decide.

Both files are in model units. The circuit is resampled onto the reference's
grid over the time span the two files share (a cubic spline when the grids
differ; the samples themselves when they coincide). For every selected signal,
all its components together and each component alone:

- ``nrmse``: RMS(circuit − reference) / peak-to-peak(reference). A constant
  reference has no range: the scale falls back to max|reference|, then to 1,
  and the metrics say so (``scale_basis``).
- ``max_abs``: the largest |circuit − reference|, model units.
- ``lag``: the time shift s (model time units) minimising the RMS of
  circuit(t + s) − reference(t). Positive means the circuit runs *behind* the
  reference: circuit(t) ≈ reference(t − lag). Found on whole steps by a
  cross-correlation, then to sub-step precision by a bounded scalar
  minimisation of RMS(circuit(t) − reference(t − s)) over the circuit's own
  samples, the reference interpolated by a cubic spline.
- ``nrmse_aligned``: the nrmse left once that lag is removed.

The comparison passes on full evidence only: every selected signal's nrmse
finite and within the tolerance, every signal the patterns select in the
reference present in the circuit too, and the circuit covering at least
``coverage`` (default 0.99) of the reference's time span. Otherwise
``failures`` says why.

The loss and the learning curve, compared besides the states, come from
:mod:`analogvle.learning`.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft
from scipy.interpolate import CubicSpline
from scipy.optimize import minimize_scalar

from analogvle.compare.learning import LOSS, LearningCurve, components, learning_curve, loss_beta, with_loss
from analogvle.errors import CompareError
from analogvle.model.settings import CompareSpec
from analogvle.model.trajectory import Trajectory

DEFAULT_SIGNALS: tuple[str, ...] = CompareSpec().signals
DEFAULT_TOLERANCE: float = CompareSpec().tolerance
DEFAULT_COVERAGE: float = CompareSpec().coverage
MAX_LAG_FRACTION = 0.25  # the lag search covers ± this fraction of the common span
MAX_COMPONENT_LAGS = 32  # per-component lags beyond this many components are skipped


@dataclass
class ComponentMetrics:
    """Metrics of one component (one neuron, one weight) of a signal."""

    index: tuple[int, ...]
    nrmse: float
    max_abs: float  # model units
    lag: float  # model time units; nan when undefined or skipped

    @property
    def label(self) -> str:
        return "[" + ",".join(str(i) for i in self.index) + "]" if self.index else ""


@dataclass
class SignalMetrics:
    """Metrics of one signal, all components together, plus per-component detail."""

    name: str
    shape: tuple[int, ...]  # per time point
    nrmse: float
    max_abs: float  # model units
    lag: float  # model time units, > 0: circuit behind reference; nan when undefined
    nrmse_aligned: float  # nrmse after removing the lag; nan when undefined
    scale: float  # the nrmse denominator, model units
    scale_basis: str  # "peak-to-peak" | "max|ref|" | "unit"
    passed: bool
    components: list[ComponentMetrics] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    """The outcome of :func:`compare`; ``data`` holds the aligned arrays for plotting."""

    signals: dict[str, SignalMetrics]
    tolerance: float
    passed: bool
    worst: float  # the largest nrmse (nan if a signal is not finite)
    worst_signal: str
    only_in_reference: list[str]
    only_in_circuit: list[str]
    unmatched_patterns: list[str]
    patterns: list[str]
    t: np.ndarray = field(repr=False)  # common grid (the reference's), model time units
    step: float = 0.0  # median step of t
    notes: list[str] = field(default_factory=list)
    reference_meta: dict = field(default_factory=dict, repr=False)
    circuit_meta: dict = field(default_factory=dict, repr=False)
    data: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)  # name -> (ref, circ)
    learning: LearningCurve | None = None  # when the loss is compared
    coverage: float = 1.0  # fraction of the reference's time span the circuit covers
    failures: list[str] = field(default_factory=list)  # why it fails besides the signals' nrmse


def compare(
    ref: Trajectory,
    circ: Trajectory,
    *,
    signals: Sequence[str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    coverage: float = DEFAULT_COVERAGE,
) -> Comparison:
    """Compare ``circ`` with ``ref`` over their common time span.

    ``signals`` are glob patterns over signal names (default
    ``layer*/r``, ``layer*/e``, ``layer*/W``); ``tolerance`` is the largest
    nrmse allowed (positive, finite); ``coverage`` the smallest fraction of the
    reference's time span the circuit must cover. Raises CompareError when
    nothing can be compared (no common signal, no common time, a shape mismatch).
    """
    tolerance = check_tolerance(tolerance)
    if not 0.0 < coverage <= 1.0:
        raise CompareError(f"coverage: expected a fraction in (0, 1], got {coverage!r}")
    patterns = list(DEFAULT_SIGNALS if signals is None else signals)
    if not patterns:
        raise CompareError("signals: expected at least one glob pattern")
    ref, circ = with_loss(ref), with_loss(circ)
    selected_ref = _select(ref.signals, patterns)
    selected_circ = _select(circ.signals, patterns)
    common = sorted(set(selected_ref) & set(selected_circ))
    only_ref = sorted(set(selected_ref) - set(selected_circ))
    only_circ = sorted(set(selected_circ) - set(selected_ref))
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(n, p) for n in [*ref.signals, *circ.signals])]
    if not common:
        raise CompareError(
            f"no common signals matching {' '.join(patterns)}: the reference has {_names(selected_ref, ref)}, "
            f"the circuit has {_names(selected_circ, circ)}"
        )
    for name in common:
        if not np.all(np.isfinite(ref.signals[name])):
            raise CompareError(f"the reference's {name} holds non-finite values (nan or inf): a reference must be "
                               "finite; integrate it again, or leave the signal out of the comparison")
        if ref.signals[name].shape[1:] != circ.signals[name].shape[1:]:
            raise CompareError(
                f"signal {name!r}: shape per time point differs: reference {ref.signals[name].shape[1:]}, "
                f"circuit {circ.signals[name].shape[1:]}"
            )

    lo, hi = max(ref.t[0], circ.t[0]), min(ref.t[-1], circ.t[-1])
    eps = 1e-9 * max(1.0, abs(lo), abs(hi))
    keep = (ref.t >= lo - eps) & (ref.t <= hi + eps)
    if hi <= lo or keep.sum() < 2:
        raise CompareError(
            f"the time spans do not overlap: reference {ref.t[0]:g}..{ref.t[-1]:g}, "
            f"circuit {circ.t[0]:g}..{circ.t[-1]:g} model time units"
        )
    t = ref.t[keep]
    step = float(np.median(np.diff(t)))
    notes = []
    if ref.t[0] < lo - eps or ref.t[-1] > hi + eps or circ.t[0] < lo - eps or circ.t[-1] > hi + eps:
        notes.append(
            f"compared over the common span {t[0]:g}..{t[-1]:g} only (reference {ref.t[0]:g}..{ref.t[-1]:g}, "
            f"circuit {circ.t[0]:g}..{circ.t[-1]:g})"
        )
    same_grid = len(circ.t) == len(ref.t) and np.allclose(circ.t, ref.t, rtol=0, atol=1e-9 * step)
    if not same_grid:
        notes.append(
            f"grids differ (reference {len(ref.t)} points, circuit {len(circ.t)}): "
            "the circuit was resampled onto the reference's grid (cubic spline)"
        )
    if only_ref:
        notes.append(f"only in the reference (not compared): {', '.join(only_ref)}")
    if only_circ:
        notes.append(f"only in the circuit (not compared): {', '.join(only_circ)}")
    if unmatched:
        notes.append(f"patterns matching no signal in either file: {', '.join(unmatched)}")

    results, data = {}, {}
    for name in common:
        r = components(ref.signals[name])[keep]
        c_raw = components(circ.signals[name])
        c = c_raw[keep] if same_grid else _resample(circ.t, c_raw, t)
        shape = ref.signals[name].shape[1:]
        data[name] = (r.reshape(len(t), *shape), c.reshape(len(t), *shape))
        with np.errstate(all="ignore"):  # a diverged circuit overflows: its metrics become inf/nan, reported as such
            results[name] = _signal_metrics(name, shape, t, r, c, circ.t, c_raw, step, tolerance)

    learning = None
    if LOSS in data:
        learning = learning_curve(t, *(a.ravel() for a in data[LOSS]), ref.spec)
        beta_ref, beta_circ = loss_beta(ref.spec), loss_beta(circ.spec)
        if beta_ref != beta_circ:
            notes.append(f"loss: beta differs (reference {beta_ref:g}, circuit {beta_circ:g}); each uses its own")

    covered = float((hi - lo) / (ref.t[-1] - ref.t[0]))
    failures = []
    if covered < coverage * (1 - 1e-12):
        failures.append(f"the circuit covers t = {lo:g}..{hi:g}, {100 * covered:.3g} % of the reference's "
                        f"{ref.t[0]:g}..{ref.t[-1]:g} (required: {100 * coverage:g} %)")
    if only_ref:
        failures.append(f"{len(only_ref)} requested signal(s) missing from the circuit: {', '.join(only_ref)}")
    worst_signal = max(results, key=lambda n: math.inf if not math.isfinite(results[n].nrmse) else results[n].nrmse)
    worst = results[worst_signal].nrmse
    return Comparison(
        signals=results,
        tolerance=tolerance,
        passed=all(m.passed for m in results.values()) and not failures,
        coverage=covered,
        failures=failures,
        worst=worst,
        worst_signal=worst_signal,
        only_in_reference=only_ref,
        only_in_circuit=only_circ,
        unmatched_patterns=unmatched,
        patterns=patterns,
        t=t,
        step=step,
        notes=notes,
        reference_meta=ref.meta,
        circuit_meta=circ.meta,
        data=data,
        learning=learning,
    )


def check_tolerance(value: object) -> float:
    """``value`` as a positive finite float, else CompareError naming the tolerance."""
    try:
        tol = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CompareError(f"tolerance: expected a positive number, got {value!r}") from None
    if not math.isfinite(tol) or tol <= 0:
        raise CompareError(f"tolerance: expected a positive finite number, got {value!r}")
    return tol


def summary_line(result: Comparison) -> str:
    """One line: PASS/FAIL, the worst signal against the tolerance, and any other reason it fails."""
    verdict = "PASS" if result.passed else "FAIL"
    relation = "<=" if result.worst <= result.tolerance else ">"
    reasons = "".join(f"; {reason}" for reason in result.failures)
    return (f"{verdict}: worst nrmse {result.worst:.3g} ({result.worst_signal}) {relation} tolerance "
            f"{result.tolerance:.3g}; {len(result.signals)} signals compared{reasons}")


# ----------------------------------------------------------------------------
# Metrics
# ----------------------------------------------------------------------------


def _signal_metrics(name, shape, t, r, c, tc, c_raw, step, tolerance) -> SignalMetrics:
    notes = []
    scale, basis = _scale(r)
    if basis != "peak-to-peak":
        notes.append(f"reference is constant: nrmse relative to {basis} = {scale:g} instead of its range")
    diff = c - r
    finite = bool(np.all(np.isfinite(c)))
    if not finite:
        notes.append("the circuit has non-finite values (nan or inf)")
    nrmse = float(np.sqrt(np.mean(diff**2)) / scale) if finite else math.nan
    max_abs = float(np.max(np.abs(diff))) if finite else math.nan
    lag, nrmse_aligned = math.nan, math.nan
    if finite and basis == "peak-to-peak":
        lag, rms = _lag(t, r, tc, c_raw, c, step)
        nrmse_aligned = rms / scale
    components = []
    k = r.shape[1]
    for j, index in enumerate(np.ndindex(*shape) if shape else [()]):
        rj, dj = r[:, j], diff[:, j]
        sj, bj = _scale(rj[:, None])
        lag_j = math.nan
        if finite and bj == "peak-to-peak" and k <= MAX_COMPONENT_LAGS:
            lag_j = lag if k == 1 else _lag(t, rj[:, None], tc, c_raw[:, j : j + 1], c[:, j : j + 1], step)[0]
        components.append(
            ComponentMetrics(
                index=tuple(int(i) for i in index),
                nrmse=float(np.sqrt(np.mean(dj**2)) / sj) if finite else math.nan,
                max_abs=float(np.max(np.abs(dj))) if finite else math.nan,
                lag=float(lag_j),
            )
        )
    if k > MAX_COMPONENT_LAGS:
        notes.append(f"{k} components: per-component lags skipped (more than {MAX_COMPONENT_LAGS})")
    return SignalMetrics(
        name=name,
        shape=tuple(shape),
        nrmse=nrmse,
        max_abs=max_abs,
        lag=float(lag),
        nrmse_aligned=float(nrmse_aligned),
        scale=scale,
        scale_basis=basis,
        passed=bool(finite and nrmse <= tolerance),
        components=components,
        notes=notes,
    )


def _scale(r: np.ndarray) -> tuple[float, str]:
    """The nrmse denominator: peak-to-peak, else max|ref|, else 1."""
    ptp = float(np.ptp(r))
    peak = float(np.max(np.abs(r)))
    if ptp > 1e-9 * peak:
        return ptp, "peak-to-peak"
    if peak > 0:
        return peak, "max|ref|"
    return 1.0, "unit"


def _lag(t, r, tc, c_raw, c, step) -> tuple[float, float]:
    """(lag, RMS after removing it): the shift s minimising RMS(c(t) − r(t − s)), model time units.

    ``r`` and ``c`` are (N, K) on ``t``; ``c_raw`` is the circuit on its own grid ``tc``. The
    reference (the clean, smooth one) is the one interpolated: interpolating a noisy circuit
    would pull the optimum towards mid-step shifts, where interpolation smooths noise most.
    """
    n = len(t)
    if n < 4:
        return math.nan, math.nan
    uniform = np.allclose(np.diff(t), step, rtol=1e-6, atol=0)
    if uniform:
        ru, cu = r, c
    else:
        grid = np.linspace(t[0], t[-1], n)
        ru, cu = _resample(t, r, grid), _resample(t, c, grid)
        step = float(grid[1] - grid[0])
    k0 = _coarse_lag(ru, cu, max(1, int(MAX_LAG_FRACTION * n)))
    spline = CubicSpline(t, r, axis=0)
    lo, hi = (k0 - 1) * step, (k0 + 1) * step
    window = (tc - hi >= t[0] - 1e-9 * step) & (tc - lo <= t[-1] + 1e-9 * step)
    if window.sum() < 2:
        return math.nan, math.nan
    tw, cw = tc[window], c_raw[window]

    def rms(s: float) -> float:
        return float(np.sqrt(np.mean((cw - spline(tw - s)) ** 2)))

    best = minimize_scalar(rms, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4 * step})
    candidates = [(float(best.fun), float(best.x)), (rms(k0 * step), k0 * step)]
    value, lag = min(candidates)
    return (0.0 if abs(lag) < 1e-9 * step else lag), value


def _coarse_lag(r: np.ndarray, c: np.ndarray, max_k: int) -> int:
    """Whole-step shift k minimising mean((c[i+k] − r[i])²); the smallest |k| among near-best minima."""
    n = len(r)
    max_k = min(max_k, n - 2)
    nfft = next_fast_len(2 * n)
    cross = irfft(rfft(c, nfft, axis=0) * np.conj(rfft(r, nfft, axis=0)), nfft, axis=0).sum(axis=1)
    ks = np.arange(-max_k, max_k + 1)
    r2 = np.concatenate([[0.0], np.cumsum((r**2).sum(axis=1))])
    c2 = np.concatenate([[0.0], np.cumsum((c**2).sum(axis=1))])
    start, stop = np.maximum(0, -ks), np.minimum(n, n - ks)  # i in [start, stop), i + k in range
    err = (r2[stop] - r2[start] + c2[stop + ks] - c2[start + ks] - 2 * cross[ks % nfft]) / (stop - start)
    best = int(np.argmin(err))
    interior = np.flatnonzero((err[1:-1] <= err[:-2]) & (err[1:-1] <= err[2:])) + 1
    floor, typical = err[best], float(np.median(err))
    near = [i for i in interior if err[i] <= floor + 0.05 * (typical - floor)] + [best]
    return int(ks[min(near, key=lambda i: (abs(ks[i]), err[i]))])


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------


def _select(signals: dict[str, np.ndarray], patterns: Sequence[str]) -> list[str]:
    return [n for n in signals if any(fnmatch.fnmatchcase(n, p) for p in patterns)]


def _names(names: Sequence[str], traj: Trajectory) -> str:
    """The selected names, or what the file holds instead (at most 8 names)."""
    if names:
        return ", ".join(sorted(names))
    held = sorted(traj.signals)
    return f"none of {', '.join(held[:8])}{', ...' if len(held) > 8 else ''}" if held else "no signals"


def _resample(t_src: np.ndarray, y: np.ndarray, t_dst: np.ndarray) -> np.ndarray:
    """Cubic-spline ``y`` (T, K) from ``t_src`` onto ``t_dst``."""
    if not np.all(np.isfinite(y)):
        return np.stack([np.interp(t_dst, t_src, y[:, j]) for j in range(y.shape[1])], axis=1)
    return CubicSpline(t_src, y, axis=0)(t_dst)
