"""A network's constants as arrays for compiled kernels: the one packer, with named fields.

:func:`pack_network` turns a :class:`~analogvle.model.network.NetworkSpec` into
a :class:`PackedNetwork` (a NamedTuple numba reads by field name). Per-layer
vectors are padded to the widest layer, weights to the largest fan-in; the
coefficients come from :mod:`analogvle.model.terms`. A network that is absent
(no teacher) packs to zero layers (:func:`empty_network`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from analogvle.model.activations import ACTIVATIONS
from analogvle.model.network import NetworkSpec
from analogvle.model.terms import lead_lag

PROSPECTIVE, INSTANTANEOUS, NO_ERRORS = 0, 1, 2
ERROR_CODES = {"prospective": PROSPECTIVE, "instantaneous": INSTANTANEOUS, "none": NO_ERRORS}


class PackedNetwork(NamedTuple):
    """Constants of L layers; vectors (L, width), weights (L, width, fan); model units and time units."""

    sizes: np.ndarray  # int64 (L,): neurons n
    fans: np.ndarray  # int64 (L,): fan-in m
    codes: np.ndarray  # int64 (L,): activation code (analogvle.model.activations.activate)
    plastic: np.ndarray  # bool (L,): W learns
    learn_bias: np.ndarray  # bool (L,): b learns
    gamma: np.ndarray  # (L,): nudging γ
    eta: np.ndarray  # (L,): learning rate η per time unit
    tau_m: np.ndarray  # (L, width)
    tau_r: np.ndarray  # (L, width)
    k_u: np.ndarray  # (L, width): weight of u in ŭ, 1 − τr/τm
    k_s: np.ndarray  # (L, width): weight of the summed input in ŭ, τr/τm
    k_v: np.ndarray  # (L, width): weight of v in e, 1 − τm/τr
    k_p: np.ndarray  # (L, width): weight of r′ε in e, τm/τr
    bias: np.ndarray  # (L, width): initial (or static) bias
    W: np.ndarray  # (L, width, fan): initial (or static) weights, C order


def pack_network(net: NetworkSpec) -> PackedNetwork:
    """The kernels' view of ``net``."""
    layers = net.layers
    L, width, fan = len(layers), max(net.sizes), max(layer.fan_in for layer in layers)

    def padded(values) -> np.ndarray:
        out = np.zeros((L, width))
        for l, vec in enumerate(values):
            out[l, : len(vec)] = vec
        return out

    k_u, k_s = zip(*(lead_lag(layer.tau_r, layer.tau_m) for layer in layers))
    k_v, k_p = zip(*(lead_lag(layer.tau_m, layer.tau_r) for layer in layers))
    W = np.zeros((L, width, fan))
    for l, layer in enumerate(layers):
        W[l, : layer.size, : layer.fan_in] = layer.weights
    return PackedNetwork(
        sizes=np.array(net.sizes, dtype=np.int64),
        fans=np.array([layer.fan_in for layer in layers], dtype=np.int64),
        codes=np.array([ACTIVATIONS[layer.phi].code for layer in layers], dtype=np.int64),
        plastic=np.array([layer.plastic for layer in layers], dtype=np.bool_),
        learn_bias=np.array([layer.learns_bias for layer in layers], dtype=np.bool_),
        gamma=np.array([layer.gamma for layer in layers], dtype=np.float64),
        eta=np.array([layer.eta for layer in layers], dtype=np.float64),
        tau_m=padded([layer.tau_m for layer in layers]),
        tau_r=padded([layer.tau_r for layer in layers]),
        k_u=padded(k_u), k_s=padded(k_s), k_v=padded(k_v), k_p=padded(k_p),
        bias=padded([layer.bias for layer in layers]),
        W=W,
    )


def empty_network() -> PackedNetwork:
    """Zero layers (a network that is absent, e.g. no teacher); arrays typed like a real one."""
    z = np.zeros((0, 1))
    return PackedNetwork(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.bool_),
                         np.zeros(0, np.bool_), np.zeros(0), np.zeros(0), z, z, z, z, z, z, z, np.zeros((0, 1, 1)))
