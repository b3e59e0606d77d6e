"""Validation of a raw (TOML-parsed) spec into the typed objects of :mod:`analogvle.spec`.

Every check raises :class:`~analogvle.errors.SpecError` with one line naming
the file, the dotted key and what was expected.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from analogvle.activations import ACTIVATIONS
from analogvle.errors import SpecError
from analogvle.spec import (
    BACKENDS,
    ERROR_MODES,
    INPUT_KINDS,
    REALIZATIONS,
    TRAN_METHODS,
    CircuitSpec,
    CompareSpec,
    InputSpec,
    LayerSpec,
    NetworkSpec,
    SimulatorSpec,
    Spec,
    TargetSpec,
    TimeSpec,
)


class SpecReader:
    """Walks a raw dict; every error names the file and the dotted key."""

    def __init__(self, source: str, base_dir: Path):
        self.source = source
        self.base_dir = base_dir

    # -- helpers ------------------------------------------------------------

    def fail(self, key: str, message: str) -> SpecError:
        return SpecError(f"{self.source}: {key}: {message}")

    def table(self, raw: Any, key: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(raw, dict):
            raise self.fail(key, f"expected a table, got {_describe(raw)}")
        unknown = sorted(set(raw) - allowed)
        if unknown:
            prefix = f"{key}." if key else ""
            raise self.fail(
                f"{prefix}{unknown[0]}",
                f"unknown key (expected one of: {', '.join(sorted(allowed))})",
            )
        missing = sorted(required - set(raw))
        if missing:
            prefix = f"{key}." if key else ""
            raise self.fail(f"{prefix}{missing[0]}", "missing required key")
        return raw

    def number(self, raw: Any, key: str, *, positive: bool = False, nonneg: bool = False) -> float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise self.fail(key, f"expected a number, got {_describe(raw)}")
        value = float(raw)
        if not math.isfinite(value):
            raise self.fail(key, f"expected a finite number, got {raw}")
        if positive and value <= 0:
            raise self.fail(key, f"expected a positive number, got {raw}")
        if nonneg and value < 0:
            raise self.fail(key, f"expected a non-negative number, got {raw}")
        return value

    def integer(self, raw: Any, key: str, *, minimum: int = 0) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.fail(key, f"expected an integer, got {_describe(raw)}")
        if raw < minimum:
            raise self.fail(key, f"expected an integer >= {minimum}, got {raw}")
        return raw

    def boolean(self, raw: Any, key: str) -> bool:
        if not isinstance(raw, bool):
            raise self.fail(key, f"expected true or false, got {_describe(raw)}")
        return raw

    def choice(self, raw: Any, key: str, choices: tuple[str, ...]) -> str:
        if raw not in choices:
            raise self.fail(key, f"expected one of {', '.join(map(repr, choices))}, got {raw!r}")
        return raw

    def string(self, raw: Any, key: str) -> str:
        if not isinstance(raw, str) or not raw:
            raise self.fail(key, f"expected a non-empty string, got {_describe(raw)}")
        return raw

    def per_neuron(self, raw: Any, key: str, size: int, *, positive: bool = False) -> np.ndarray:
        """A scalar (broadcast) or a list of one number per neuron."""
        if isinstance(raw, list):
            if len(raw) != size:
                raise self.fail(key, f"expected a number or a list of {size} (one per neuron), got {len(raw)}")
            values = [self.number(v, f"{key}[{i}]", positive=positive) for i, v in enumerate(raw)]
            return np.array(values, dtype=float)
        return np.full(size, self.number(raw, key, positive=positive))

    def matrix(self, raw: Any, key: str, rows: int, cols: int) -> np.ndarray:
        shape = f"{rows} × {cols} (size × fan-in)"
        if not isinstance(raw, list) or not all(isinstance(row, list) for row in raw):
            raise self.fail(key, f"expected a {shape} list of lists, got {_describe(raw)}")
        got_cols = {len(row) for row in raw}
        if len(raw) != rows or got_cols != {cols}:
            got = f"{len(raw)} × {'/'.join(map(str, sorted(got_cols))) or 0}"
            raise self.fail(key, f"expected {shape}, got {got}")
        return np.array(
            [[self.number(v, f"{key}[{i}][{j}]") for j, v in enumerate(row)] for i, row in enumerate(raw)],
            dtype=float,
        )

    def npy(self, raw: Any, key: str) -> tuple[Path, np.ndarray]:
        rel = self.string(raw, key)
        path = Path(rel) if Path(rel).is_absolute() else self.base_dir / rel
        if not path.is_file():
            raise self.fail(key, f"file not found: {path}")
        try:
            data = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise self.fail(key, f"not a .npy array file: {path} ({exc})") from exc
        if not np.issubdtype(data.dtype, np.number) or data.ndim not in (1, 2):
            raise self.fail(key, f"expected a numeric T or T×channels array in {path}, got {data.dtype} {data.shape}")
        data = np.asarray(data, dtype=float)
        if not np.all(np.isfinite(data)):
            raise self.fail(key, f"{path} holds non-finite values")
        return path, data.reshape(len(data), -1)

    # -- sections -----------------------------------------------------------

    def spec(self, raw: dict) -> Spec:
        top = self.table(
            raw,
            "",
            {"name", "time", "input", "network", "teacher", "target", "circuit", "simulator", "compare"},
            {"name", "time", "input", "network"},
        )
        name = self.string(top["name"], "name")
        if not all(c.isalnum() or c in "-_." for c in name):
            raise self.fail("name", f"expected a file-name safe name (letters, digits, - _ .), got {name!r}")
        time = self.time(top["time"])
        network = self.network(top["network"], "network", errors_allowed=True)
        inp = self.input(top["input"], network.inputs, time)
        teacher = target = None
        if "teacher" in top and "target" in top:
            raise self.fail("target", "give either [teacher] or [target], not both")
        if "teacher" in top:
            teacher = self.teacher(top["teacher"], network)
        if "target" in top:
            target = self.target(top["target"], network, time)
        if network.errors != "none" and teacher is None and target is None:
            raise self.fail(
                "network.errors",
                f"errors = {network.errors!r} needs a [teacher] or a [target]; use errors = 'none' for a forward network",
            )
        for i, layer in enumerate(network.layers, 1):
            if layer.plastic and network.errors == "none":
                raise self.fail(f"network.layer.{i}.plastic", "plasticity needs errors ('prospective' or 'instantaneous')")
        return Spec(
            name=name,
            time=time,
            input=inp,
            network=network,
            teacher=teacher,
            target=target,
            circuit=self.circuit(top.get("circuit", {})),
            simulator=self.simulator(top.get("simulator", {}), time),
            compare=self.compare(top.get("compare", {})),
            source=self.source,
            raw=raw,
        )

    def time(self, raw: Any) -> TimeSpec:
        t = self.table(raw, "time", {"dt", "duration", "save_dt", "learn_after"}, {"dt", "duration"})
        dt = self.number(t["dt"], "time.dt", positive=True)
        duration = self.number(t["duration"], "time.duration", positive=True)
        save_dt = self.number(t.get("save_dt", dt), "time.save_dt", positive=True)
        learn_after = self.number(t.get("learn_after", 0.0), "time.learn_after", nonneg=True)
        if not _is_multiple(duration, dt):
            raise self.fail("time.duration", f"expected a whole number of steps dt = {dt}, got {duration}")
        if not _is_multiple(save_dt, dt):
            raise self.fail("time.save_dt", f"expected a whole multiple of dt = {dt}, got {save_dt}")
        if not _is_multiple(duration, save_dt):
            raise self.fail("time.save_dt", f"expected duration {duration} to be a whole multiple of save_dt, got {save_dt}")
        return TimeSpec(dt=dt, duration=duration, save_dt=save_dt, learn_after=learn_after)

    def input(self, raw: Any, channels: int, time: TimeSpec) -> InputSpec:
        kind = self.choice(self.table(raw, "input", {"kind"} | _INPUT_KEYS, {"kind"})["kind"], "input.kind", INPUT_KINDS)
        if kind == "sines":
            t = self.table(raw, "input", {"kind", "omegas", "amplitudes", "phases"}, {"omegas"})
            omegas = self.channel_lists(t["omegas"], "input.omegas", channels, None)
            n_per = [len(o) for o in omegas]
            amps = self.channel_lists(t.get("amplitudes", 1.0), "input.amplitudes", channels, n_per)
            phases = self.channel_lists(t.get("phases", 0.0), "input.phases", channels, n_per)
            return InputSpec(kind, channels, omegas=omegas, amplitudes=amps, phases=phases)
        if kind == "square":
            t = self.table(raw, "input", {"kind", "period", "amplitudes", "smooth_sigma"}, {"period"})
            return InputSpec(
                kind,
                channels,
                period=self.number(t["period"], "input.period", positive=True),
                amplitude=self.number(t.get("amplitudes", 1.0), "input.amplitudes"),
                smooth_sigma=self.number(t.get("smooth_sigma", 0.0), "input.smooth_sigma", nonneg=True),
            )
        t = self.table(raw, "input", {"kind", "path"}, {"path"})
        path, data = self.npy(t["path"], "input.path")
        self.check_sampled(data, "input.path", path, channels, time)
        return InputSpec(kind, channels, path=path, data=data)

    def check_sampled(self, data: np.ndarray, key: str, path: Path, channels: int, time: TimeSpec) -> None:
        if data.shape[1] != channels:
            raise self.fail(key, f"expected {channels} channel(s) in {path}, got {data.shape[1]}")
        if len(data) < time.n_steps + 1:
            raise self.fail(
                key,
                f"expected at least {time.n_steps + 1} samples (duration/dt + 1) in {path}, got {len(data)}",
            )

    def channel_lists(
        self, raw: Any, key: str, channels: int, lengths: list[int] | None
    ) -> tuple[tuple[float, ...], ...]:
        """A number, a list (every channel), or one list per channel."""
        if isinstance(raw, list) and raw and all(isinstance(r, list) for r in raw):
            if len(raw) != channels:
                raise self.fail(key, f"expected one list per input channel ({channels}), got {len(raw)}")
            rows = [[self.number(v, f"{key}[{c}][{i}]") for i, v in enumerate(r)] for c, r in enumerate(raw)]
        elif isinstance(raw, list):
            rows = [[self.number(v, f"{key}[{i}]") for i, v in enumerate(raw)]] * channels
        elif lengths is not None:
            value = self.number(raw, key)
            rows = [[value] * n for n in lengths]
        else:
            raise self.fail(key, f"expected a list of numbers, got {_describe(raw)}")
        for c, row in enumerate(rows):
            if not row:
                raise self.fail(key, "expected at least one value")
            if lengths is not None and len(row) != lengths[c]:
                raise self.fail(key, f"expected {lengths[c]} values (one per omega), got {len(row)}")
        return tuple(tuple(r) for r in rows)

    def network(self, raw: Any, key: str, *, errors_allowed: bool) -> NetworkSpec:
        allowed = {"inputs", "errors", "beta", "layer"} if errors_allowed else {"layer"}
        t = self.table(raw, key, allowed, {"inputs", "layer"} if errors_allowed else {"layer"})
        inputs = self.integer(t["inputs"], f"{key}.inputs", minimum=1) if errors_allowed else 0
        return self.layers(t, key, inputs, errors_allowed)

    def layers(self, t: dict, key: str, inputs: int, errors_allowed: bool) -> NetworkSpec:
        raw_layers = t["layer"]
        if not isinstance(raw_layers, list) or not raw_layers:
            raise self.fail(f"{key}.layer", "expected at least one [[layer]] table")
        layers = []
        fan_in = inputs
        for i, raw_layer in enumerate(raw_layers, 1):
            layer = self.layer(raw_layer, f"{key}.layer.{i}", fan_in, allow_plastic=errors_allowed)
            layers.append(layer)
            fan_in = layer.size
        errors = "none"
        beta = 1.0
        if errors_allowed:
            errors = self.choice(t.get("errors", "prospective"), f"{key}.errors", ERROR_MODES)
            beta = self.number(t.get("beta", 1.0), f"{key}.beta", nonneg=True)
        return NetworkSpec(inputs=inputs, layers=tuple(layers), errors=errors, beta=beta)

    def layer(self, raw: Any, key: str, fan_in: int, *, allow_plastic: bool) -> LayerSpec:
        t = self.table(raw, key, _LAYER_KEYS if allow_plastic else _LAYER_KEYS - {"plastic", "eta"}, {"size"})
        size = self.integer(t["size"], f"{key}.size", minimum=1)
        if "tau_m" not in t:
            raise self.fail(f"{key}.tau_m", "missing required key")
        tau_m = self.per_neuron(t["tau_m"], f"{key}.tau_m", size, positive=True)
        tau_r = self.per_neuron(t.get("tau_r", t["tau_m"]), f"{key}.tau_r", size, positive=True)
        phi = self.choice(t.get("phi", "tanh"), f"{key}.phi", tuple(ACTIVATIONS))
        gamma = self.number(t.get("gamma", 0.0), f"{key}.gamma")
        if "weights" in t:
            for k in ("init", "seed", "scale"):
                if k in t:
                    raise self.fail(f"{key}.{k}", "give either weights or init, not both")
            weights = self.matrix(t["weights"], f"{key}.weights", size, fan_in)
        elif "init" in t:
            self.choice(t["init"], f"{key}.init", ("normal", "zeros"))
            seed = self.integer(t.get("seed", 0), f"{key}.seed")
            scale = self.number(t.get("scale", 1.0), f"{key}.scale", nonneg=True)
            if t["init"] == "zeros":
                weights = np.zeros((size, fan_in))
            else:
                weights = scale * np.random.default_rng(seed).standard_normal((size, fan_in)) / math.sqrt(fan_in)
        else:
            raise self.fail(f"{key}.weights", f"missing: give weights ({size} × {fan_in}) or init = 'normal'")
        bias = self.per_neuron(t.get("bias", 0.0), f"{key}.bias", size)
        plastic = self.boolean(t.get("plastic", False), f"{key}.plastic")
        eta = self.number(t.get("eta", 0.0), f"{key}.eta", nonneg=True)
        if plastic and eta == 0.0:
            raise self.fail(f"{key}.eta", "a plastic layer needs a positive learning rate eta")
        return LayerSpec(size, tau_m, tau_r, phi, gamma, weights, bias, plastic, eta)

    def teacher(self, raw: Any, network: NetworkSpec) -> NetworkSpec:
        t = self.table(raw, "teacher", {"layer"}, {"layer"})
        teacher = self.layers(t, "teacher", network.inputs, errors_allowed=False)
        teacher = NetworkSpec(inputs=network.inputs, layers=teacher.layers, errors="none")
        if teacher.sizes[-1] != network.sizes[-1]:
            raise self.fail(
                f"teacher.layer.{len(teacher.layers)}.size",
                f"expected the network's output size {network.sizes[-1]}, got {teacher.sizes[-1]}",
            )
        return teacher

    def target(self, raw: Any, network: NetworkSpec, time: TimeSpec) -> TargetSpec:
        t = self.table(raw, "target", {"kind", "path"}, {"kind", "path"})
        self.choice(t["kind"], "target.kind", ("file",))
        path, data = self.npy(t["path"], "target.path")
        self.check_sampled(data, "target.path", path, network.sizes[-1], time)
        return TargetSpec(path=path, data=data)

    def circuit(self, raw: Any) -> CircuitSpec:
        t = self.table(raw, "circuit", set(CircuitSpec.__dataclass_fields__))
        d = CircuitSpec()
        return CircuitSpec(
            time_scale=self.number(t.get("time_scale", d.time_scale), "circuit.time_scale", positive=True),
            v_scale=self.number(t.get("v_scale", d.v_scale), "circuit.v_scale", positive=True),
            g_unit=self.number(t.get("g_unit", d.g_unit), "circuit.g_unit", positive=True),
            c_unit=self.number(t.get("c_unit", d.c_unit), "circuit.c_unit", positive=True),
            realization=self.choice(t.get("realization", d.realization), "circuit.realization", REALIZATIONS),
            mismatch=self.number(t.get("mismatch", d.mismatch), "circuit.mismatch", nonneg=True),
            seed=self.integer(t.get("seed", d.seed), "circuit.seed"),
            leak_tau=self.optional(t, "leak_tau", positive=True),
            g_out_ratio=self.number(t.get("g_out_ratio", 0.0), "circuit.g_out_ratio", nonneg=True),
            synapse_linear_range=self.optional(t, "synapse_linear_range", positive=True),
            multiplier_offset=self.number(t.get("multiplier_offset", 0.0), "circuit.multiplier_offset"),
            weight_rail=self.optional(t, "weight_rail", positive=True),
            noise=self.number(t.get("noise", 0.0), "circuit.noise", nonneg=True),
            noise_dt=self.optional(t, "noise_dt", positive=True),
        )

    def optional(self, t: dict, key: str, *, positive: bool) -> float | None:
        """A ``[circuit]`` number that is off (None) when absent."""
        return self.number(t[key], f"circuit.{key}", positive=positive) if key in t else None

    def simulator(self, raw: Any, time: TimeSpec) -> SimulatorSpec:
        t = self.table(raw, "simulator", set(SimulatorSpec.__dataclass_fields__))
        d = SimulatorSpec()
        max_step = None
        if "max_step" in t:
            max_step = self.number(t["max_step"], "simulator.max_step", positive=True)
        return SimulatorSpec(
            backend=self.choice(t.get("backend", d.backend), "simulator.backend", BACKENDS),
            reltol=self.number(t.get("reltol", d.reltol), "simulator.reltol", positive=True),
            abstol=self.number(t.get("abstol", d.abstol), "simulator.abstol", positive=True),
            vntol=self.number(t.get("vntol", d.vntol), "simulator.vntol", positive=True),
            max_step=max_step,
            method=self.choice(t.get("method", d.method), "simulator.method", TRAN_METHODS),
        )

    def compare(self, raw: Any) -> CompareSpec:
        t = self.table(raw, "compare", {"tolerance", "signals"})
        signals = t.get("signals", list(CompareSpec().signals))
        if not isinstance(signals, list) or not signals:
            raise self.fail("compare.signals", f"expected a non-empty list of glob patterns, got {_describe(signals)}")
        return CompareSpec(
            tolerance=self.number(t.get("tolerance", 1e-3), "compare.tolerance", positive=True),
            signals=tuple(self.string(s, f"compare.signals[{i}]") for i, s in enumerate(signals)),
        )


_INPUT_KEYS = {"omegas", "amplitudes", "phases", "period", "smooth_sigma", "path"}
_LAYER_KEYS = {"size", "tau_m", "tau_r", "phi", "gamma", "weights", "init", "seed", "scale", "bias", "plastic", "eta"}



def _is_multiple(value: float, step: float) -> bool:
    ratio = value / step
    return abs(ratio - round(ratio)) < 1e-9 * max(1.0, ratio) and round(ratio) >= 1


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return f"{type(value).__name__} {value!r}"
