"""``chainrule demo``: the seeds' lessons, run end to end, offline, in well under a minute."""

from __future__ import annotations

import os
from typing import Callable

__all__ = ["run_demo"]


def _section(title: str) -> None:
    print()
    print(title)
    print("=" * len(title))


def _worked_example() -> None:
    from chainrule.explain import format_worked_example  # noqa: PLC0415

    _section("1. Backpropagation, number by number (seed 002 §3.4)")
    print("A 2-2-2 sigmoid network, inputs (0.1, 0.2), targets (0.4, 0.6), learning rate 0.5.")
    print(format_worked_example())


def run_demo(out_dir: str | None = None, quick: bool = False, plots: bool = True,
             seed: int = 0) -> int:
    """Run every lesson of the demo and print what it shows.

    Args:
        out_dir: folder for the figures (created); default ``./chainrule-demo``.
        quick: fewer epochs.
        plots: write figures (needs matplotlib, the ``plot`` extra).
        seed: random seed.

    Returns:
        The exit code (0).
    """
    from chainrule.utils import set_random_seed  # noqa: PLC0415

    set_random_seed(seed)
    out_dir = os.path.abspath(out_dir or "chainrule-demo")
    sections: list[Callable[[], None]] = [_worked_example]
    for section in sections:
        section()
    print()
    return 0
