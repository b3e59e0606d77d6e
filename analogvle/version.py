"""The package version (one place; pyproject.toml reads it too) and a digest of the package's own source."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

__version__ = "0.1.0"

PACKAGE = Path(__file__).resolve().parent


@cache
def source_digest(root: Path = PACKAGE) -> str:
    """SHA-256 (16 hex digits) of every ``*.py`` and ``*.json`` file under ``root``, paths included: a result made by
    other code (a cell, a calibration, an equation changed without a version bump) has another digest."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".json") and p.is_file()):
        h.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
