"""MNIST-1D training with the batched gle-euler kernel: full runs per seed, and the cost of one batch step.

    .venv/bin/python benchmarks/bench_train.py --seeds 42 43 44 --epochs 150          # the paper runs (Adam)
    .venv/bin/python benchmarks/bench_train.py --seeds 42 --epochs 20 --optimizer sgd --lr 0.01   # plain SGD
    .venv/bin/python benchmarks/bench_train.py --step-timing                          # ms per batch step
    .venv/bin/python benchmarks/bench_train.py --seeds 42 --epochs 3 --match runs/adam_s42.npz   # same curve?

Single-threaded (the variables below are set before NumPy and numba load). On
an AVX-512 host, numba is told to use 512-bit vectors (``--vectors 256``
keeps LLVM's default) as the scratch engine these runs were first made with
did; fast-math row sums then add in the same order, so a seed reproduces
those runs' curves exactly. Writes benchmarks/out/train_<optimizer>_s<seed>.npz
(the trained.npz format) and prints one summary line per run.
"""

from __future__ import annotations

import os
import sys

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"


def _vectors(argv: list[str]) -> None:
    """512-bit vectors for numba on AVX-512 hosts unless ``--vectors 256`` (must run before numba loads)."""
    if "--vectors" in argv and argv[argv.index("--vectors") + 1] == "256":
        return
    import llvmlite.binding as ll

    features = ll.get_host_cpu_features().flatten()
    if "+avx512f" in features:
        os.environ["NUMBA_CPU_NAME"] = ll.get_host_cpu_name()
        os.environ["NUMBA_CPU_FEATURES"] = features + ",-prefer-256-bit"


_vectors(sys.argv)

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from analogvle.integrate.batched import network as bn
from analogvle.integrate.batched.kernel import run_steps
from analogvle.integrate.batched.trained_file import load_curve, save_trained
from analogvle.integrate.batched.training import net_from_spec, task_samples, train
from analogvle.model.datasets import batch_input, batch_target
from analogvle.model.toml import load_spec

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"


def step_timing(spec, rounds: int, batches: int) -> None:
    """CPU time per batch step (batch_size samples, learning on), best and median of ``rounds``."""
    net = net_from_spec(spec)
    packed = bn.pack(net)
    train_cfg = spec.task.train
    x, y, _, _ = task_samples(spec)
    B = train_cfg.batch_size
    opt = bn.make_optimizer(train_cfg.optimizer, len(packed.theta), train_cfg.lr * spec.time.dt)
    state, ws = bn.zero_state(packed, B), bn.make_workspace(packed, B)
    xs = [batch_input(x, np.arange(i * B, (i + 1) * B)) for i in range(batches)]
    ys = [batch_target(y, np.arange(i * B, (i + 1) * B), 10) for i in range(batches)]
    run_steps(packed, state, opt, ws, xs[0][:5], ys[0], learn=True)  # compile
    per_step = []
    for _ in range(rounds):
        t0 = time.process_time()
        for xb, yb in zip(xs, ys):
            run_steps(packed, state, opt, ws, xb, yb, learn=True)
        per_step.append((time.process_time() - t0) / (batches * xs[0].shape[0]) * 1e3)
    ev_state = bn.zero_state(packed, 1000)
    ev_ws = bn.make_workspace(packed, 1000)
    xt = batch_input(np.resize(x, (1000, x.shape[1])), np.arange(1000))
    yt = batch_target(np.resize(y, 1000), np.arange(1000), 10)
    ev = []
    for _ in range(max(3, rounds // 3)):
        t0 = time.process_time()
        run_steps(packed, ev_state, None, ev_ws, xt, yt, learn=False, errors=False, inject=False)
        ev.append(time.process_time() - t0)
    print(f"batch step ({B} samples, {train_cfg.optimizer}, learning): best {min(per_step):.3f} ms, "
          f"median {np.median(per_step):.3f} ms (CPU time, {rounds} rounds of {batches} batches)")
    print(f"test pass (1000 samples x {x.shape[1]} steps, forward only): best {min(ev):.3f} s, "
          f"median {np.median(ev):.3f} s")
    epoch = min(per_step) * 1e-3 * len(x) / B * x.shape[1]
    print(f"projected: {epoch:.2f} s per epoch of training + {min(ev):.2f} s test = "
          f"{(epoch + min(ev)) * train_cfg.epochs / 60:.1f} min for {train_cfg.epochs} epochs")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default=str(ROOT / "sims" / "mnist1d.toml"))
    p.add_argument("--seeds", type=int, nargs="+", default=[42])
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--optimizer", choices=("sgd", "momentum", "adam"), default=None)
    p.add_argument("--lr", type=float, default=None, help="per model time unit (the step rate is lr x dt)")
    p.add_argument("--schedule", choices=("plateau", "none"), default=None)
    p.add_argument("--match", default=None, metavar="NPZ", help="compare the test curve with an earlier run's")
    p.add_argument("--step-timing", action="store_true")
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--vectors", choices=("256", "512"), default="512")
    args = p.parse_args()
    spec = load_spec(args.spec)
    if args.step_timing:
        step_timing(spec, args.rounds, batches=5)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        changes = {"seed": seed} | {k: v for k, v in (("optimizer", args.optimizer), ("lr", args.lr),
                                                      ("schedule", args.schedule)) if v is not None}
        task = dataclasses.replace(spec.task, train=dataclasses.replace(spec.task.train, **changes))
        run_spec = dataclasses.replace(spec, task=task)
        result = train(run_spec, epochs=args.epochs, log=lambda line: print(line, flush=True))
        c = result.curve
        path = save_trained(OUT / f"train_{task.train.optimizer}_s{seed}.npz", run_spec, result)
        n = len(c["epoch"]) - 1
        print(f"seed {seed} {task.train.optimizer}: final test {c['test_acc'][-1]:.2f} % (best "
              f"{np.max(c['test_acc']):.2f} % at epoch {int(np.argmax(c['test_acc']))}), online train "
              f"{c['train_acc'][-1]:.2f} %, run {result.wall_time:.0f} s = {result.wall_time / max(n, 1):.2f} s per "
              f"epoch (train min {np.min(c['wall_train'][1:]):.2f} s, test pass min {np.min(c['wall_test'][1:]):.2f} s)"
              f" -> {path}", flush=True)
        if args.match:
            old = load_curve(args.match)
            k = min(len(old["test_acc"]), len(c["test_acc"]))
            diff = np.max(np.abs(old["test_acc"][:k] - c["test_acc"][:k]))
            loss = np.max(np.abs(old["test_loss"][:k] - c["test_loss"][:k]))
            print(f"match {args.match}: epochs 0..{k - 1}: test accuracy {c['test_acc'][:k].tolist()} vs "
                  f"{old['test_acc'][:k].tolist()}; max |diff| accuracy {diff:.3g} points, test loss {loss:.3g}")


if __name__ == "__main__":
    main()
