"""Trajectory files: round trip, atomic writes, clear errors for files that are not trajectories."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from analogvle.errors import TrajectoryError
from analogvle.files import current_umask, write_atomic
from analogvle.model.trajectory import Trajectory, load_trajectory, save_trajectory


def test_round_trip_keeps_names_shapes_and_meta(tmp_path):
    t = np.linspace(0, 1, 11)
    traj = Trajectory(t=t, signals={"x": t[:, None], "layer1/W": np.ones((11, 2, 3))}, meta={"a": np.float64(1.5)})
    path = save_trajectory(tmp_path / "a.npz", traj)
    back = load_trajectory(path)
    np.testing.assert_array_equal(back.t, t)
    assert back["layer1/W"].shape == (11, 2, 3)
    assert back.meta == {"a": 1.5}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~current_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]


@pytest.mark.parametrize("content", [b"hello, not an archive\n", b"\x89PNG\r\n\x1a\n" + bytes(100)])
def test_files_that_are_not_trajectories_get_one_line(tmp_path, content):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(TrajectoryError) as info:
        load_trajectory(path)
    assert "not a trajectory file" in str(info.value) and "\n" not in str(info.value)


def test_length_mismatch_is_named(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, t=np.arange(5.0), x=np.zeros(4))
    with pytest.raises(TrajectoryError, match="signal 'x' has"):
        load_trajectory(path)


def test_failed_write_leaves_nothing(tmp_path):
    def boom(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(tmp_path / "out.bin", boom)
    assert list(tmp_path.iterdir()) == []


def test_cli_output_that_is_a_directory_exits_2_with_one_line(tmp_path, capsys):
    from pathlib import Path

    from analogvle.cli import main

    spec = Path(__file__).resolve().parent.parent / "sims" / "lagnet.toml"
    assert main(["netlist", str(spec), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a directory" in err and str(tmp_path) in err and "Traceback" not in err
    leftovers = [p for p in tmp_path.parent.iterdir() if p.name.startswith(f".{tmp_path.name}.")]
    assert leftovers == []  # the temporary file beside the target is gone too
