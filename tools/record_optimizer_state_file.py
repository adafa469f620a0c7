"""Write a small ``.keras`` file with a trained optimizer's state, for the loading tests.

tests/fixtures/optimizer_state_adam.keras was written with this script by chainrule
0.1.0 before ``optimizer.iterations`` became a Variable (the step count was a plain int
then); tests/test_optimizer_iterations.py checks that such a file still loads, with
its step count, and that training goes on from it. Run it from the repository root:

    python tools/record_optimizer_state_file.py [OUT]
"""

from __future__ import annotations

import sys

import numpy as np

import chainrule as cr


def main(out: str = "tests/fixtures/optimizer_state_adam.keras") -> None:
    cr.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 4), dtype=np.float32), rng.random((12, 3), dtype=np.float32)
    model = cr.Sequential([cr.Input((4,)), cr.layers.Dense(3, name="dense")], name="small")
    model.compile(optimizer=cr.optimizers.Adam(0.01), loss="mse")
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)  # 6 steps
    model.save(out)
    print(f"wrote {out}: iterations={int(np.asarray(model.optimizer.get_state()['iterations']))}")


if __name__ == "__main__":
    main(*sys.argv[1:])
