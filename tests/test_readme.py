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
