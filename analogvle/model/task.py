"""A dataset task instead of a teacher: ``[task]`` (what is learned and how it is read out) and ``[task.train]``
(how the batched reference trains it). INTERFACES.md, "Classification tasks".

Units: ``sample_length`` in model time units (each sample is sample_length/dt
steps, one value per step into the single input neuron); ``lr`` per model time
unit like a layer's η (the optimizer's step rate is lr·dt, as the public GLE
code scales its 5e-3 by 72/360).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analogvle.model import checks as c
from analogvle.model.checks import Value

TASK_KINDS = ("classification",)
DATASETS = ("mnist1d",)
LOSSES = ("ce", "mse")
OPTIMIZERS = ("sgd", "momentum", "adam")
SCHEDULES = ("plateau", "none")
INITS = ("uniform", "spec")
EVALUATE_ON = ("test", "train")


@dataclass(frozen=True, eq=False)
class TrainSpec(Value):
    """Batched training: epochs over shuffled batches, one optimizer update per step, a test pass per epoch.

    ``init = "uniform"``: every W and b drawn from U(±1/√fan_in) (PyTorch's nn.Linear distributions), layer by
    layer from ``seed``; ``"spec"``: start from the network's own weights and biases. ``seed`` also shuffles.
    ``train_samples``/``test_samples``: the first N of each split (0: all). ``evaluate_on = "train"`` tests on
    the training samples (a fit check for tiny runs). ``schedule = "plateau"``: the rate halves (``factor``)
    when the test loss has not improved for ``patience`` epochs (PyTorch's ReduceLROnPlateau).
    """

    epochs: int = 150
    batch_size: int = 100
    optimizer: str = "adam"
    lr: float = 5e-3
    momentum: float = 0.9
    schedule: str = "plateau"
    patience: int = 2
    factor: float = 0.5
    seed: int = 0
    init: str = "uniform"
    train_samples: int = 0
    test_samples: int = 0
    test_batch: int = 1000
    evaluate_on: str = "test"

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "test_batch"):
            self._set(name, c.integer(getattr(self, name), name, minimum=1))
        for name in ("patience", "seed", "train_samples", "test_samples"):
            self._set(name, c.integer(getattr(self, name), name))
        self._set("optimizer", c.choice(self.optimizer, "optimizer", OPTIMIZERS))
        self._set("schedule", c.choice(self.schedule, "schedule", SCHEDULES))
        self._set("init", c.choice(self.init, "init", INITS))
        self._set("evaluate_on", c.choice(self.evaluate_on, "evaluate_on", EVALUATE_ON))
        self._set("lr", c.number(self.lr, "lr", positive=True))
        self._set("momentum", c.number(self.momentum, "momentum", nonneg=True))
        self._set("factor", c.number(self.factor, "factor", positive=True))
        if self.factor >= 1.0:
            raise c.fail("factor", f"expected a factor below 1 (the rate shrinks), got {self.factor}")
        if self.momentum >= 1.0:
            raise c.fail("momentum", f"expected a momentum below 1, got {self.momentum}")


@dataclass(frozen=True, eq=False)
class TaskSpec(Value):
    """A classification task on a dataset generated offline (``mnist1d``: the ``mnist1d`` package's
    ``make_dataset`` with the GLE paper's arguments, ``dataset_seed``), 4,000 training and 1,000 test samples.

    The class is the argmax of the network's output summed over all steps of a sample (the public GLE code's
    read-out). ``loss``: "ce" (cross-entropy on a linear output; the error neurons' target error is
    β(onehot − softmax(r_L))) or "mse" (β(onehot − r_L)).
    """

    kind: str = "classification"
    dataset: str = "mnist1d"
    dataset_seed: int = 42
    sample_length: float = 72.0
    loss: str = "ce"
    train: TrainSpec = field(default_factory=TrainSpec)

    def __post_init__(self) -> None:
        self._set("kind", c.choice(self.kind, "kind", TASK_KINDS))
        self._set("dataset", c.choice(self.dataset, "dataset", DATASETS))
        self._set("dataset_seed", c.integer(self.dataset_seed, "dataset_seed"))
        self._set("sample_length", c.number(self.sample_length, "sample_length", positive=True))
        self._set("loss", c.choice(self.loss, "loss", LOSSES))
        if not isinstance(self.train, TrainSpec):
            raise c.fail("train", f"expected a TrainSpec, got {c.describe(self.train)}")

    @property
    def classes(self) -> int:
        return 10

    def steps_per_sample(self, dt: float) -> int:
        return round(self.sample_length / dt)
