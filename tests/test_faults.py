"""Every bad input and fault of the catalogue (tests/faults.py) gets its exit code and one line, never a traceback."""

from __future__ import annotations

import os
import re

import pytest
from faults import CASES, Case

from analogvle.cli import main

PROGRESS = re.compile(r"\d+%\|")  # a progress bar's line, not a message


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_fault_gets_its_exit_code_and_one_clear_line(case: Case, tmp_path, capsys, monkeypatch):
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    code = main(case.argv(tmp_path))
    err = capsys.readouterr().err.strip()
    assert code == case.expect, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if "warning" not in ln and not PROGRESS.search(ln)]
    assert len(lines) <= 1 if case.expect in (0, 1) else len(lines) == 1, err
    assert case.check(tmp_path, err), err
    assert not [p for p in tmp_path.rglob(".*.tmp")], "a temporary file was left behind"
    if case.expect == 2:
        assert not [p for p in tmp_path.iterdir() if p.name in ("o.npz", "c.npz", "n.cir", "g.json")]
    assert os.getcwd() == str(tmp_path)
