"""The ``sercompress`` command line.

Each subcommand lives in its own module ``sercompress.cli.<name>`` exposing
``register(subparsers)`` which adds its parser and sets ``func`` to a
``(args) -> int`` handler. Command modules must not import TensorFlow at
module level: `profile`, `check`, `report` and `compare` must start fast.

Errors in user input (:class:`SercompressError`) become one line on stderr
and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..errors import SercompressError

COMMANDS: tuple[str, ...] = (
    "info", "data", "train", "compress", "profile", "check", "run", "sweep", "report", "compare", "search",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sercompress",
        description="Hardware-aware compression and benchmarking of Light-SERNet.",
    )
    parser.add_argument("--version", action="version", version=f"sercompress {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SercompressError as e:
        print(f"sercompress {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sercompress {args.command}: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
