"""TOML ⇄ Spec, and nothing else.

:func:`load_spec` reads a spec file (the format of INTERFACES.md) into a
:class:`~analogvle.model.spec.Spec`; :func:`dump_spec` writes one back, exactly
(``load_spec(dump_spec(s)) == s``). The reader checks the shape of the file —
unknown keys (a typo must not fall back to a default), missing keys, tables
where values belong — and converts TOML conventions (``init = "normal"``,
one-based ``--set`` indexes) into constructor arguments; every value check is
the dataclasses' own, so a Spec built in Python gets the same messages.
Errors read ``file: dotted.key: what was expected``.
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from analogvle.errors import LimitError, SpecError
from analogvle.model import checks as c
from analogvle.model.budget import available_memory
from analogvle.model.checks import nested
from analogvle.model.network import LayerSpec, NetworkSpec
from analogvle.model.settings import CircuitSpec, CompareSpec, SimulatorSpec
from analogvle.model.spec import Spec, TimeSpec
from analogvle.model.stimulus import InputSpec, TargetSpec
from analogvle.model.task import TaskSpec, TrainSpec

#: TOML keys of each table (the schema; README and tests read it)
INPUT_KEYS = {"sines": ("kind", "omegas", "amplitudes", "phases"),
              "square": ("kind", "period", "amplitudes", "smooth_sigma"),
              "file": ("kind", "path")}
LAYER_INIT_KEYS = ("init", "seed", "scale")
SCHEMA: dict[str, tuple[str, ...]] = {
    "": ("name", "time", "input", "network", "teacher", "target", "circuit", "simulator", "compare", "task"),
    "time": tuple(f.name for f in fields(TimeSpec)),
    "input": tuple(dict.fromkeys(k for keys in INPUT_KEYS.values() for k in keys)),
    "network": ("inputs", "errors", "beta", "layer"),
    "network.layer": tuple(f.name for f in fields(LayerSpec)) + LAYER_INIT_KEYS,
    "teacher": ("layer",),
    "teacher.layer": tuple(f.name for f in fields(LayerSpec) if f.name not in ("plastic", "eta", "learn_bias"))
    + LAYER_INIT_KEYS,
    "target": ("kind", "path"),
    "circuit": tuple(f.name for f in fields(CircuitSpec)),
    "simulator": tuple(f.name for f in fields(SimulatorSpec)),
    "compare": tuple(f.name for f in fields(CompareSpec)),
    "task": tuple(f.name for f in fields(TaskSpec)),
    "task.train": tuple(f.name for f in fields(TrainSpec)),
}


# ----------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------


def load_spec(path: str | Path, overrides: dict[str, Any] | None = None) -> Spec:
    """Read and validate a spec file; ``overrides`` maps dotted keys (``network.layer.1.eta``) to values."""
    path = Path(path)
    if not path.is_file():
        raise SpecError("spec file not found", source=str(path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"not valid TOML: {exc}", source=str(path)) from exc
    except (UnicodeDecodeError, OSError) as exc:
        raise SpecError(f"not a readable text file ({exc})", source=str(path)) from exc
    return spec_from_dict(raw, source=str(path), base_dir=path.parent, overrides=overrides)


def spec_from_dict(raw: dict, *, source: str = "<dict>", base_dir: str | Path = ".",
                   overrides: dict[str, Any] | None = None) -> Spec:
    """A Spec from a TOML-shaped dict (as :func:`spec_to_dict` makes); file paths relative to ``base_dir``."""
    raw = copy.deepcopy(raw)
    try:
        for key, value in (overrides or {}).items():
            set_dotted(raw, key, value)
        return _Reader(Path(base_dir)).spec(raw, source)
    except SpecError as exc:
        raise (exc.at(source) if not exc.source else exc) from None


def with_overrides(spec: Spec, overrides: dict[str, Any]) -> Spec:
    """``spec`` with dotted-key overrides applied (through its TOML form, so every check runs)."""
    return spec_from_dict(spec_to_dict(spec), source=spec.source, overrides=overrides)


def set_dotted(raw: dict, key: str, value: Any) -> None:
    """Set ``a.b.c`` in a raw spec; array elements are counted from 1 (``network.layer.2.eta``)."""
    parts = key.split(".")
    node: Any = raw
    for depth, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            node = node[_list_index(node, part, key)]
        else:
            if part not in node:
                node[part] = [] if parts[depth + 1].isdigit() else {}
            node = node[part]
        if not isinstance(node, (dict, list)):
            where = ".".join(parts[: depth + 1])
            raise SpecError(f"{where} is a {type(node).__name__} value, not a table or array", key=key)
    if isinstance(node, list):
        node[_list_index(node, parts[-1], key)] = value
    else:
        node[parts[-1]] = value


def _list_index(node: list, part: str, key: str) -> int:
    if not part.isdigit() or not 1 <= int(part) <= len(node):
        raise SpecError(f"index {part!r} must be 1..{len(node)}", key=key)
    return int(part) - 1


class _Reader:
    """Walks a raw dict: table shapes here, values in the dataclasses."""

    def __init__(self, base_dir: Path):
        self.base_dir = base_dir

    def spec(self, raw: dict, source: str) -> Spec:
        top = check_table(raw, "", SCHEMA[""], ("name", "time", "network") + (() if "task" in raw else ("input",)))
        time_kw = check_table(top["time"], "time", SCHEMA["time"], ("dt", "duration"))
        time = nested("time", lambda: TimeSpec(**time_kw))
        network = nested("network", lambda: self.network(top["network"]))
        teacher = self.teacher(top["teacher"], network.inputs) if "teacher" in top else None
        target = self.target(top["target"]) if "target" in top else None
        inp = self.input(top["input"], network.inputs) if "input" in top else None
        task = self.task(top["task"]) if "task" in top else None
        settings = {}
        for name, kind in (("circuit", CircuitSpec), ("simulator", SimulatorSpec), ("compare", CompareSpec)):
            kw = check_table(top.get(name, {}), name, SCHEMA[name])
            settings[name] = nested(name, lambda kind=kind, kw=kw: kind(**kw))
        return Spec(name=top["name"], time=time, input=inp, network=network, teacher=teacher, target=target,
                    task=task, source=source, **settings)

    @staticmethod
    def task(raw: Any) -> TaskSpec:
        t = dict(check_table(raw, "task", SCHEMA["task"]))
        train_kw = check_table(t.pop("train", {}), "task.train", SCHEMA["task.train"])
        train = nested("task.train", lambda: TrainSpec(**train_kw))
        return nested("task", lambda: TaskSpec(train=train, **t))

    def target(self, raw: Any) -> TargetSpec:
        t = check_table(raw, "target", SCHEMA["target"], ("kind", "path"))
        nested("target", lambda: c.choice(t["kind"], "kind", ("file",)))
        return nested("target", lambda: TargetSpec(path=self.path(t["path"])))

    def path(self, value: Any) -> Path:
        rel = Path(c.string(value, "path"))
        return rel if rel.is_absolute() else self.base_dir / rel

    def input(self, raw: Any, channels: int) -> InputSpec:
        t = check_table(raw, "input", SCHEMA["input"], ("kind",))
        kind = nested("input", lambda: c.choice(t["kind"], "kind", tuple(INPUT_KEYS)))
        t = check_table(raw, "input", INPUT_KEYS[kind], {"sines": ("omegas",), "square": ("period",),
                                                          "file": ("path",)}[kind])
        kw = {k: v for k, v in t.items() if k != "kind"}
        if kind == "square" and "amplitudes" in kw:
            kw["amplitude"] = kw.pop("amplitudes")
        if kind == "file":
            kw["path"] = nested("input", lambda: self.path(kw["path"]))
        return nested("input", lambda: InputSpec(kind=kind, channels=channels, **kw))

    def network(self, raw: Any) -> NetworkSpec:
        t = check_table(raw, "", SCHEMA["network"], ("inputs", "layer"))
        inputs = c.integer(t["inputs"], "inputs", minimum=1)
        layers = self.layers(t["layer"], "layer", inputs, teacher=False)
        return NetworkSpec(inputs=inputs, layers=layers, errors=t.get("errors", "prospective"),
                           beta=t.get("beta", 1.0))

    def teacher(self, raw: Any, inputs: int) -> NetworkSpec:
        t = check_table(raw, "teacher", SCHEMA["teacher"], ("layer",))
        layers = nested("teacher", lambda: self.layers(t["layer"], "layer", inputs, teacher=True))
        return nested("teacher", lambda: NetworkSpec(inputs=inputs, layers=layers, errors="none"))

    def layers(self, raw: Any, key: str, inputs: int, *, teacher: bool) -> tuple[LayerSpec, ...]:
        if not isinstance(raw, list) or not raw:
            raise c.fail(key, "expected at least one [[layer]] table")
        allowed = SCHEMA["teacher.layer" if teacher else "network.layer"]
        layers, fan_in = [], inputs
        for i, item in enumerate(raw, 1):
            t = check_table(item, f"{key}.{i}", allowed, ("size", "tau_m"))
            layers.append(nested(f"{key}.{i}", lambda t=t, fan_in=fan_in: self.layer(t, fan_in)))
            fan_in = layers[-1].size
        return tuple(layers)

    @staticmethod
    def layer(t: dict, fan_in: int) -> LayerSpec:
        kw = {k: v for k, v in t.items() if k not in LAYER_INIT_KEYS}
        if "weights" in t:
            for k in LAYER_INIT_KEYS:
                if k in t:
                    raise c.fail(k, "give either weights or init, not both")
        elif "init" in t:
            size = c.integer(t["size"], "size", minimum=1)
            kw["weights"] = initial_weights(c.choice(t["init"], "init", ("normal", "zeros")), size, fan_in,
                                            seed=c.integer(t.get("seed", 0), "seed"),
                                            scale=c.number(t.get("scale", 1.0), "scale", nonneg=True))
        else:
            raise c.fail("weights", f"missing: give weights ({t['size']} × {fan_in}) or init = 'normal'")
        return LayerSpec(**kw)


def check_table(raw: Any, key: str, allowed, required=()) -> dict:
    """``raw`` as a table holding only ``allowed`` keys and every ``required`` one."""
    if not isinstance(raw, dict):
        raise c.fail(key, f"expected a table, got {c.describe(raw)}")
    prefix = f"{key}." if key else ""
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise c.fail(f"{prefix}{unknown[0]}", f"unknown key (expected one of: {', '.join(sorted(allowed))})")
    missing = [k for k in required if k not in raw]
    if missing:
        raise c.fail(f"{prefix}{missing[0]}", "missing required key")
    return raw


def initial_weights(init: str, size: int, fan_in: int, *, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """``zeros``, or ``normal``: scale · N(0, 1) / sqrt(fan_in), drawn from ``seed``; size × fan_in.

    LimitError (key ``size``) when the matrix would not fit in the memory available.
    """
    need = 8 * size * fan_in
    if need > available_memory() // 2:
        raise LimitError(f"a {size} × {fan_in} weight matrix needs {need / 1e9:.3g} GB, more than half the "
                         f"{available_memory() / 1e9:.3g} GB of memory available", key="size")
    if init == "zeros":
        return np.zeros((size, fan_in))
    return scale * np.random.default_rng(seed).standard_normal((size, fan_in)) / math.sqrt(fan_in)


# ----------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------


def dump_spec(spec: Spec, path: str | Path) -> Path:
    """Write ``spec`` as a TOML file (sampled data stays in its .npy files, named by absolute path)."""
    path = Path(path)
    path.write_text(dumps_spec(spec), encoding="utf-8")
    return path


def dumps_spec(spec: Spec) -> str:
    """The TOML text of ``spec``: :func:`load_spec` of it gives back an equal Spec."""
    return dumps(spec_to_dict(spec))


def spec_to_dict(spec: Spec) -> dict:
    """The TOML-shaped dict of ``spec``: explicit where it matters, defaults of the settings tables left out."""
    out: dict[str, Any] = {"name": spec.name, "time": _fields(spec.time, keep_all=True)}
    if spec.input is not None:
        out["input"] = _input(spec.input)
    out["network"] = _network(spec.network)
    if spec.teacher is not None:
        out["teacher"] = {"layer": [_layer(layer, teacher=True) for layer in spec.teacher.layers]}
    if spec.target is not None:
        out["target"] = {"kind": "file", "path": str(spec.target.path)}
    for name in ("circuit", "simulator", "compare"):
        table = _fields(getattr(spec, name), keep_all=False)
        if table:
            out[name] = table
    if spec.task is not None:
        task = {f.name: getattr(spec.task, f.name) for f in fields(TaskSpec) if f.name != "train"}
        out["task"] = task | {"train": _fields(spec.task.train, keep_all=True)}
    return out


def _fields(obj, *, keep_all: bool) -> dict:
    defaults = None if keep_all else type(obj)()
    out = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if value is None or (defaults is not None and c.same(value, getattr(defaults, f.name))):
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def _input(inp: InputSpec) -> dict:
    if inp.kind == "sines":
        return {"kind": "sines", "omegas": _rows(inp.omegas), "amplitudes": _rows(inp.amplitudes),
                "phases": _rows(inp.phases)}
    if inp.kind == "square":
        return {"kind": "square", "period": inp.period, "amplitudes": inp.amplitude, "smooth_sigma": inp.smooth_sigma}
    return {"kind": "file", "path": str(inp.path)}


def _rows(rows: tuple[tuple[float, ...], ...]) -> list:
    """One list for every channel when they are all the same, else one list per channel."""
    return list(rows[0]) if len(set(rows)) == 1 else [list(r) for r in rows]


def _network(net: NetworkSpec) -> dict:
    return {"inputs": net.inputs, "errors": net.errors, "beta": net.beta,
            "layer": [_layer(layer, teacher=False) for layer in net.layers]}


def _layer(layer: LayerSpec, *, teacher: bool) -> dict:
    out: dict[str, Any] = {"size": layer.size, "tau_m": _per_neuron(layer.tau_m), "tau_r": _per_neuron(layer.tau_r),
                           "phi": layer.phi, "gamma": layer.gamma, "weights": layer.weights.tolist(),
                           "bias": _per_neuron(layer.bias)}
    if not teacher:
        out.update(plastic=layer.plastic, eta=layer.eta, learn_bias=layer.learn_bias)
    return out


def _per_neuron(values: np.ndarray) -> float | list[float]:
    return float(values[0]) if np.all(values == values[0]) else values.tolist()


def dumps(table: dict) -> str:
    """TOML text of a dict of scalars, lists, tables and arrays of tables."""
    lines: list[str] = []
    _write_table(table, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _write_table(table: dict, path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not _is_table(v) and not _is_table_array(v)}
    for key, value in scalars.items():
        lines.append(f"{key} = {_value(value)}")
    for key, value in table.items():
        if _is_table(value):
            if any(not _is_table(v) and not _is_table_array(v) for v in value.values()):
                lines += ["", f"[{'.'.join([*path, key])}]"]
            _write_table(value, [*path, key], lines)
        elif _is_table_array(value):
            for item in value:
                lines += ["", f"[[{'.'.join([*path, key])}]]"]
                _write_table(item, [*path, key], lines)


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _value(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} into TOML")
