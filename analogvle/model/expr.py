"""Structured expressions: the terms a behavioural circuit element computes, as data.

An :class:`Expr` is a small tree of node voltages (:class:`Node`), numbers,
placeholders (:class:`Var`, e.g. the argument of an activation function) and
operations. Nothing here is simulator text: a netlist writer formats the tree
in its own dialect, a circuit pass can edit a gain (a :class:`Scaled` term's
``gain`` field) without parsing anything, and :func:`evaluate` computes the
tree in NumPy so that every form can be checked against the others.

Build expressions with the operators (``2.0 * Node("x") + 1``) or the classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np


class Expr:
    """Base class; operators build trees (numbers become :class:`Num`)."""

    def __add__(self, other) -> Expr:
        return Add((self, wrap(other)))

    def __radd__(self, other) -> Expr:
        return Add((wrap(other), self))

    def __sub__(self, other) -> Expr:
        return Sub(self, wrap(other))

    def __rsub__(self, other) -> Expr:
        return Sub(wrap(other), self)

    def __mul__(self, other) -> Expr:
        return Mul((self, wrap(other)))

    def __rmul__(self, other) -> Expr:
        return Mul((wrap(other), self))

    def __truediv__(self, other) -> Expr:
        return Div(self, wrap(other))

    def __neg__(self) -> Expr:
        return Neg(self)


@dataclass(frozen=True)
class Num(Expr):
    value: float


@dataclass(frozen=True)
class Var(Expr):
    """A placeholder, replaced by :func:`substitute` (an activation's argument is ``Var("x")``)."""

    name: str


@dataclass(frozen=True)
class Node(Expr):
    """The voltage of a circuit node against ground, volts."""

    name: str


@dataclass(frozen=True)
class Call(Expr):
    """A function of the simulator's expression language: tanh, exp, ln, abs, min, max."""

    fn: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Add(Expr):
    terms: tuple[Expr, ...]


@dataclass(frozen=True)
class Sub(Expr):
    a: Expr
    b: Expr


@dataclass(frozen=True)
class Mul(Expr):
    factors: tuple[Expr, ...]


@dataclass(frozen=True)
class Div(Expr):
    a: Expr
    b: Expr


@dataclass(frozen=True)
class Neg(Expr):
    a: Expr


@dataclass(frozen=True)
class Scaled(Expr):
    """``gain · term``: the gain of a transconductor or multiplier, a field a pass may edit.

    When ``term`` is a product, the gain is its first factor: g·a·b is (g·a)·b.
    """

    gain: float
    term: Expr

    def as_product(self) -> Expr:
        """The same value as a plain tree: the gain as the first factor of a product."""
        factors = self.term.factors if isinstance(self.term, Mul) else (self.term,)
        return Mul((Num(self.gain), *factors))


def wrap(value) -> Expr:
    return value if isinstance(value, Expr) else Num(float(value))


def call(fn: str, *args) -> Call:
    return Call(fn, tuple(wrap(a) for a in args))


def product(*factors) -> Mul:
    return Mul(tuple(wrap(f) for f in factors))


def substitute(expr: Expr, mapping: Mapping[str, Expr]) -> Expr:
    """``expr`` with every :class:`Var` named in ``mapping`` replaced."""
    match expr:
        case Var(name) if name in mapping:
            return mapping[name]
        case Num() | Var() | Node():
            return expr
        case Call(fn, args):
            return Call(fn, tuple(substitute(a, mapping) for a in args))
        case Add(terms):
            return Add(tuple(substitute(t, mapping) for t in terms))
        case Mul(factors):
            return Mul(tuple(substitute(f, mapping) for f in factors))
        case Sub(a, b) | Div(a, b):
            return replace(expr, a=substitute(a, mapping), b=substitute(b, mapping))
        case Neg(a):
            return Neg(substitute(a, mapping))
        case Scaled(gain, term):
            return Scaled(gain, substitute(term, mapping))
    raise TypeError(f"not an expression: {expr!r}")


def nodes(expr: Expr) -> list[str]:
    """The node names an expression reads, in order of first appearance."""
    out: dict[str, None] = {}

    def walk(e: Expr) -> None:
        match e:
            case Node(name):
                out[name] = None
            case Call(_, args):
                for a in args:
                    walk(a)
            case Add(items) | Mul(items):
                for a in items:
                    walk(a)
            case Sub(a, b) | Div(a, b):
                walk(a)
                walk(b)
            case Neg(a) | Scaled(_, a):
                walk(a)

    walk(expr)
    return list(out)


FUNCTIONS: dict[str, Callable] = {
    "tanh": np.tanh, "exp": np.exp, "ln": np.log, "abs": np.abs, "min": np.minimum, "max": np.maximum,
}


def evaluate(expr: Expr, env: Mapping[str, np.ndarray | float]) -> np.ndarray | float:
    """The value of ``expr`` in NumPy; ``env`` maps Var and Node names to values."""
    match expr:
        case Num(value):
            return value
        case Var(name) | Node(name):
            return env[name]
        case Call(fn, args):
            return FUNCTIONS[fn](*(evaluate(a, env) for a in args))
        case Add(terms):
            out = evaluate(terms[0], env)
            for t in terms[1:]:
                out = out + evaluate(t, env)
            return out
        case Mul(factors):
            out = evaluate(factors[0], env)
            for f in factors[1:]:
                out = out * evaluate(f, env)
            return out
        case Sub(a, b):
            return evaluate(a, env) - evaluate(b, env)
        case Div(a, b):
            return evaluate(a, env) / evaluate(b, env)
        case Neg(a):
            return -evaluate(a, env)
        case Scaled():
            return evaluate(expr.as_product(), env)
    raise TypeError(f"not an expression: {expr!r}")
