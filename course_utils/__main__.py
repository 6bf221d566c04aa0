"""Command line: ``python -m course_utils run ...`` (see ``course_utils.runner``)."""

from __future__ import annotations

import sys

USAGE = """usage: python -m course_utils COMMAND [...]

commands:
  run     run notebooks headlessly: python -m course_utils run [--mode M] [--precision P]
          [-p NAME=VALUE ...] [NOTEBOOK ...] [--inplace] [--json PATH]
  colab   rewrite the notebooks' Colab setup cells and README badges from pyproject.toml
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        from .runner import main as run_main

        return run_main(rest)
    if command == "colab":
        if rest:  # e.g. --help: print the usage, never rewrite on an argument it does not know
            print(USAGE)
            return 0 if rest[0] in {"-h", "--help"} else 2
        from .colab import sync

        for path in sync():
            print(f"updated {path}")
        return 0
    print(f"unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
