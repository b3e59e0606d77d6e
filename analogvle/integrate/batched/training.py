"""Training a spec's network on its ``[task]`` with the batched gle-euler kernel (``analogvle train``).

The loop follows the public GLE code's MNIST-1D run: a test pass before
training (epoch 0) and after every epoch; each epoch shuffles the training
samples into batches; every sample is sample_length/dt steps with one
optimizer update per step; the network state is never reset (its batch
dimension is tiled to the test batch and narrowed back, as the public code's
state handling does); the plateau schedule steps on the test loss from epoch 1
on. Test passes run forward only (errors off, then zeroed: exact for the
outputs with γ = 0, and for the carried state to ≤ 1e-14 of the public code's
decaying errors). Train loss and accuracy are online numbers (weights change
within a sample). Seeded: the same spec gives the same weights and curve.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from analogvle.errors import IntegrationError, SpecError
from analogvle.integrate.batched import network as bn
from analogvle.integrate.batched.kernel import run_steps
from analogvle.model.datasets import Dataset, batch_input, batch_target, load_dataset, predict
from analogvle.model.spec import Spec, check_fixed_step

CURVE = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "wall_train", "wall_test")


@dataclass
class TrainResult:
    """Trained (W, b) per layer, the initial ones, the curve (one entry per epoch, epoch 0 = before training)."""

    weights: list[tuple[np.ndarray, np.ndarray]]
    initial: list[tuple[np.ndarray, np.ndarray]]
    curve: dict[str, np.ndarray]
    wall_time: float  # s, the whole run including test passes
    samples: dict[str, int] = field(default_factory=dict)

    @property
    def final_accuracy(self) -> float:
        return float(self.curve["test_acc"][-1])


def check_trainable(spec: Spec) -> None:
    """SpecError naming the key unless ``spec`` has a task and a network the batched kernel runs."""
    if spec.task is None:
        raise SpecError("missing: training needs a [task] table (a dataset to learn)", key="task",
                        source=spec.source)
    for i, layer in enumerate(spec.network.layers, 1):
        if layer.phi not in bn.PHI_CODES:
            raise SpecError(f"expected one of {', '.join(map(repr, bn.PHI_CODES))} for batched training, "
                            f"got {layer.phi!r}", key=f"network.layer.{i}.phi", source=spec.source)
    check_fixed_step(spec, "gle-euler")


def net_from_spec(spec: Spec) -> bn.Net:
    """The spec's network for the kernel, with initial weights per ``[task.train] init``.

    "uniform": W, b ~ U(±1/√fan_in) (PyTorch nn.Linear's distributions, NumPy's stream), layer by layer from
    ``train.seed``; "spec": the network's own W and b. Every layer learns W and b (``learn_bias`` honoured).
    """
    check_trainable(spec)
    train = spec.task.train
    rng = np.random.default_rng(train.seed)
    layers = []
    for layer in spec.network.layers:
        if train.init == "uniform":
            bound = 1.0 / np.sqrt(layer.fan_in)
            W = rng.uniform(-bound, bound, (layer.size, layer.fan_in))
            b = rng.uniform(-bound, bound, layer.size)
        else:
            W, b = np.array(layer.weights), np.array(layer.bias)
        layers.append(bn.Layer(W, b, layer.tau_m, layer.tau_r, layer.phi, gamma=layer.gamma, plastic=True,
                               learn_bias=layer.learn_bias))
    return bn.Net(layers, dt=spec.time.dt, errors=spec.network.errors, beta=spec.network.beta)


def task_samples(spec: Spec) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, x_test, y_test) as the task's ``[task.train]`` selects them (subsets, evaluate_on)."""
    train = spec.task.train
    data: Dataset = load_dataset(spec.task, spec.time.dt)
    x, y, xt, yt = data.x, data.y, data.x_test, data.y_test
    if train.train_samples:
        x, y = x[: train.train_samples], y[: train.train_samples]
    if train.evaluate_on == "train":
        xt, yt = x, y
    if train.test_samples:
        xt, yt = xt[: train.test_samples], yt[: train.test_samples]
    return x, y, xt, yt


def evaluate_pass(packed: bn.Packed, state: bn.State, x: np.ndarray, y: np.ndarray, *, batch: int, classes: int,
                  loss: str, errors: bool = False) -> tuple[bn.State, float, float, np.ndarray]:
    """One pass over (x, y) in batches (no learning, no injected error).

    Returns (the carried state, mean loss per sample and step, accuracy in %, predicted classes).
    ``errors=False`` runs forward only and zeroes the errors after each batch.
    """
    n, steps = x.shape
    loss_sum, predicted = 0.0, np.empty(n, dtype=np.int64)
    ws = None
    for start in range(0, n, batch):
        idx = np.arange(start, min(start + batch, n))
        state = bn.resize_state(state, len(idx))
        if ws is None or ws.s.shape[1] != len(idx):
            ws = bn.make_workspace(packed, len(idx))
        out, loss_acc = run_steps(packed, state, None, ws, batch_input(x, idx), batch_target(y, idx, classes),
                                  learn=False, errors=errors, inject=False, loss=loss)
        if not errors:
            bn.zero_errors(state)
        loss_sum += loss_acc.sum() / steps
        predicted[idx] = predict(out)
    return state, loss_sum / n, 100.0 * float(np.mean(predicted == y)), predicted


def train(spec: Spec, *, progress: bool = True, log: Callable[[str], None] | None = None,
          epochs: int | None = None) -> TrainResult:
    """Train ``spec``'s network on its task; ``epochs`` overrides ``[task.train] epochs``.

    IntegrationError (exit 3) if the weights stop being finite (a learning rate too large).
    """
    net = net_from_spec(spec)
    task, train_cfg = spec.task, spec.task.train
    epochs = train_cfg.epochs if epochs is None else epochs
    x, y, xt, yt = task_samples(spec)
    steps, classes = x.shape[1], task.classes
    packed = bn.pack(net)
    initial = [(W.copy(), b.copy()) for W, b in bn.unpack(packed)]
    opt = bn.make_optimizer(train_cfg.optimizer, len(packed.theta), train_cfg.lr * spec.time.dt,
                            momentum=train_cfg.momentum)
    sched = bn.Plateau(opt, factor=train_cfg.factor, patience=train_cfg.patience) \
        if train_cfg.schedule == "plateau" else None
    rng = np.random.default_rng(train_cfg.seed)  # the shuffling stream
    batch, test_batch = train_cfg.batch_size, min(train_cfg.test_batch, len(xt))
    ws_train = bn.make_workspace(packed, batch)
    state = bn.zero_state(packed, test_batch)
    test = {"batch": test_batch, "classes": classes, "loss": task.loss}

    curve: dict[str, list[float]] = {k: [] for k in CURVE}
    start = t0 = time.perf_counter()
    state, test_loss, test_acc, _ = evaluate_pass(packed, state, xt, yt, **test)
    _add(curve, 0, np.nan, np.nan, test_loss, test_acc, opt.hyper[0], 0.0, time.perf_counter() - t0)
    bar = tqdm(total=epochs, desc=f"train {spec.name}", unit="epoch", file=sys.stderr, disable=not progress,
               dynamic_ncols=True)
    try:
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            perm = rng.permutation(len(x))
            loss_sum, correct = 0.0, 0
            for b0 in range(0, len(x), batch):
                idx = perm[b0: b0 + batch]
                state = bn.resize_state(state, len(idx))
                ws = ws_train if len(idx) == batch else bn.make_workspace(packed, len(idx))
                out, loss_acc = run_steps(packed, state, opt, ws, batch_input(x, idx), batch_target(y, idx, classes),
                                          learn=True, loss=task.loss)
                loss_sum += loss_acc.sum() / steps
                correct += int((predict(out) == y[idx]).sum())
            if not np.all(np.isfinite(packed.theta)):
                raise IntegrationError(f"training diverged in epoch {epoch}: weights are not finite "
                                       f"(learning rate {opt.hyper[0]:g} per step too large? task.train.lr)")
            t1 = time.perf_counter()
            lr_used = float(opt.hyper[0])
            state, test_loss, test_acc, _ = evaluate_pass(packed, state, xt, yt, **test)
            if sched is not None:
                sched.step(test_loss)
            t2 = time.perf_counter()
            train_loss, train_acc = loss_sum / len(x), 100.0 * correct / len(x)
            _add(curve, epoch, train_loss, train_acc, test_loss, test_acc, lr_used, t1 - t0, t2 - t1)
            bar.set_postfix_str(f"loss {train_loss:.3f} acc {train_acc:.1f}% test {test_acc:.1f}%")
            bar.update(1)
            if log is not None:
                log(f"epoch {epoch}: train loss {train_loss:.4f} acc {train_acc:.2f}% | test loss {test_loss:.4f} "
                    f"acc {test_acc:.2f}% | lr {lr_used:.2e} | {t1 - t0:.2f}+{t2 - t1:.2f} s")
    finally:
        bar.close()
    return TrainResult(weights=[(W.copy(), b.copy()) for W, b in bn.unpack(packed)], initial=initial,
                       curve={k: np.array(v) for k, v in curve.items()}, wall_time=time.perf_counter() - start,
                       samples={"train": len(x), "test": len(xt), "steps_per_sample": steps})


def _add(curve: dict[str, list[float]], *values: float) -> None:
    for key, value in zip(CURVE, values):
        curve[key].append(float(value))
