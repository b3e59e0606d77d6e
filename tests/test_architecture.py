"""The package's layout: stages import only earlier stages, no cycles, small modules, one place per concern."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from analogvle.registry import BACKENDS, METHODS, REALIZATIONS

PACKAGE = Path(__file__).resolve().parents[1] / "analogvle"
#: stage of each top-level module or sub-package; a module may import its own stage and earlier ones
STAGES = {
    "version": 0, "errors": 0, "formatting": 0, "files": 1, "registry": 0,
    "model": 2, "integrate": 3, "circuit": 4, "netlist": 5, "simulate": 6, "compare": 7, "report": 8,
    "workflows": 9, "cli": 10, "__main__": 11, "__init__": 11,
}
MAX_LINES = 400


def modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported analogvle module, imported at module level?) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "analogvle":
            known = modules()
            for alias in node.names:  # `from analogvle.x import y` may name a submodule y
                name = f"{node.module}.{alias.name}"
                found.append((name if name in known else node.module, id(node) in top))
        elif isinstance(node, ast.Import):
            found += [(a.name, id(node) in top) for a in node.names if a.name.split(".")[0] == "analogvle"]
    return found


def stage(module: str) -> int:
    parts = module.split(".")
    return STAGES["__init__"] if len(parts) == 1 else STAGES[parts[1]]


def graph() -> dict[str, set[str]]:
    return {name: {m for m, _ in imports(path)} - {name} for name, path in modules().items()}


def test_every_top_level_module_has_a_stage():
    assert {name.split(".")[1] for name in modules() if "." in name} <= set(STAGES)


def find_cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle of the directed graph ``edges`` (as a path that returns to its start), or []."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str]:
        for nxt in sorted(edges.get(node, ())):
            if nxt in path:
                return path[path.index(nxt):] + [nxt]
            if nxt not in done and (found := visit(nxt, path + [nxt])):
                return found
        done.add(node)
        return []

    for start in sorted(edges):
        if start not in done and (found := visit(start, [start])):
            return found
    return []


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_no_import_cycles():
    assert find_cycle(graph()) == []


def test_each_stage_imports_only_itself_and_earlier_stages():
    late = [(name, dep) for name, deps in graph().items() for dep in deps if stage(dep) > stage(name)]
    assert not late, f"imports of later stages: {late}"


def test_no_package_imports_inside_functions():
    inner = [(name, dep) for name, path in modules().items() for dep, top in imports(path) if not top]
    assert not inner, f"imports inside functions (a hidden cycle?): {inner}"


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_stay_small(name):
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name}: {lines} lines hold more than one idea"


def test_every_exception_is_declared_in_errors():
    stray = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", getattr(b, "attr", "")).endswith(("Error", "Exception")) for b in node.bases):
                stray.append(f"{name}.{node.name}")
    assert all(s.startswith("analogvle.errors.") for s in stray), stray


def test_every_command_handler_is_in_the_cli_package():
    handlers = [(name, node.name) for name, path in modules().items()
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, ast.FunctionDef) and node.name.startswith("cli_")]
    assert handlers and all(name.split(".")[:2] == ["analogvle", "cli"] for name, _ in handlers), handlers


@pytest.mark.parametrize("registry", [METHODS, REALIZATIONS, BACKENDS], ids=lambda r: r.kind)
def test_registry_entries_load_from_later_stages(registry):
    for entry in registry:
        implementation = registry.load(entry.name)
        assert callable(implementation), entry
        assert stage(entry.target.partition(":")[0]) > STAGES["model"], entry
