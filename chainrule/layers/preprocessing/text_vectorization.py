"""``TextVectorization``: strings → token indices or bag-of-words vectors."""

from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np

from chainrule.autograd.engine import shape_error
from chainrule.layers.base import Layer
from chainrule.layers.preprocessing import _ops
from chainrule.layers.preprocessing._utils import adapt_batches, check_choice, keep_integers
from chainrule.layers.preprocessing.index_lookup import StringLookup

__all__ = ["TextVectorization"]

_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
# Keras's default punctuation (TensorFlow's regex_replace with this class)
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class TextVectorization(Layer):
    """Turn strings into sequences of token indices, or into one vector per string.

    Each string is standardized (ASCII lower-casing and punctuation removal
    by default, as TensorFlow's ``lower`` and Keras's regex do), split on
    whitespace, optionally turned into n-grams (joined by a space), and
    looked up in a vocabulary learned by :meth:`adapt` (most frequent first).
    In ``"int"`` mode index 0 is padding (the empty string) and 1 the
    out-of-vocabulary token ``"[UNK]"``.

    Args:
        max_tokens: the largest vocabulary, padding and OOV included.
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, None, or a callable taking and returning a
            NumPy array of strings.
        split: ``"whitespace"`` (default), ``"character"``, None, or a callable
            taking a NumPy array of strings and returning a list of token lists.
        ngrams: None, an integer n (all n-grams up to n), or a tuple of widths.
        output_mode: ``"int"`` (default), ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: ``"int"`` mode: pad or cut every sequence to it
            (default: the longest sequence of the batch).
        pad_to_max_tokens: make the vectors ``max_tokens`` wide.
        vocabulary: a list of tokens (or a file path) instead of :meth:`adapt`.
        idf_weights: IDF weights for ``"tf_idf"`` with a vocabulary.
        sparse: must be False.
        ragged: must be False (chainrule pads).
        encoding: accepted for Keras compatibility (text is UTF-8).
        **kwargs: layer arguments (``name``, ...).

    Input shape:
        ``(batch,)`` or ``(batch, 1)`` strings.

    Output shape:
        ``(batch, sequence_length)`` int64 in ``"int"`` mode, else
        ``(batch, vocabulary_size)`` floats.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.layers.TextVectorization(output_sequence_length=4)
        >>> layer.adapt(["The cat sat.", "The dog sat on the mat!"])
        >>> layer.get_vocabulary()[:4]
        ['', '[UNK]', 'the', 'sat']
        >>> layer(np.array(["the cat ran"])).numpy()
        array([[2, 7, 1, 0]])
    """

    _takes_strings = True

    def __init__(self, max_tokens: Any = None, standardize: Any = "lower_and_strip_punctuation",
                 split: Any = "whitespace", ngrams: Any = None, output_mode: str = "int",
                 output_sequence_length: Any = None, pad_to_max_tokens: bool = False,
                 vocabulary: Any = None, idf_weights: Any = None, sparse: bool = False,
                 ragged: bool = False, encoding: str = "utf-8", **kwargs: Any) -> None:
        kwargs.pop("vocabulary_size", None)
        kwargs.pop("dtype", None)
        super().__init__(**kwargs)
        if standardize is not None and not callable(standardize):
            check_choice(standardize, _STANDARDIZE, "standardize", "TextVectorization")
        if split is not None and not callable(split):
            check_choice(split, _SPLIT, "split", "TextVectorization")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        check_choice(output_mode, ("int", "multi_hot", "count", "tf_idf"), "output_mode",
                     "TextVectorization")
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool)
                                   and ngrams > 0) or (
                isinstance(ngrams, (tuple, list)) and ngrams and all(
                    isinstance(n, int) and n > 0 for n in ngrams))):
            raise ValueError("TextVectorization: ngrams must be None, a positive integer or a "
                             f"tuple of positive integers. Received: ngrams={ngrams!r}")
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError("TextVectorization: output_sequence_length is only used with "
                                 f"output_mode='int'. Received: output_mode={output_mode!r}")
            if isinstance(output_sequence_length, bool) or not isinstance(
                    output_sequence_length, (int, np.integer)) or output_sequence_length < 1:
                raise ValueError("TextVectorization: output_sequence_length must be None or a "
                                 "positive integer. Received: "
                                 f"output_sequence_length={output_sequence_length!r}")
        if sparse or ragged:
            raise ValueError("TextVectorization: chainrule's outputs are dense and padded. "
                             f"Received: sparse={sparse!r}, ragged={ragged!r}")
        self.max_tokens = max_tokens
        self.standardize = standardize
        self.split = split
        self.ngrams = tuple(ngrams) if isinstance(ngrams, list) else ngrams
        self._widths = (tuple(range(1, ngrams + 1)) if isinstance(ngrams, int)
                        else self.ngrams)
        self.output_mode = output_mode
        self.output_sequence_length = (None if output_sequence_length is None
                                       else int(output_sequence_length))
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.encoding = encoding
        self._lookup = StringLookup(max_tokens=max_tokens, mask_token="",
                                    output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens,
                                    vocabulary=vocabulary, idf_weights=idf_weights,
                                    name=f"{self.name}_lookup")
        self._tokenize_fn: Callable = self.tokenize
        self._lookup_fn: Callable = self._lookup.lookup_array

    # -- text processing (the op runs these) ----------------------------------------------
    def _standardize(self, text: np.ndarray) -> np.ndarray:
        std = self.standardize
        if std is None:
            return text
        if callable(std):
            return _ops.as_strings(std(text))
        flat = text.reshape(-1).tolist()
        if std in ("lower", "lower_and_strip_punctuation"):
            flat = [s.translate(_ASCII_LOWER) for s in flat]
        if std in ("strip_punctuation", "lower_and_strip_punctuation"):
            flat = [_PUNCTUATION.sub("", s) for s in flat]
        return np.array(flat, dtype=str).reshape(text.shape) if flat else text

    def tokenize(self, inputs: Any) -> list:
        """The token lists of a batch of strings (standardized, split, n-grams).

        Args:
            inputs: strings of shape ``(batch,)`` or ``(batch, 1)``.

        Returns:
            One list of tokens per string.

        Example:
            >>> TextVectorization(ngrams=2).tokenize(np.array(["A b, c"]))
            [['a', 'b', 'c', 'a b', 'b c']]
        """
        text = _ops.as_strings(inputs)
        if text.ndim == 0:
            text = text.reshape(1)
        if text.ndim > 1:
            if text.shape[-1] != 1 or text.ndim > 2:
                raise shape_error(
                    f'TextVectorization layer "{self.name}" expects one string per sample: '
                    "inputs of shape (batch,) or (batch, 1). Received: inputs of shape "
                    f"{text.shape}")
            text = text[:, 0]
        text = self._standardize(text)
        if self.split is None:
            docs = [[s] for s in text.tolist()]
        elif callable(self.split):
            docs = [[str(t.decode("utf-8") if isinstance(t, bytes) else t) for t in d]
                    for d in self.split(text)]
        elif self.split == "character":
            docs = [list(s) for s in text.tolist()]
        else:
            docs = [[t for t in _WHITESPACE.split(s) if t] for s in text.tolist()]
        if self._widths is not None:
            docs = [[" ".join(d[i:i + w]) for w in self._widths for i in range(len(d) - w + 1)]
                    for d in docs]
        return docs

    # -- vocabulary --------------------------------------------------------------------------
    def adapt(self, data: Any, batch_size: Any = None, steps: Any = None) -> None:
        """Learn the vocabulary from strings: the most frequent tokens, up to ``max_tokens``.

        Args:
            data: a list or array of strings, or an iterable of batches of them.
            batch_size: read an array in batches of this many strings.
            steps: read at most this many batches.

        Raises:
            ValueError: for empty data or a layer with a fixed vocabulary.
        """
        label = f'TextVectorization layer "{self.name}"'
        if self._lookup._has_input_vocabulary:
            raise ValueError(f"{label} has a vocabulary set through vocabulary= or "
                             "set_vocabulary(); it cannot be adapted. Received: a vocabulary "
                             f"of {len(self._lookup._tokens)} tokens")
        self._lookup.learn(self.tokenize(np.asarray(b).reshape(-1)) for b in adapt_batches(
            data, label, steps, batch_size))

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The tokens in index order (padding ``""`` and ``"[UNK]"`` first unless excluded)."""
        return self._lookup.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The number of indices, padding and OOV included."""
        return self._lookup.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Set the vocabulary (and IDF weights for ``"tf_idf"``) directly (see StringLookup)."""
        self._lookup.set_vocabulary(vocabulary, idf_weights)

    # -- calling ----------------------------------------------------------------------------
    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(keep_integers(inputs), *args, **kwargs)  # text as objects too

    def call(self, inputs: Any, training: Any = None) -> Any:
        if self.output_mode == "int":
            return _ops.TextToIds(self._tokenize_fn, self._lookup_fn,
                                  self.output_sequence_length, 0)(inputs)
        ids = _ops.TextToIds(self._tokenize_fn, self._lookup_fn, None, -1)(inputs)
        lk = self._lookup
        if not lk._tokens and not self.pad_to_max_tokens:
            raise RuntimeError(f'TextVectorization layer "{self.name}": with output_mode='
                               f"{self.output_mode!r}, set the vocabulary (vocabulary= or "
                               "adapt) before calling the layer. Received: an empty vocabulary")
        return _ops.encode(ids, self.output_mode, lk._depth(), None, idf=lk._idf,
                           drop_out_of_range=True, layer=self.name)

    def get_config(self) -> dict:
        from chainrule._registry import get_registered_name  # noqa: PLC0415

        def fn_name(f: Any) -> Any:
            return f if f is None or isinstance(f, str) else get_registered_name(f)

        lk = self._lookup
        idf = None
        if lk._idf is not None:
            start = lk._token_start()
            idf = lk._idf[start:start + len(lk._tokens)].tolist()
        config = super().get_config()
        config.update({
            "max_tokens": self.max_tokens, "standardize": fn_name(self.standardize),
            "split": fn_name(self.split),
            "ngrams": list(self.ngrams) if isinstance(self.ngrams, tuple) else self.ngrams,
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "pad_to_max_tokens": self.pad_to_max_tokens, "sparse": False, "ragged": False,
            "vocabulary": lk.get_vocabulary(False) if lk._tokens else None,
            "idf_weights": idf, "encoding": self.encoding,
        })
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> "TextVectorization":
        from chainrule._registry import get_registered_object  # noqa: PLC0415

        config = dict(config)
        for key, known in (("standardize", _STANDARDIZE), ("split", _SPLIT)):
            value = config.get(key)
            if isinstance(value, str) and value not in known:
                fn = get_registered_object(value, custom_objects)
                if fn is None:
                    raise ValueError(
                        f"TextVectorization: the {key} function {value!r} is not known; pass "
                        f"it in custom_objects or register it. Received: {key}={value!r}")
                config[key] = fn
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)
