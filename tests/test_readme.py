"""The README's code runs as written, and the examples run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_the_python_api_example_builds_lagnet_and_passes(tmp_path, capsys):
    code = readme_block("Python API")
    assert "load_spec" not in code and ".toml\")" not in code.split("dump_spec")[0]  # built without TOML
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own code
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out.splitlines()
    passed, worst, signal = out[0].split()
    assert passed == "True" and float(worst) < 1e-3
    assert (tmp_path / "lagnet_python.toml").exists()
    # the README shows the printed numbers: they are the ones the code prints, to two digits
    shown = re.search(r"# True ([0-9.e-]+) (\S+)", code)
    assert float(shown.group(1)) == pytest.approx(float(worst), rel=0.05) and shown.group(2) == signal


@pytest.mark.parametrize("script,args", [
    ("build_lagnet.py", ["30"]),
    ("realizations_side_by_side.py", ["sims/lagnet.toml", "20"]),
    ("sweep_mismatch.py", ["1", "{tmp}/sweep"]),
])
def test_examples_run(script, args, tmp_path):
    args = [a.format(tmp=tmp_path) for a in args]
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    if script == "build_lagnet.py":
        assert proc.stdout.splitlines()[1].startswith("PASS")
    elif script == "realizations_side_by_side.py":
        rows = proc.stdout.splitlines()[1:]
        assert [r.split()[0] for r in rows] == ["ideal", "passive"]
        assert all(float(r.split()[6]) < 1e-3 for r in rows)
    else:
        assert proc.stdout.count(" ok") == 2


def readme_section(heading: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1]
    return section.split("\n## ", 1)[0]


def test_the_command_table_lists_every_command_with_exactly_its_options():
    from analogvle.cli import build_parser

    table = readme_section("Command line")
    rows = {re.match(r"\| `analogvle (\w+)", line).group(1): line for line in table.splitlines()
            if line.startswith("| `analogvle ")}
    commands = build_parser()[0]._subparsers._group_actions[0].choices
    assert set(rows) == set(commands)
    for name, parser in commands.items():
        usage = re.match(r"\| `(.*?)` \|", rows[name]).group(1)
        shown = set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", usage))
        actions = [a for a in parser._actions if a.option_strings and "--help" not in a.option_strings]
        missing = [a.option_strings for a in actions if not shown & set(a.option_strings)]
        unknown = shown - {o for a in actions for o in a.option_strings}
        assert not missing and not unknown, (name, missing, unknown)


def test_the_exit_codes_are_the_ones_the_package_uses():
    from analogvle import errors

    codes = {errors.EXIT_OUTSIDE_TOLERANCE, errors.EXIT_BAD_INPUT, errors.EXIT_SIMULATOR, errors.EXIT_INTERNAL,
             errors.EXIT_INTERRUPTED, 0}
    listed = {int(c) for c in re.findall(r"^- `(\d+)`", readme_section("Command line"), re.MULTILINE)}
    assert listed == codes


def test_the_spec_key_table_is_the_schema():
    from analogvle.model.toml import SCHEMA

    rows = {}
    for line in readme_section("The spec").splitlines():
        match = re.match(r"\| (top level|`\[\[?[a-z.]+\]\]?`) \| (.*) \|$", line)
        if match:
            table = "" if match.group(1) == "top level" else match.group(1).strip("`[]")
            rows[table] = set(re.findall(r"`([a-z_]+)`", match.group(2)))
    for table, keys in SCHEMA.items():
        assert table in rows, table
        values = {"sines", "square", "file"}  # the values of kind, shown in parentheses
        assert rows[table] - values == set(keys), (table, rows[table] ^ set(keys))
