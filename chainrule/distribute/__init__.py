"""Data-parallel training across processes (MPI), in the spirit of ``keras.distribution``.

Two lines make a training script data-parallel::

    import chainrule
    chainrule.distribute.set_distribution(chainrule.distribute.DataParallel())
    # ... build, compile and fit as usual, then run: mpiexec -n 4 python train.py

``batch_size`` is the global batch, split across the processes. Without
``mpiexec`` the same script trains in one process. Needs the ``mpi`` extra
(``pip install 'chainrule[mpi]'``). See ``docs/distribute.md``.
"""

from chainrule import _lazy
from chainrule.distribute._state import is_chief

# the data-parallel machinery loads when a program first names it
_lazy.attach(
    globals(),
    {".data_parallel": ["DataParallel", "MPICommunicator", "distribution", "set_distribution"]},
)

__all__ = ["DataParallel", "MPICommunicator", "distribution", "is_chief", "set_distribution"]
