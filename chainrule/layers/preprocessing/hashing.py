"""``Hashing``: strings or integers into a fixed number of buckets, as Keras hashes them."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.layers.base import Layer, _dtype_name
from chainrule.layers.preprocessing import _ops
from chainrule.layers.preprocessing._utils import check_choice, keep_integers, positive_int

__all__ = ["Hashing"]


class Hashing(Layer):
    """Hash each value into ``[0, num_bins)`` with Keras's (TensorFlow's) hash functions.

    Values are turned into text first (integers as their decimal digits,
    floats truncated to integers, as Keras does) and hashed with FarmHash's
    ``Fingerprint64`` — or, with a ``salt``, with SipHash-2-4 keyed by it —
    modulo the number of bins: the same buckets as Keras. With ``mask_value``,
    that value goes to bucket 0 and the others to ``[1, num_bins)``.

    Args:
        num_bins: the number of buckets (the mask's included).
        mask_value: a value to send to bucket 0.
        salt: an integer or a pair of integers: use the keyed hash.
        output_mode: ``"int"`` (bucket indices, int64), ``"one_hot"``,
            ``"multi_hot"`` or ``"count"``.
        sparse: must be False.
        **kwargs: layer arguments (``name``, ...).

    Example:
        >>> import chainrule as cr
        >>> cr.layers.Hashing(num_bins=3)(np.array([["A"], ["B"], ["C"], ["D"], ["E"]])).numpy()
        array([[1],
               [0],
               [1],
               [1],
               [2]])
    """

    _takes_strings = True

    def __init__(self, num_bins: int, mask_value: Any = None, salt: Any = None,
                 output_mode: str = "int", sparse: bool = False, **kwargs: Any) -> None:
        dtype = kwargs.pop("dtype", None)
        super().__init__(**kwargs)
        self.num_bins = positive_int(num_bins, "num_bins", "Hashing")
        check_choice(output_mode, ("int", "one_hot", "multi_hot", "count"), "output_mode",
                     "Hashing")
        if sparse:
            raise ValueError("Hashing: chainrule has no sparse tensors; outputs are dense. "
                             f"Received: sparse={sparse!r}")
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(
                    isinstance(s, (int, np.integer)) for s in salt):
                salt = [int(s) for s in salt]
            elif isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
                salt = [int(salt), int(salt)]
            else:
                raise ValueError("Hashing: salt must be an integer or a pair of integers. "
                                 f"Received: salt={salt!r}")
        self.mask_value = mask_value
        self.salt = salt
        self.output_mode = output_mode
        self.sparse = False
        self.dtype = (_dtype_name(dtype) if dtype is not None
                      else "int64" if output_mode == "int" else None)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(keep_integers(inputs), *args, **kwargs)

    def call(self, inputs: Any, training: Any = None) -> Any:
        x = inputs
        if self.output_mode == "one_hot" and x.ndim and x.shape[-1] == 1:
            from chainrule import ops  # noqa: PLC0415

            x = ops.squeeze(x, -1)
        bins = _ops.hash_bins(x, self.num_bins, self.mask_value, self.salt)
        if self.output_mode == "int":
            return bins
        return _ops.encode(bins, self.output_mode, self.num_bins, None, layer=self.name)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "salt": self.salt,
                       "mask_value": self.mask_value, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config
