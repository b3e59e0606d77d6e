"""Writing outputs safely: an interrupted or failed command never leaves half a file or a mixed folder.

- :func:`write_atomic`: one file, written beside its target and renamed into place;
- :func:`staged_folder`: a command's whole output folder, written into a
  temporary folder beside it and installed in one step on success (removed on
  failure or Ctrl-C). Installing replaces the outputs of an earlier analogvle
  run in that folder (named in its manifest, ``MANIFEST``) and never touches
  any other file;
- :func:`check_output_file`, :func:`check_output_dir`: is the user's path
  writable, asked before any work, answered in the user's terms.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from analogvle.errors import OutputError


def write_atomic(path: str | Path, write: Callable[[IO], object], mode: str = "wb") -> Path:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it into place; returns ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it private; outputs are not
        os.replace(tmp, path)
    except OSError as exc:  # disk full, permission changed midway: name the user's path, not the temporary
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """``text`` (UTF-8, '\\n' line ends as given) into ``path`` atomically."""
    return write_atomic(path, lambda f: f.write(text.encode("utf-8")))


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_output_file(path: str | Path) -> Path:
    """``path`` as an output file that can be written: OutputError naming it otherwise (before any work)."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a directory, expected a file name")
    parent = _existing_ancestor(path.parent)
    if not parent.is_dir():
        raise OutputError(f"{path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: no permission to write in {parent}")
    if path.exists() and not os.access(path, os.W_OK) and not os.access(path.parent, os.W_OK):
        raise OutputError(f"{path}: not writable")
    return path


def check_output_dir(path: str | Path) -> Path:
    """``path`` as an output folder that exists or can be made: OutputError naming it otherwise."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: exists and is not a directory")
    parent = _existing_ancestor(path)
    if not parent.is_dir():
        raise OutputError(f"{path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: no permission to write in {parent}")
    return path


def _existing_ancestor(path: Path) -> Path:
    """The nearest of ``path`` and its parents that exists (files included)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


MANIFEST = ".analogvle-outputs.json"  # in an output folder: the files the last analogvle command wrote there


@contextlib.contextmanager
def staged_folder(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success install its files into ``target``.

    On any exception (Ctrl-C included) the temporary folder, and any parent
    folder made for it, is removed and ``target`` is left as it was.
    """
    target = Path(target)
    check_output_dir(target)
    created = [p for p in [target.parent, *target.parent.parents] if not p.exists()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        stage.chmod(0o777 & ~current_umask())  # mkdtemp makes it private; outputs are not
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from exc
    try:
        yield stage
        install_folder(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        for p in created:  # innermost first
            with contextlib.suppress(OSError):
                p.rmdir()
        raise


def install_folder(stage: Path, target: Path) -> None:
    """Move every file of ``stage`` into ``target`` and record them in its manifest.

    A missing or empty ``target``, or one holding only an earlier run's outputs,
    is swapped whole (two renames); otherwise the files are moved one by one
    (``metrics.json`` and the manifest last) and the earlier run's other
    outputs are removed — never a file analogvle did not write there.
    """
    files = sorted(p.name for p in stage.iterdir())
    (stage / MANIFEST).write_text(json.dumps({"written_by": "analogvle", "files": files}) + "\n", encoding="utf-8")
    if not target.exists() or (target.is_dir() and not any(target.iterdir())):
        if target.exists():
            target.rmdir()
        os.rename(stage, target)
        return
    previous = previous_outputs(target)
    present = {p.name for p in target.iterdir()}
    if present <= previous | {MANIFEST}:
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
        os.rename(stage, target)
        shutil.rmtree(old, ignore_errors=True)
        return
    for name in sorted(files, key=lambda n: n == "metrics.json"):
        path = target / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(stage / name, path)
    for name in previous - set(files):
        path = target / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    os.replace(stage / MANIFEST, target / MANIFEST)
    shutil.rmtree(stage, ignore_errors=True)


def previous_outputs(folder: Path) -> set[str]:
    """The file names an earlier analogvle command recorded in ``folder``'s manifest (none without one)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(data, dict) or data.get("written_by") != "analogvle":
        return set()
    return {f for f in data.get("files", []) if isinstance(f, str) and f and "/" not in f and f not in (".", "..")}
