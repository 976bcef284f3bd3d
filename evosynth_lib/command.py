"""``evosynth``: one command, with a subcommand for each thing the companion does.

    evosynth evolve CONFIG.yaml [--set k=v] [--runs-dir runs]      one evolution (or a profile file's seeds)
    evosynth sweep --profile quick [--only NAME ...]                 many at once, on Ray
    evosynth book --profile quick [--publish]                        execute the pages and build the book
    evosynth deploy runs/<run id> --out DIR                          deployment speed per engine
    evosynth publish CONFIG.yaml DIR                                 publish a finished run into results/
    evosynth verify PAGE|RUN [--generations k]                       re-compute a published run here and compare

``evosynth SUBCOMMAND --help`` explains each. The same commands run as ``python -m evosynth_lib <subcommand>``.
"""
from __future__ import annotations

import sys

SUBCOMMANDS = ("evolve", "sweep", "book", "deploy", "publish", "verify")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in SUBCOMMANDS:
        print(__doc__.strip())
        if argv and argv[0] not in ("-h", "--help"):
            print(f"\nerror: unknown subcommand {argv[0]!r}; choose one of {', '.join(SUBCOMMANDS)}", file=sys.stderr)
            return 2
        return 0 if argv else 2
    sub, rest = argv[0], argv[1:]
    if sub == "evolve":
        from .cli import main as run
    elif sub == "sweep":
        from .sweep_command import main as run
    elif sub == "book":
        from .book.build import main as run
    elif sub == "deploy":
        from .run.deploy import main as run
    elif sub == "publish":
        from .cli import main as evolve_main

        if len(rest) < 2 or rest[0].startswith("-") or rest[1].startswith("-"):
            print("usage: evosynth publish CONFIG.yaml DIR [--runs-dir runs] (the run is computed first if it is "
                  "not finished)", file=sys.stderr)
            return 2
        return evolve_main([rest[0], "--publish", rest[1], *rest[2:]])
    else:
        from .verify_command import main as run
    return run(rest) or 0


if __name__ == "__main__":
    sys.exit(main())
