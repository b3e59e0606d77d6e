"""The exact gradient (the adjoint, VLE's general case) against the local GLE estimate.

For the forward network (γ = 0) and the loss 𝓛 = ∫₀ᵀ ½ β ‖target − r_L‖² dt
(model time units), the descent direction is −∂𝓛/∂W_ℓ = ∫ λ_ℓ r_{ℓ−1}ᵀ dt with

    w_ℓ = I⁺_τm[δ_ℓ]  (τm ẇ = w − δ, backward from w(T) = 0)
    λ_ℓ = (1 − τr/τm) w_ℓ + (τr/τm) δ_ℓ
    δ_L = β r′_L ⊙ (target − r_L),   δ_ℓ = r′_ℓ ⊙ W_{ℓ+1}ᵀ λ_{ℓ+1}

(EQUATIONS.md). The forward pass runs once with ``solve_ivp`` and dense output,
accumulating the loss and the local estimates ∫ e rᵀ dt (GLE's prospective
errors and, for contrast, instantaneous backprop errors); the adjoint then
runs backward over the same dense solution. Weights are held at their spec
values: this is the gradient at the start of learning.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.integrate import solve_ivp

from analogvle.errors import IntegrationError, SpecError
from analogvle.integrate.vector_field import ContinuousModel
from analogvle.model.spec import Spec
from analogvle.model.terms import lead_lag, leaky_rate, output_loss

RTOL = 1e-10


@dataclass
class LayerGradients:
    exact: np.ndarray  # −∂𝓛/∂W (descent direction), n_ℓ × n_{ℓ−1}
    local: np.ndarray  # ∫ e rᵀ dt with GLE (prospective) errors
    instantaneous: np.ndarray  # ∫ e rᵀ dt with instantaneous errors

    @staticmethod
    def _align(a: np.ndarray, b: np.ndarray) -> tuple[float | None, float | None]:
        """(cosine, norm ratio) of ``a`` against ``b``; None where undefined (``b`` = 0, e.g. β = 0)."""
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        if nb == 0.0:
            return None, None
        cosine = float(np.sum(a * b) / (na * nb)) if na > 0 else 0.0
        return cosine, float(na / nb)

    def as_dict(self) -> dict:
        """The JSON form (INTERFACES.md); undefined alignments are null."""
        cos, ratio = self._align(self.local, self.exact)
        cos_i, ratio_i = self._align(self.instantaneous, self.exact)
        return {
            "exact": self.exact.tolist(),
            "local": self.local.tolist(),
            "instantaneous": self.instantaneous.tolist(),
            "cosine": cos,
            "norm_ratio": ratio,
            "cosine_instantaneous": cos_i,
            "norm_ratio_instantaneous": ratio_i,
        }


@dataclass
class Gradients:
    loss: float
    duration: float
    layers: dict[str, LayerGradients]
    note: str = ""

    def as_dict(self) -> dict:
        out = {"loss": self.loss, "duration": self.duration,
               "layers": {k: v.as_dict() for k, v in self.layers.items()}}
        if self.note:
            out["note"] = self.note
        return out


def forward_network(spec: Spec) -> tuple[Spec, str]:
    """The spec with γ = 0, plasticity off and prospective errors (which then do not act on r)."""
    changed = [f"layer{i}.gamma" for i, layer in enumerate(spec.network.layers, 1) if layer.gamma != 0.0]
    layers = tuple(replace(layer, gamma=0.0, plastic=False, eta=0.0) for layer in spec.network.layers)
    network = replace(spec.network, layers=layers, errors="prospective")
    note = f"gamma set to 0 for {', '.join(changed)} (the adjoint is for the forward network)" if changed else ""
    return replace(spec, network=network, time=replace(spec.time, learn_after=0.0)), note


def with_ratio(spec: Spec, ratio: float) -> Spec:
    """``spec`` with every student neuron's τr = ratio·τm."""
    layers = tuple(replace(layer, tau_r=ratio * layer.tau_m) for layer in spec.network.layers)
    return replace(spec, network=replace(spec.network, layers=layers))


class _Accumulators:
    """Forward state augmented with the loss and the ∫ e rᵀ dt estimates."""

    def __init__(self, model: ContinuousModel, with_estimates: bool = True):
        self.model = model
        self.with_estimates = with_estimates
        self.n_model = model.layout.size
        self.shapes = [(layer.size, layer.fan_in) for layer in model.spec.network.layers]
        per = sum(n * m for n, m in self.shapes)
        self.size = self.n_model + 1 + (2 * per if with_estimates else 0)

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        m = self.model
        ev = m.evaluate(t, y[: self.n_model])
        dy = np.empty_like(y)
        dy[: self.n_model] = m.assemble(ev.x, learning=False)
        dy[self.n_model] = output_loss(ev.target, ev.r[-1], m.beta)
        if self.with_estimates:
            _, e_inst = m.backward(ev.r, ev.rp, ev.v, ev.W, ev.target, mode="instantaneous")
            pos = self.n_model + 1
            for errors in (ev.e, e_inst):
                r_prev = ev.x
                for i, e in enumerate(errors):
                    block = np.outer(e, r_prev).ravel()
                    dy[pos : pos + block.size] = block
                    pos += block.size
                    r_prev = ev.r[i]
        return dy

    def unpack(self, y_end: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        loss = float(y_end[self.n_model])
        pos = self.n_model + 1
        out = []
        for _ in range(2):
            mats = []
            for n, mm in self.shapes:
                mats.append(y_end[pos : pos + n * mm].reshape(n, mm).copy())
                pos += n * mm
            out.append(mats)
        return loss, out[0], out[1]


def forward_loss(spec: Spec, *, rtol: float = RTOL) -> float:
    """𝓛 = ∫ ½ β ‖target − r_L‖² dt of the forward network (γ = 0), by adaptive quadrature."""
    model = ContinuousModel(spec)
    acc = _Accumulators(model, with_estimates=False)
    y0 = np.concatenate([model.initial_state(), [0.0]])
    sol = solve_ivp(acc.rhs, (0.0, spec.time.duration), y0, method="DOP853", rtol=rtol, atol=rtol / 100)
    if not sol.success:
        raise IntegrationError(f"forward integration failed: {sol.message}")
    return float(sol.y[-1, -1])


def compute_gradients(spec: Spec, *, rtol: float = RTOL) -> Gradients:
    """Exact (adjoint), local (GLE) and instantaneous weight gradients of every layer."""
    if not spec.has_target:
        raise SpecError("gradients need a [teacher] or [target] to define the loss", key="teacher", source=spec.source)
    fspec, note = forward_network(spec)
    model = ContinuousModel(fspec)
    acc = _Accumulators(model)
    T = fspec.time.duration
    y0 = np.zeros(acc.size)
    y0[: acc.n_model] = model.initial_state()
    fwd = solve_ivp(acc.rhs, (0.0, T), y0, method="DOP853", rtol=rtol, atol=rtol / 100, dense_output=True)
    if not fwd.success:
        raise IntegrationError(f"forward integration failed: {fwd.message}")
    loss, local, inst = acc.unpack(fwd.y[:, -1])
    exact = _adjoint(model, fwd.sol, acc.n_model, T, rtol)
    layers = {
        f"layer{i}": LayerGradients(exact=exact[i - 1], local=local[i - 1], instantaneous=inst[i - 1])
        for i in range(1, len(fspec.network.layers) + 1)
    }
    return Gradients(loss=loss, duration=T, layers=layers, note=note)


def _adjoint(model: ContinuousModel, dense, n_model: int, T: float, rtol: float) -> list[np.ndarray]:
    """Integrate w (τm ẇ = w − δ) and the gradient accumulators backward from T to 0."""
    layers = model.spec.network.layers
    sizes = [layer.size for layer in layers]
    shapes = [(layer.size, layer.fan_in) for layer in layers]
    mixes = [lead_lag(layer.tau_r, layer.tau_m) for layer in layers]  # λ = (1 − τr/τm) w + (τr/τm) δ
    n_w = sum(sizes)

    def rhs(t, z):
        ev = model.evaluate(t, dense(t)[:n_model])
        w = np.split(z[:n_w], np.cumsum(sizes)[:-1])
        dz = np.empty_like(z)
        delta = model.beta * ev.rp[-1] * (ev.target - ev.r[-1])
        lambdas = [None] * len(layers)
        dw = [None] * len(layers)
        for i in range(len(layers) - 1, -1, -1):
            k_w, k_delta = mixes[i]
            lambdas[i] = k_w * w[i] + k_delta * delta
            dw[i] = -leaky_rate(delta, w[i], layers[i].tau_m)
            if i > 0:
                delta = ev.rp[i - 1] * (ev.W[i].T @ lambdas[i])
        dz[:n_w] = np.concatenate(dw)
        pos = n_w
        r_prev = ev.x
        for i, lam in enumerate(lambdas):
            block = -np.outer(lam, r_prev).ravel()  # backward in time: G(0) = ∫ λ rᵀ dt
            dz[pos : pos + block.size] = block
            pos += block.size
            r_prev = ev.r[i]
        return dz

    z0 = np.zeros(n_w + sum(n * m for n, m in shapes))
    back = solve_ivp(rhs, (T, 0.0), z0, method="DOP853", rtol=rtol, atol=rtol / 100)
    if not back.success:
        raise IntegrationError(f"adjoint integration failed: {back.message}")
    z = back.y[:, -1]
    out, pos = [], n_w
    for n, m in shapes:
        out.append(z[pos : pos + n * m].reshape(n, m).copy())
        pos += n * m
    return out


def alignment_versus_ratio(spec: Spec, ratios, *, rtol: float = 1e-8) -> dict[str, np.ndarray]:
    """Cosine and norm ratio of local vs exact gradient when every student neuron has τr = ratio·τm."""
    out: dict[str, list] = {"ratio": list(ratios)}
    for ratio in ratios:
        g = compute_gradients(with_ratio(spec, ratio), rtol=rtol)
        for name, lg in g.layers.items():
            d = lg.as_dict()
            for key in ("cosine", "norm_ratio", "cosine_instantaneous"):
                out.setdefault(f"{name}/{key}", []).append(np.nan if d[key] is None else d[key])
    return {k: np.asarray(v) for k, v in out.items()}
