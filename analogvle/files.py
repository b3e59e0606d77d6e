"""Writing outputs safely: atomic files, so that an interrupted command never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from analogvle.errors import OutputError


def write_atomic(path: str | Path, write: Callable[[IO], object], mode: str = "wb") -> Path:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it into place; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it private; outputs are not
        os.replace(tmp, path)
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
