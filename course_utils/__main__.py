"""Command line: ``python -m course_utils run|colab|slides ...`` (see ``runner``, ``colab``, ``slides``)."""

from __future__ import annotations

import sys

USAGE = """usage: python -m course_utils COMMAND [...]

commands:
  run     run notebooks headlessly: python -m course_utils run [--mode M] [--precision P]
          [-p NAME=VALUE ...] [NOTEBOOK ...] [--inplace] [--json PATH]
  colab   rewrite the notebooks' Colab setup cells and README badges from pyproject.toml
  slides  write every notebook's slide metadata from its structure (course_utils.slides);
          python -m course_utils slides --check [NOTEBOOK ...] lists what differs, exits 1
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
    if command == "slides":
        if rest and rest[0] in {"-h", "--help"}:
            print(USAGE)
            return 0
        from .slides import main as slides_main

        try:
            return slides_main(rest)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(f"unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
