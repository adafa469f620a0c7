"""The ``chainrule`` command line: ``chainrule demo`` walks through the seeds' lessons."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from chainrule.demo import run_demo  # noqa: PLC0415

    return run_demo(out_dir=args.out, quick=args.quick, plots=not args.no_plots, seed=args.seed)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``chainrule`` command."""
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="chainrule: a transparent, fast deep-learning framework with the Keras API.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser(
        "demo",
        help="walk through the lessons: worked backprop example, gates and XOR, a trained network",
        description=(
            "Walk through chainrule's lessons offline: the worked backpropagation example "
            "number by number, the perceptron's logic gates and XOR, and a small network "
            "trained with the Keras progress output. Figures are written to a folder whose "
            "path is printed."
        ),
    )
    demo.add_argument("--out", default=None,
                      help="folder for the figures (default: a new folder chainrule-demo/ here)")
    demo.add_argument("--quick", action="store_true", help="fewer epochs, for a fast check")
    demo.add_argument("--no-plots", action="store_true", help="skip the figures")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        import chainrule  # noqa: PLC0415

        print(f"chainrule {chainrule.__version__}")
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
