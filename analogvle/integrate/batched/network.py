"""The batched network as data: layers, the kernel's flat view, state, optimizers and the plateau schedule.

Layout for the kernels (:mod:`analogvle.integrate.batched.kernel`): every state
array is (neurons, batch), C order, so the batch is the inner contiguous
dimension; layers are row ranges of one array per quantity. All weights and
biases live in one flat vector ``theta`` ([W₁ row-major, b₁, W₂, b₂, …]), which
an optimizer moves in one pass per plastic layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

PHI_CODES = {"linear": 0, "tanh": 1, "sigmoid": 2, "relu": 3, "softplus": 4}
ERROR_CODES = {"prospective": 0, "instantaneous": 1}
LOSS_CODES = {"ce": 0, "mse": 1}
OPT_CODES = {"sgd": 0, "momentum": 1, "adam": 2}

@dataclass
class Layer:
    """One weight layer: n neurons fed by m inputs (model units, time in model time units)."""

    W: np.ndarray  # (n, m)
    b: np.ndarray  # (n,)
    tau_m: np.ndarray  # (n,)
    tau_r: np.ndarray  # (n,)
    phi: str = "tanh"
    gamma: float = 0.0
    plastic: bool = True
    lr_scale: float = 1.0  # this layer's learning rate = lr_scale × the optimizer's lr (a per-layer η)
    learn_bias: bool = True  # with plastic: False learns W only

    def __post_init__(self):
        self.W = np.array(self.W, dtype=np.float64, ndmin=2)
        n = self.W.shape[0]
        self.b = np.broadcast_to(np.asarray(self.b, dtype=np.float64), (n,)).copy()
        self.tau_m = np.broadcast_to(np.asarray(self.tau_m, dtype=np.float64), (n,)).copy()
        self.tau_r = np.broadcast_to(np.asarray(self.tau_r, dtype=np.float64), (n,)).copy()
        if self.phi not in PHI_CODES:
            raise ValueError(f"phi {self.phi!r}: expected one of {sorted(PHI_CODES)}")

    @property
    def size(self) -> int:
        return self.W.shape[0]

    @property
    def fan_in(self) -> int:
        return self.W.shape[1]


@dataclass
class Net:
    """A feed-forward GLE network: layers, time step, error mode, nudging β."""

    layers: list[Layer]
    dt: float
    errors: str = "prospective"
    beta: float = 1.0

    def __post_init__(self):
        if self.errors not in ERROR_CODES:
            raise ValueError(f"errors {self.errors!r}: expected one of {sorted(ERROR_CODES)}")
        for l in range(1, len(self.layers)):
            if self.layers[l].fan_in != self.layers[l - 1].size:
                raise ValueError(f"layer {l}: fan-in {self.layers[l].fan_in} != size of layer {l - 1}")
        for l, layer in enumerate(self.layers):
            if np.any(layer.tau_m < self.dt) or np.any(layer.tau_r < self.dt):
                raise ValueError(f"layer {l}: time constants must be >= dt (explicit Euler)")

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].fan_in] + [layer.size for layer in self.layers]

    @property
    def n_params(self) -> int:
        return sum(layer.W.size + layer.b.size for layer in self.layers)


def torch_linear_init(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """W, b ~ U(−1/√m, 1/√m): the distributions of torch.nn.Linear's default init (not its RNG stream)."""
    bound = 1.0 / math.sqrt(m)
    W = rng.uniform(-bound, bound, (n, m))
    b = rng.uniform(-bound, bound, n)
    return W, b


def init_net(sizes, phis, tau_m, tau_r, *, dt, seed, errors="prospective", beta=1.0, gamma=0.0) -> Net:
    """A network with seeded PyTorch-Linear-style weights; ``tau_m[l]``/``tau_r[l]`` per layer (scalar or (n,))."""
    rng = np.random.default_rng(seed)
    layers = []
    for l in range(len(sizes) - 1):
        W, b = torch_linear_init(rng, sizes[l + 1], sizes[l])
        layers.append(Layer(W, b, tau_m[l], tau_r[l], phis[l], gamma=gamma))
    return Net(layers, dt=dt, errors=errors, beta=beta)


# ----------------------------------------------------------------------------
# Kernel view
# ----------------------------------------------------------------------------


class Packed(NamedTuple):
    """Constants and parameters of L layers as flat arrays (numba reads fields by name)."""

    sizes: np.ndarray  # int64 (L,)
    fans: np.ndarray  # int64 (L,)
    n_off: np.ndarray  # int64 (L,): first row of layer l in the neuron state arrays
    m_off: np.ndarray  # int64 (L,): first row of layer l's fan-in in ``sent``
    w_off: np.ndarray  # int64 (L,): W_l = theta[w_off : w_off + n m].reshape(n, m)
    b_off: np.ndarray  # int64 (L,): b_l = theta[b_off : b_off + n]
    codes: np.ndarray  # int64 (L,): φ code
    gamma: np.ndarray  # (L,)
    plastic: np.ndarray  # bool (L,)
    lr_scale: np.ndarray  # (L,) per-layer factor on the learning rate
    learn_bias: np.ndarray  # bool (L,): the optimizer moves b_l too
    tau_m: np.ndarray  # (N,)
    tau_r: np.ndarray  # (N,)
    theta: np.ndarray  # (P,) all weights and biases
    dt: float
    beta: float
    errors: int


def pack(net: Net) -> Packed:
    L = len(net.layers)
    sizes = np.array([layer.size for layer in net.layers], dtype=np.int64)
    fans = np.array([layer.fan_in for layer in net.layers], dtype=np.int64)
    n_off = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    m_off = np.concatenate([[0], np.cumsum(fans)[:-1]]).astype(np.int64)
    w_off, b_off, chunks, off = np.zeros(L, np.int64), np.zeros(L, np.int64), [], 0
    for l, layer in enumerate(net.layers):
        w_off[l] = off
        off += layer.W.size
        b_off[l] = off
        off += layer.b.size
        chunks += [layer.W.ravel(), layer.b]
    return Packed(
        sizes=sizes, fans=fans, n_off=n_off, m_off=m_off, w_off=w_off, b_off=b_off,
        codes=np.array([PHI_CODES[layer.phi] for layer in net.layers], dtype=np.int64),
        gamma=np.array([layer.gamma for layer in net.layers], dtype=np.float64),
        plastic=np.array([layer.plastic for layer in net.layers], dtype=np.bool_),
        lr_scale=np.array([layer.lr_scale for layer in net.layers], dtype=np.float64),
        learn_bias=np.array([layer.learn_bias for layer in net.layers], dtype=np.bool_),
        tau_m=np.concatenate([layer.tau_m for layer in net.layers]),
        tau_r=np.concatenate([layer.tau_r for layer in net.layers]),
        theta=np.concatenate(chunks).astype(np.float64),
        dt=float(net.dt), beta=float(net.beta), errors=ERROR_CODES[net.errors],
    )


def unpack(packed: Packed) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) of every layer: views into ``packed.theta``."""
    out = []
    for l in range(len(packed.sizes)):
        n, m = int(packed.sizes[l]), int(packed.fans[l])
        W = packed.theta[packed.w_off[l]: packed.w_off[l] + n * m].reshape(n, m)
        out.append((W, packed.theta[packed.b_off[l]: packed.b_off[l] + n]))
    return out


def net_from_packed(packed: Packed, template: Net) -> Net:
    """A copy of ``template`` carrying the (trained) weights of ``packed``."""
    layers = [Layer(W.copy(), b.copy(), lay.tau_m, lay.tau_r, lay.phi, lay.gamma, lay.plastic, lay.lr_scale,
                    lay.learn_bias)
              for (W, b), lay in zip(unpack(packed), template.layers)]
    return Net(layers, dt=template.dt, errors=template.errors, beta=template.beta)


class State(NamedTuple):
    """Network state, every array (rows, batch): neurons N = Σ n_l, fan-in rows M = Σ m_l."""

    u: np.ndarray  # (N, B) membrane
    v: np.ndarray  # (N, B) error-neuron state
    r: np.ndarray  # (N, B) rate φ(ŭ)
    rp: np.ndarray  # (N, B) φ′(ŭ)
    e: np.ndarray  # (N, B) the error of the last step (kept for recording / tests)
    sent: np.ndarray  # (M, B) Wᵀe sent down by each layer


def zero_state(packed: Packed, batch: int) -> State:
    N, M = int(packed.sizes.sum()), int(packed.fans.sum())
    return State(*(np.zeros((N, batch)) for _ in range(5)), np.zeros((M, batch)))


def resize_state(state: State, batch: int) -> State:
    """Change the batch size the way the public code does: repeat the columns cyclically, or keep the first ones."""
    old = state.u.shape[1]
    if batch == old:
        return state
    if batch < old:
        return State(*(np.ascontiguousarray(a[:, :batch]) for a in state))
    reps = -(-batch // old)
    return State(*(np.ascontiguousarray(np.tile(a, (1, reps))[:, :batch]) for a in state))


def zero_errors(state: State) -> None:
    """Set the error state (v, e, sent) to zero, in place."""
    state.v[:] = 0.0
    state.e[:] = 0.0
    state.sent[:] = 0.0


class Optimizer(NamedTuple):
    """Optimizer state. ``hyper`` = [lr, momentum or β₁, β₂, ε]; ``step`` counts updates (Adam's bias correction)."""

    kind: int
    hyper: np.ndarray  # (4,) float64, hyper[0] = current lr (the scheduler writes it)
    step: np.ndarray  # (1,) int64
    m: np.ndarray  # (P,) momentum buffer / Adam first moment (of −gradient = G)
    s: np.ndarray  # (P,) Adam second moment


def make_optimizer(kind: str, n_params: int, lr: float, *, momentum: float = 0.9, betas=(0.9, 0.999),
                   eps: float = 1e-8) -> Optimizer:
    """"sgd": θ += lr G;  "momentum": buf = μ buf + G, θ += lr buf (torch.optim.SGD);  "adam": torch.optim.Adam."""
    if kind not in OPT_CODES:
        raise ValueError(f"optimizer {kind!r}: expected one of {sorted(OPT_CODES)}")
    second = betas[0] if kind == "adam" else momentum
    hyper = np.array([lr, second, betas[1], eps], dtype=np.float64)
    n_m = n_params if kind != "sgd" else 0
    n_s = n_params if kind == "adam" else 0
    return Optimizer(OPT_CODES[kind], hyper, np.zeros(1, np.int64), np.zeros(n_m), np.zeros(n_s))


class Workspace(NamedTuple):
    """Scratch buffers of a kernel call (allocated once)."""

    s: np.ndarray  # (max n, B) summed input
    grad: np.ndarray  # (P,) G of this step
    top: np.ndarray  # (n_out, B) softmax scratch
    col: np.ndarray  # (2, B) per-column scratch


def make_workspace(packed: Packed, batch: int) -> Workspace:
    n_out = int(packed.sizes[-1])
    return Workspace(np.zeros((int(packed.sizes.max()), batch)), np.zeros(len(packed.theta)),
                     np.zeros((n_out, batch)), np.zeros((2, batch)))


class Plateau:
    """torch.optim.lr_scheduler.ReduceLROnPlateau(mode="min", factor, patience, threshold=1e-4 rel, cooldown=0, min_lr=0, eps=1e-8)."""

    def __init__(self, opt: Optimizer, *, factor: float = 0.5, patience: int = 2, threshold: float = 1e-4,
                 min_lr: float = 0.0, eps: float = 1e-8):
        self.opt, self.factor, self.patience, self.threshold = opt, factor, patience, threshold
        self.min_lr, self.eps = min_lr, eps
        self.best, self.bad = math.inf, 0

    @property
    def lr(self) -> float:
        return float(self.opt.hyper[0])

    def step(self, metric: float) -> float:
        if metric < self.best * (1.0 - self.threshold):
            self.best, self.bad = metric, 0
        else:
            self.bad += 1
        if self.bad > self.patience:
            new = max(self.lr * self.factor, self.min_lr)
            if self.lr - new > self.eps:
                self.opt.hyper[0] = new
            self.bad = 0
        return self.lr


def one_hot(labels: np.ndarray, n: int) -> np.ndarray:
    """(n, B) one-hot columns."""
    out = np.zeros((n, len(labels)))
    out[labels, np.arange(len(labels))] = 1.0
    return out
