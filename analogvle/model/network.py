"""The network part of the spec: layers of neurons and how errors flow through them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analogvle.model import checks as c
from analogvle.model.activations import ACTIVATIONS
from analogvle.model.checks import Value

ERROR_MODES = ("prospective", "instantaneous", "none")


@dataclass(frozen=True, eq=False)
class LayerSpec(Value):
    """One layer of neurons: per-neuron time constants, weights size × fan-in, per-neuron bias.

    A plastic layer learns dW/dt = η e r_prevᵀ and, with ``learn_bias``, db/dt = η e.
    """

    size: int
    tau_m: Any
    weights: Any
    tau_r: Any = None  # default: tau_m
    phi: str = "tanh"
    gamma: float = 0.0
    bias: Any = 0.0
    plastic: bool = False
    eta: float = 0.0  # learning rate per model time unit
    learn_bias: bool = True

    def __post_init__(self) -> None:
        n = c.integer(self.size, "size", minimum=1)
        self._set("size", n)
        self._set("tau_m", c.per_neuron(self.tau_m, "tau_m", n, positive=True))
        self._set("tau_r", c.per_neuron(self.tau_m if self.tau_r is None else self.tau_r, "tau_r", n, positive=True))
        self._set("phi", c.choice(self.phi, "phi", tuple(ACTIVATIONS)))
        self._set("gamma", c.number(self.gamma, "gamma"))
        if self.weights is None:
            raise c.fail("weights", f"missing: give weights ({n} × fan-in)")
        self._set("weights", c.matrix(self.weights, "weights", n, None))
        self._set("bias", c.per_neuron(self.bias, "bias", n))
        self._set("plastic", c.boolean(self.plastic, "plastic"))
        self._set("eta", c.number(self.eta, "eta", nonneg=True))
        self._set("learn_bias", c.boolean(self.learn_bias, "learn_bias"))
        if self.plastic and self.eta == 0.0:
            raise c.fail("eta", "a plastic layer needs a positive learning rate eta")

    @property
    def fan_in(self) -> int:
        return int(self.weights.shape[1])

    @property
    def learns_bias(self) -> bool:
        """True when the bias is a plastic state (db/dt = η e)."""
        return self.plastic and self.learn_bias


@dataclass(frozen=True, eq=False)
class NetworkSpec(Value):
    """Layers bottom to top over ``inputs`` input channels; the error mode and the nudging β."""

    inputs: int
    layers: tuple[LayerSpec, ...]
    errors: str = "prospective"
    beta: float = 1.0

    def __post_init__(self) -> None:
        self._set("inputs", c.integer(self.inputs, "inputs", minimum=1))
        if not isinstance(self.layers, (list, tuple)) or not self.layers:
            raise c.fail("layer", "expected at least one layer")
        self._set("layers", tuple(self.layers))
        fan_in = self.inputs
        for i, layer in enumerate(self.layers, 1):
            if not isinstance(layer, LayerSpec):
                raise c.fail(f"layer.{i}", f"expected a LayerSpec, got {c.describe(layer)}")
            if layer.fan_in != fan_in:
                raise c.fail(f"layer.{i}.weights", f"expected {layer.size} × {fan_in} (size × fan-in), "
                                                   f"got {layer.size} × {layer.fan_in}")
            fan_in = layer.size
        self._set("errors", c.choice(self.errors, "errors", ERROR_MODES))
        self._set("beta", c.number(self.beta, "beta", nonneg=True))
        for i, layer in enumerate(self.layers, 1):
            if layer.plastic and self.errors == "none":
                raise c.fail(f"layer.{i}.plastic", "plasticity needs errors ('prospective' or 'instantaneous')")

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(layer.size for layer in self.layers)

    @property
    def has_gamma(self) -> bool:
        return any(layer.gamma != 0.0 for layer in self.layers)

    @property
    def plastic(self) -> bool:
        return any(layer.plastic for layer in self.layers)


def rest_potentials(net: NetworkSpec) -> list[np.ndarray]:
    """ŭ of every layer at rest (x = 0, steady state, no errors): ŭ1 = b1, ŭl = Wl φ(ŭl−1) + bl.

    What an offset trim must leave on each node: only the departure from it is an offset (a network
    with biases is not at ŭ = 0 when x = 0).
    """
    out, r = [], np.zeros(net.inputs)
    for layer in net.layers:
        u = np.asarray(layer.weights, dtype=float) @ r + np.asarray(layer.bias, dtype=float)
        out.append(u)
        r = np.asarray(ACTIVATIONS[layer.phi].phi(u), dtype=float)
    return out
