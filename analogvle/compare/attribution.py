"""Which cell contributes most of a circuit's error: each stage against its ideal form fed with the circuit's own input.

For a forward path, layer by layer:

- *synapses and membrane* of layer l: the circuit's ŭ against the exact lead-lag
  ŭ = (1 + sτr)/(1 + sτm)·s of s = W·φ(ŭ_{l−1}) + b computed from the *circuit's*
  ŭ of the layer below (layer 1: the ideal input x), so errors made below do
  not count here;
- *rate* of layer l: the circuit's r against φ(circuit ŭ) (a tanh neuron's φ cell);
- *error path* of layer l: the circuit's e against (1 + sτm)/(1 + sτr)·φ′(ŭ)·ε with ŭ and
  ε = β(target − r) (top) or Wᵀe (below) taken from the circuit.

Each local error is RMS/peak-to-peak of the reference signal (the nrmse of
:mod:`.metrics`); the largest one names the cell that contributes most.
"""

from __future__ import annotations

import numpy as np

from analogvle.model.activations import ACTIVATIONS
from analogvle.model.spec import Spec
from analogvle.model.trajectory import Trajectory


def lead_lag(t: np.ndarray, s: np.ndarray, tau_m: np.ndarray, tau_r: np.ndarray) -> np.ndarray:
    """ŭ = (1 − a)u + a·s with τm u' = −u + s, exact for s linear between samples, u(0) = s(0); s (T, n)."""
    u = np.empty_like(s)
    u[0] = s[0]
    for k in range(len(t) - 1):
        h = t[k + 1] - t[k]
        alpha = np.exp(-h / tau_m)
        slope = (s[k + 1] - s[k]) / h
        u[k + 1] = s[k + 1] - tau_m * slope + (u[k] - s[k] + tau_m * slope) * alpha
    a = tau_r / tau_m
    return (1 - a) * u + a * s


def _local(c: np.ndarray, ideal: np.ndarray, ref: np.ndarray) -> float:
    """RMS(circuit − its ideal form) / peak-to-peak of the reference signal."""
    return float(np.sqrt(np.mean((c - ideal) ** 2)) / (float(np.ptp(ref)) or 1.0))


def cell_errors(spec: Spec, ref: Trajectory, circ: Trajectory) -> dict[str, float]:
    """Local nrmse per stage (``"layer1 synapses+membrane"``, ``"layer1 rate (tanh)"``, ...), largest first."""
    out: dict[str, float] = {}
    for l, layer, local in _forward_stages(spec, ref["x"] if "x" in ref.signals else None, circ):
        uh_key, r_key = f"layer{l}/uhat", f"layer{l}/r"
        out[f"layer{l} synapses+membrane"] = _local(circ[uh_key], local, ref[uh_key])
        if layer.phi != "linear" and r_key in circ.signals:
            phi = ACTIVATIONS[layer.phi].phi
            out[f"layer{l} rate ({layer.phi})"] = _local(circ[r_key], phi(circ[uh_key]), ref[r_key])
    if spec.network.errors != "none" and "target" in ref.signals:
        for l, ideal, e in _error_stages(spec, ref["target"], circ):
            out[f"layer{l} error path (eps, r' eps, error neuron)"] = _local(e, ideal, ref[f"layer{l}/e"])
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _forward_stages(spec: Spec, x: np.ndarray | None, circ: Trajectory):
    """(layer l, its LayerSpec, ideal ŭ) from layer 1 up while the circuit has ŭ: the ideal ŭ is the lead-lag of
    s = W·φ(ŭ_{l−1}) + b with the circuit's ŭ below (layer 1: the input ``x``); fixed W and b of the spec."""
    pre = x
    for l, layer in enumerate(spec.network.layers, 1):
        uh_key = f"layer{l}/uhat"
        if pre is None or uh_key not in circ.signals:
            return
        s = pre @ np.asarray(layer.weights).T + np.asarray(layer.bias)
        yield l, layer, lead_lag(circ.t, s, np.asarray(layer.tau_m, float), np.asarray(layer.tau_r, float))
        pre = ACTIVATIONS[layer.phi].phi(circ[uh_key])


def _slopes(ideal: np.ndarray, circ: np.ndarray, keep: np.ndarray) -> list[float]:
    """Per column, the fitted slope (offset free) of ``circ`` against ``ideal`` over the rows ``keep``."""
    return [float(np.polyfit(ideal[keep, i], circ[keep, i], 1)[0]) for i in range(circ.shape[1])]


def forward_gains(spec: Spec, circ: Trajectory, x: np.ndarray, start: float = 0.0) -> dict[str, float]:
    """Gain of each neuron's synapses and membrane (``"layer2 n0"``, ...): the fitted slope of the circuit's ŭ
    against its ideal form fed with the circuit's ŭ below (layer 1: input ``x``), over t ≥ ``start``."""
    return {f"layer{l} n{i}": g for l, _, ideal in _forward_stages(spec, x, circ)
            for i, g in enumerate(_slopes(ideal, circ[f"layer{l}/uhat"], circ.t >= start))}


def _error_stages(spec: Spec, target: np.ndarray, circ: Trajectory):
    """(layer l, ideal e, circuit e) from the top layer down while the circuit has e and ŭ: the ideal e is
    the error neuron's form fed with the circuit's ŭ and ε = β(target − r) (top) or Wᵀe of the circuit's e above."""
    net, t = spec.network, circ.t
    e_above = None
    for l in range(len(net.layers), 0, -1):
        layer = net.layers[l - 1]
        e_key, uh_key = f"layer{l}/e", f"layer{l}/uhat"
        if e_key not in circ.signals or uh_key not in circ.signals:
            return
        if l == len(net.layers):
            eps = net.beta * (target - circ[f"layer{l}/r"])
        else:
            eps = e_above @ np.asarray(net.layers[l].weights)
        p = ACTIVATIONS[layer.phi].dphi(circ[uh_key]) * eps
        tm, tr = np.asarray(layer.tau_m, float), np.asarray(layer.tau_r, float)
        ideal = lead_lag(t, p, tr, tm) if net.errors == "prospective" else p
        yield l, ideal, circ[e_key]
        e_above = circ[e_key]


def error_gains(spec: Spec, circ: Trajectory, start: float = 0.0) -> dict[str, float]:
    """Gain of each error neuron (``"layer1 n0"``, ...): the fitted slope (offset free) of the circuit's e against
    its ideal form fed with the circuit's own ŭ and the errors above (as the error-path stage of :func:`cell_errors`),
    over t ≥ ``start``. 1 for a stage with the right gain, whatever happens above it."""
    return {f"layer{l} n{i}": g for l, ideal, e in _error_stages(spec, circ["target"], circ)
            for i, g in enumerate(_slopes(ideal, e, circ.t >= start))}


def error_lags(spec: Spec, circ: Trajectory, start: float = 0.0) -> dict[str, float]:
    """Delay of each error neuron (``"layer1 n0"``, ...) behind its ideal form fed with the circuit's own ŭ and the
    errors above (as :func:`error_gains`), in model time units (> 0: late): the fit e ≈ g·(ideal − d·ideal′) + offset
    over t ≥ ``start``. The ideal form is exact for inputs linear between samples, so a coarse save_dt reads a
    few thousandths of a unit early on a fast (small τr) error neuron."""
    keep = circ.t >= start
    out = {}
    for l, ideal, e in _error_stages(spec, circ["target"], circ):
        for i in range(e.shape[1]):
            basis = np.stack([ideal[keep, i], np.gradient(ideal[:, i], circ.t)[keep], np.ones(keep.sum())], axis=1)
            (g, c, _), *_ = np.linalg.lstsq(basis, e[keep, i], rcond=None)
            out[f"layer{l} n{i}"] = float(-c / g)
    return out


def learning_signals(spec: Spec, traj: Trajectory, x: np.ndarray, start: float = 0.0) -> dict[str, dict[str, list]]:
    """The mean learning signal ⟨e_i·r_j⟩ of every layer with errors (r_j: input ``x`` for layer 1, φ(ŭ) below),
    over t ≥ ``start``: dW/dt = η·⟨e·rᵀ⟩ at the trajectory's weights. ``"actual"`` uses the trajectory's e,
    ``"local"`` the ideal form of its error neurons fed with its own ŭ and the errors above (as :func:`error_gains`),
    so a difference between them is the layer's own error cells, not the layers above."""
    keep = traj.t >= start
    out = {}
    for l, ideal, e in _error_stages(spec, traj["target"], traj):
        if l == 1:
            pre = x
        else:
            pre = ACTIVATIONS[spec.network.layers[l - 2].phi].phi(traj[f"layer{l - 1}/uhat"])
        n = keep.sum()
        out[f"layer{l}"] = {"actual": (e[keep].T @ pre[keep] / n).tolist(), "local": (ideal[keep].T @ pre[keep] / n).tolist()}
    return out
