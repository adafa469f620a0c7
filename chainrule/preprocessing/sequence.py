"""Keras 3's ``keras.preprocessing.sequence``: ``pad_sequences``.

Example:
    >>> from chainrule.preprocessing.sequence import pad_sequences
    >>> pad_sequences([[1, 2, 3]], maxlen=2, truncating="post").tolist()
    [[1, 2]]
"""

from chainrule.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
