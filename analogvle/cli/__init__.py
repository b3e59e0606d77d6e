"""The ``analogvle`` command line (also ``python -m analogvle``): the parser, exit codes and crash logs.

Each handler parses its options, calls the public API and prints where the
results went; choices come from the registries. Exit codes: 0 success (and,
for compare/run, within tolerance), 1 outside tolerance, 2 bad input (one
line naming the file, key or option), 3 the simulator or integrator failed,
4 an internal error (one line naming a crash log with the traceback), 130
after Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import traceback
from pathlib import Path

from analogvle.cli import hardware, pipeline, studies, training
from analogvle.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, AnalogvleError
from analogvle.version import __version__

#: the modules that define sub-commands, in the order ``--help`` lists them
COMMAND_MODULES = (pipeline, studies, training, hardware)


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (not the usage block) on bad options."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    """The parser and command name → handler."""
    parser = _Parser(prog="analogvle", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"analogvle {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    handlers = {}
    for module in COMMAND_MODULES:
        handlers.update(module.add_commands(sub))
    return parser, handlers


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (argparse's own 0/2 for --help, --version and bad options)."""
    try:
        parser, handlers = build_parser()
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return int(handlers[args.command](args) or 0)
    except AnalogvleError as exc:
        print(f"analogvle {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"analogvle {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - a bug: one line and a crash log, never a bare traceback
        log = write_crash_log(args.command, argv)
        print(f"analogvle {args.command}: internal error (a bug), {type(exc).__name__}: {_first_line(exc)}; "
              f"traceback in {log}", file=sys.stderr)
        return EXIT_INTERNAL


def write_crash_log(command: str, argv: list[str] | None) -> Path:
    """The current exception's traceback, the command line and versions, in a new file; returns its path."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    fd, name = tempfile.mkstemp(prefix=f"analogvle-crash-{stamp}-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"analogvle {__version__}, python {sys.version.split()[0]}\n")
        f.write(f"command: analogvle {' '.join(sys.argv[1:] if argv is None else argv)}\n\n")
        f.write(traceback.format_exc())
    return Path(name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "(no message)"
