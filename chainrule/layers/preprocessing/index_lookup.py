"""``StringLookup`` and ``IntegerLookup``: map tokens to vocabulary indices (and back)."""

from __future__ import annotations

import collections
import math
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.layers.base import Layer, touch_structure
from chainrule.layers.preprocessing import _ops
from chainrule.layers.preprocessing._utils import (
    adapt_batches,
    check_choice,
    keep_integers,
    to_numpy,
)

__all__ = ["IndexLookup", "StringLookup", "IntegerLookup"]

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


class IndexLookup(Layer):
    """The shared machinery of :class:`StringLookup` and :class:`IntegerLookup`.

    Indices are laid out as Keras lays them out: the mask token (``output_mode=
    "int"`` only) at 0, then ``num_oov_indices`` out-of-vocabulary buckets,
    then the vocabulary, most frequent token first (ties: the greater token
    first, as Keras sorts). Not used directly.
    """

    _strings = True

    def __init__(self, max_tokens: Any = None, num_oov_indices: int = 1, mask_token: Any = None,
                 oov_token: Any = None, vocabulary: Any = None, idf_weights: Any = None,
                 invert: bool = False, output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, salt: Any = None, oov_method: str = "floormod",
                 **kwargs: Any) -> None:
        kind = type(self).__name__
        kwargs.pop("vocabulary_dtype", None)
        kwargs.pop("vocabulary_size", None)
        kwargs.pop("encoding", None)
        kwargs.pop("has_input_vocabulary", None)
        kwargs.pop("dtype", None)
        super().__init__(**kwargs)
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(
                max_tokens, (int, np.integer)) or max_tokens <= 1):
            raise ValueError(f"{kind}: max_tokens, if set, must be an integer greater than 1. "
                             f"Received: max_tokens={max_tokens!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{kind}: pad_to_max_tokens=True needs max_tokens. Received: "
                             "max_tokens=None")
        if isinstance(num_oov_indices, bool) or not isinstance(
                num_oov_indices, (int, np.integer)) or num_oov_indices < 0:
            raise ValueError(f"{kind}: num_oov_indices must be an integer >= 0. Received: "
                             f"num_oov_indices={num_oov_indices!r}")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        check_choice(output_mode, _MODES, "output_mode", kind)
        if invert and output_mode != "int":
            raise ValueError(f"{kind}: output_mode must be 'int' when invert=True. Received: "
                             f"output_mode={output_mode!r}")
        if sparse:
            raise ValueError(f"{kind}: chainrule has no sparse tensors; outputs are dense. "
                             f"Received: sparse={sparse!r}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{kind}: idf_weights is only used with output_mode='tf_idf'. "
                             f"Received: output_mode={output_mode!r}")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(f"{kind}: with a vocabulary and output_mode='tf_idf', idf_weights "
                             "must be given too. Received: idf_weights=None")
        check_choice(oov_method, ("floormod", "farmhash"), "oov_method", kind)
        if salt is not None and not self._strings and oov_method != "farmhash":
            raise ValueError(f"{kind}: salt is only used with oov_method='farmhash'. Received: "
                             f"oov_method={oov_method!r}")
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = [int(s) for s in salt]
            elif isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
                salt = [int(salt), int(salt)]
            else:
                raise ValueError(f"{kind}: salt must be an integer or a pair of integers. "
                                 f"Received: salt={salt!r}")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.salt = salt
        self.oov_method = oov_method
        self._tokens: list = []
        self._table: dict = {}
        self._idf: Any = None
        self._has_input_vocabulary = vocabulary is not None
        # several OOV buckets: strings (and integers with 'farmhash') by their fingerprint,
        # other integers by floormod
        self._hashed = self._hash_oov if self._strings or oov_method == "farmhash" else None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- layout ------------------------------------------------------------------------
    def _oov_start(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self) -> int:
        return self._oov_start() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The number of indices: vocabulary, OOV buckets and the mask (``output_mode='int'``).

        Example:
            >>> import chainrule as cr
            >>> cr.layers.StringLookup(vocabulary=["a", "b"]).vocabulary_size()
            3
        """
        return len(self._tokens) + self._token_start()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The tokens in index order (the mask and OOV tokens first, unless excluded).

        Example:
            >>> import chainrule as cr
            >>> cr.layers.StringLookup(vocabulary=["a", "b"]).get_vocabulary()
            ['[UNK]', 'a', 'b']
        """
        tokens = [self._py(t) for t in self._tokens]
        if not include_special_tokens:
            return tokens
        return ([self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices
                + tokens)

    def _py(self, token: Any) -> Any:
        return str(token) if self._strings else int(token)

    def _key(self, token: Any) -> Any:
        if self._strings:
            return token.decode("utf-8") if isinstance(token, bytes) else str(token)
        return int(token)

    # -- setting the vocabulary --------------------------------------------------------------
    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Set the vocabulary (and the IDF weights for ``output_mode='tf_idf'``) directly.

        The vocabulary may start with the special tokens in their places (the
        mask, then the OOV tokens), as :meth:`get_vocabulary` returns it.

        Args:
            vocabulary: a list, tuple or 1-D array of tokens, or a path to a
                text file with one token per line.
            idf_weights: one weight per token, for ``output_mode='tf_idf'``.

        Raises:
            ValueError: for an empty vocabulary, repeated tokens, a special
                token elsewhere than at the start, more than ``max_tokens``,
                or IDF weights that do not fit.
        """
        kind = type(self).__name__
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{kind}: idf_weights must be set when output_mode='tf_idf'. "
                             "Received: idf_weights=None")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{kind}: idf_weights is only used with output_mode='tf_idf'. "
                             f"Received: output_mode={self.output_mode!r}")
        if isinstance(vocabulary, str):
            with open(vocabulary, encoding="utf-8") as f:
                lines = f.read().splitlines()
            while lines and lines[-1] == "":
                lines.pop()
            vocabulary = lines
        vocab = [self._key(t) for t in np.asarray(to_numpy(vocabulary)).reshape(-1).tolist()]
        if not vocab:
            raise ValueError(f"{kind}: cannot set an empty vocabulary. Received: vocabulary=[]")
        start = self._token_start()
        special = [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices
        special = [self._key(t) if t is not None else None for t in special]
        found_special = bool(special) and vocab[:start] == special
        tokens = vocab[start:] if found_special else vocab
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(f"{kind}: the vocabulary has repeated tokens; make them unique. "
                             f"Received: repeated tokens {repeated[:10]}")
        for name, tok in (("mask_token", self.mask_token), ("oov_token", self.oov_token)):
            if tok is None or (name == "oov_token" and not self.invert):
                continue
            if self._key(tok) in tokens:
                raise ValueError(
                    f"{kind}: found the reserved {name} in the vocabulary. Leave the special "
                    f"tokens out, or put them only at the start, in this order: {special}. "
                    f"Received: {name}={tok!r} at vocabulary index "
                    f"{vocab.index(self._key(tok))}")
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError(f"{kind}: the vocabulary ({start + len(tokens)} with the special "
                             f"tokens) is larger than max_tokens={self.max_tokens}. Received: "
                             f"vocabulary of {len(vocab)} tokens")
        idf = None
        if idf_weights is not None:
            weights = np.asarray(to_numpy(idf_weights), dtype=np.float64)
            if weights.ndim != 1 or len(weights) != len(vocab):
                raise ValueError(f"{kind}: idf_weights must be 1-D with one weight per "
                                 f"vocabulary entry ({len(vocab)}). Received: idf_weights of "
                                 f"shape {weights.shape}")
            front = 0 if found_special else start
            front_value = 0.0 if found_special else float(np.average(weights))
            back = (self.max_tokens - front - len(weights)
                    if self.pad_to_max_tokens and self.max_tokens is not None else 0)
            idf = np.concatenate([np.full(front, front_value), weights, np.zeros(max(back, 0))])
        self._install(tokens, idf)
        self._has_input_vocabulary = True

    def _install(self, tokens: list, idf: Any) -> None:
        start = self._token_start()
        self._tokens = list(tokens)
        self._table = {t: start + i for i, t in enumerate(self._tokens)}
        self._idf = None if idf is None else idf.astype(backend.floatx())
        touch_structure()  # a captured step holds the old table: record it again

    # -- adapt ---------------------------------------------------------------------------
    def adapt(self, data: Any, batch_size: Any = None, steps: Any = None) -> None:
        """Learn the vocabulary from ``data``: the most frequent tokens, up to ``max_tokens``.

        Tokens are ordered by count, most frequent first; ties put the greater
        token first (Keras's order). With ``output_mode='tf_idf'``, each row
        of the data is a document and the IDF weights ``log(1 + documents /
        (1 + documents containing the token))`` are learned too.

        Args:
            data: an array or list of tokens, or an iterable of batches.
            batch_size: read an array in batches of this many rows.
            steps: read at most this many batches.

        Raises:
            ValueError: for empty data, or a layer given a fixed vocabulary.
        """
        kind = type(self).__name__
        if self._has_input_vocabulary:
            raise ValueError(f'{kind} layer "{self.name}" has a vocabulary set through '
                             "vocabulary= or set_vocabulary(); it cannot be adapted. Received: "
                             f"a vocabulary of {len(self._tokens)} tokens")
        single = not hasattr(data, "__next__") and (
            isinstance(data, (list, tuple, np.ndarray)) or hasattr(data, "__array__"))

        def documents() -> Any:
            for batch in adapt_batches(data, f'{kind} layer "{self.name}"', steps, batch_size):
                batch = self._keys_of(batch)
                if batch.ndim == 0:
                    batch = batch.reshape(1)
                if batch.ndim == 1:  # an array: each value a document; a batch: one document
                    batch = batch[:, None] if single else batch[None]
                yield [row.tolist() for row in batch.reshape(len(batch), -1)]

        self.learn(documents())

    def learn(self, batches: Any) -> None:
        """Learn the vocabulary (and IDF weights) from batches of documents (lists of tokens).

        The counting and ordering of :meth:`adapt`, for callers that tokenize
        themselves (``TextVectorization``).

        Args:
            batches: an iterable of lists of documents, each a list of tokens.
        """
        counts: collections.Counter = collections.Counter()
        doc_counts: collections.Counter = collections.Counter()
        n_docs = 0
        for docs in batches:
            for doc in docs:
                counts.update(doc)
                if self.output_mode == "tf_idf":
                    doc_counts.update(set(doc))
            n_docs += len(docs)
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(self._key(special), None)
        ordered = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        if self.max_tokens is not None:
            ordered = ordered[:self.max_tokens - self._token_start()]
        tokens = [t for t, _ in ordered]
        idf = None
        if self.output_mode == "tf_idf":
            w = np.array([math.log(1 + n_docs / (1 + doc_counts[t])) for t in tokens])
            w = w.astype(backend.floatx()).astype(np.float64)
            front = np.full(self._token_start(), float(np.mean(w)) if len(w) else 0.0)
            idf = np.concatenate([front, w])
            if self.pad_to_max_tokens and self.max_tokens is not None:
                idf = np.concatenate([idf, np.zeros(max(self.max_tokens - len(idf), 0))])
        self._install(tokens, idf)

    def _keys_of(self, batch: np.ndarray) -> np.ndarray:
        if self._strings:
            return _ops.as_strings(batch)
        return np.asarray(batch).astype(np.int64)

    # -- calling ---------------------------------------------------------------------------
    def _hash_oov(self, tokens: np.ndarray, n: int) -> np.ndarray:
        return _ops.string_buckets(np.asarray(tokens).astype(str), n, self.salt)

    def _depth(self) -> int:
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def lookup_array(self, keys: np.ndarray) -> np.ndarray:
        """Indices of an array of tokens, on NumPy (what the layer's op computes)."""
        return _ops.Lookup(self._table, self._strings, self.num_oov_indices, self._oov_start(),
                           self._mask_key(), self._mask_index(), self._hashed,
                           self.name).forward(keys)

    def _mask_key(self) -> Any:
        return None if self.mask_token is None else self._key(self.mask_token)

    def _mask_index(self) -> int:
        return 0 if self.output_mode == "int" else -1  # -1: dropped by the encodings

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(keep_integers(inputs), *args, **kwargs)

    def _symbolic_call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        # the dry run on placeholder tokens only finds the output's shape and dtype: with
        # num_oov_indices=0 a placeholder out of the vocabulary must not raise there
        object.__setattr__(self, "_dry_run", True)
        try:
            return super()._symbolic_call(inputs, *args, **kwargs)
        finally:
            object.__setattr__(self, "_dry_run", False)

    def call(self, inputs: Any, training: Any = None) -> Any:
        if self.output_mode != "int" and not self._tokens and not self.pad_to_max_tokens:
            raise RuntimeError(
                f'{type(self).__name__} layer "{self.name}": with output_mode='
                f"{self.output_mode!r} and pad_to_max_tokens=False, set the vocabulary (pass "
                "vocabulary= or call adapt) before calling the layer. Received: an empty "
                "vocabulary")
        if self.invert:
            vocab = self.get_vocabulary()
            dtype = object if self._strings else np.int64
            tokens = np.array(vocab, dtype=dtype) if vocab else np.array([], dtype=dtype)
            inv = self._inverse_cache = _same_or(getattr(self, "_inverse_cache", None),
                                                  (tokens, self.oov_token))
            return _ops.lookup(inputs, self._table, self._strings, inverse=inv,
                               layer=self.name)
        num_oov = self.num_oov_indices or int(getattr(self, "_dry_run", False))
        idx = _ops.lookup(inputs, self._table, self._strings, num_oov,
                          self._oov_start(), self._mask_key(), self._mask_index(),
                          self._hashed, self.name)
        if self.output_mode == "int":
            return idx
        return _ops.encode(idx, self.output_mode, self._depth(), None, idf=self._idf,
                           drop_out_of_range=True, layer=self.name)

    def get_config(self) -> dict:
        config = super().get_config()
        idf = None
        if self._idf is not None:
            start = self._token_start()
            idf = self._idf[start:start + len(self._tokens)].tolist()
        config.update({
            "invert": self.invert, "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
            "mask_token": self.mask_token, "output_mode": self.output_mode,
            "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary": self.get_vocabulary(False) if self._tokens else None,
            "idf_weights": idf, "salt": self.salt, "oov_method": self.oov_method,
        })
        return config


def _same_or(cached: Any, new: tuple) -> tuple:
    """The cached ``(tokens, oov)`` pair when equal (an op's config stays the same object)."""
    if cached is not None and cached[1] == new[1] and cached[0].shape == new[0].shape and bool(
            (cached[0] == new[0]).all()):
        return cached
    return new


class StringLookup(IndexLookup):
    """Map strings to integer indices from a vocabulary (Keras's ``StringLookup``).

    Index 0 is the mask (when ``mask_token`` is set and ``output_mode='int'``),
    then ``num_oov_indices`` buckets for unknown strings (with several, a
    string's bucket is its FarmHash fingerprint modulo their number, as in
    Keras), then the vocabulary. :meth:`adapt` learns the vocabulary from
    data; ``invert=True`` maps indices back to strings.

    Args:
        max_tokens: the largest vocabulary, special tokens included.
        num_oov_indices: buckets for out-of-vocabulary strings (default 1).
        mask_token: a string that maps to 0 (default None: no mask).
        oov_token: the token ``invert`` returns for unknown indices (``"[UNK]"``).
        vocabulary: a list of strings (or a file path) instead of ``adapt``.
        idf_weights: IDF weights for ``output_mode='tf_idf'`` with a vocabulary.
        invert: map indices to strings.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: make the encodings ``max_tokens`` wide.
        sparse: must be False.
        encoding: accepted for Keras compatibility (text is UTF-8).
        name: the layer's name.
        salt: an integer or pair: hash unknown strings with SipHash keyed by it.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.StringLookup(vocabulary=["a", "b", "c", "d"])
        >>> layer(np.array([["a", "c", "d"], ["d", "z", "b"]])).numpy()
        array([[1, 3, 4],
               [4, 0, 2]])
    """

    _strings = True
    _takes_strings = True

    def __init__(self, max_tokens: Any = None, num_oov_indices: int = 1, mask_token: Any = None,
                 oov_token: str = "[UNK]", vocabulary: Any = None, idf_weights: Any = None,
                 invert: bool = False, output_mode: str = "int", pad_to_max_tokens: bool = False,
                 sparse: bool = False, encoding: str = "utf-8", name: Any = None,
                 salt: Any = None, **kwargs: Any) -> None:
        self.encoding = encoding
        kwargs.pop("oov_method", None)  # strings always hash (Keras's config lists it)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens, salt=salt,
                         name=name, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["encoding"] = self.encoding
        return config


class IntegerLookup(IndexLookup):
    """Map integers to contiguous indices from a vocabulary (Keras's ``IntegerLookup``).

    The layout is :class:`StringLookup`'s; with several OOV buckets an
    unknown integer goes to bucket ``value mod num_oov_indices``, as in Keras.

    Args:
        max_tokens: the largest vocabulary, special tokens included.
        num_oov_indices: buckets for out-of-vocabulary integers (default 1).
        mask_token: an integer that maps to 0 (default None: no mask).
        oov_token: what ``invert`` returns for unknown indices (default -1).
        vocabulary: a list of integers instead of ``adapt``.
        vocabulary_dtype: ``"int64"`` (default) or ``"int32"``.
        idf_weights: IDF weights for ``output_mode='tf_idf'`` with a vocabulary.
        invert: map indices to integers.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        sparse: must be False.
        pad_to_max_tokens: make the encodings ``max_tokens`` wide.
        oov_method: ``"floormod"`` (default) or ``"farmhash"`` (the fingerprint of
            the integer's digits, as Keras hashes them) for several OOV buckets.
        salt: with ``"farmhash"``: hash with SipHash keyed by it.
        name: the layer's name.
        **kwargs: layer arguments.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.IntegerLookup()
        >>> layer.adapt(np.array([12, 36, 1138, 42, 42]))
        >>> layer.get_vocabulary()
        [-1, 42, 1138, 36, 12]
        >>> layer(np.array([42, 7])).numpy()
        array([1, 0])
    """

    _strings = False

    def __init__(self, max_tokens: Any = None, num_oov_indices: int = 1, mask_token: Any = None,
                 oov_token: int = -1, vocabulary: Any = None, vocabulary_dtype: str = "int64",
                 idf_weights: Any = None, invert: bool = False, output_mode: str = "int",
                 sparse: bool = False, pad_to_max_tokens: bool = False,
                 oov_method: str = "floormod", salt: Any = None, name: Any = None,
                 **kwargs: Any) -> None:
        if vocabulary_dtype not in ("int32", "int64"):
            raise ValueError("IntegerLookup: vocabulary_dtype must be 'int32' or 'int64'. "
                             f"Received: vocabulary_dtype={vocabulary_dtype!r}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens, salt=salt,
                         oov_method=oov_method, name=name, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["vocabulary_dtype"] = "int64"
        return config
